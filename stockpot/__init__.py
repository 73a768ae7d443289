"""Stockpot: restaurant POS sales into an exact inventory ledger, run from Slack.

The subpackages live in the repository's top-level folders (``core/``, ``bot/``,
``handlers/``, ``migrations/``, ``sandbox/``) and are installed as ``stockpot.core``,
``stockpot.bot``, ... (see ``[tool.setuptools] package-dir`` in ``pyproject.toml``).
"""
