"""Text that is safe to write out: a cell a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@`` first) gets a leading apostrophe wherever Stockpot writes it (Slack, messages,
CSV files), so pasting it anywhere cannot turn it into a formula. Used by the CSV reader and
the CSV writer alike, and by neither's side of the other."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: str) -> str:
    """``value`` as text that no spreadsheet evaluates: a leading apostrophe before a
    formula's first character."""
    return "'" + value if value.startswith(FORMULA_START) else value


def inert(value: str, limit: int = 60) -> str:
    """``value`` as text that no spreadsheet evaluates, cut to ``limit`` characters."""
    return neutral(value if len(value) <= limit else value[: limit - 1] + "…")
