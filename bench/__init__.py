"""Benchmarks that print figures (``python -m bench.<name>``); never part of the test suite."""
