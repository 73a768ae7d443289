"""Words for people: counts as they are written."""

from __future__ import annotations


def plural(number: int, one: str, many: str | None = None) -> str:
    """``1 ingredient``, ``3 ingredients``, ``2 days``: a count as people write it (never
    "1 items" nor "item(s)")."""
    return f"{number:,} {one if number == 1 else (many or one + 's')}"
