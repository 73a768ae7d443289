"""SIDES POS: username/password sign-in, stores, products and daily sales reports.

SIDES publishes no API documentation; ``api`` holds every path and key name of the API we
assume (reference sides.md §6), so the real one can be slotted in there alone.
"""
