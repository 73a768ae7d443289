"""Row ids that arrive as text (button values, option values, command words)."""

from __future__ import annotations

MAX_ID = 2**31 - 1
"""The largest id a table's key holds (PostgreSQL INTEGER); larger text is no id of ours."""


def parse_id(text: str) -> int | None:
    """``text`` as a row id, or ``None``: ASCII digits only (``str.isdigit`` also accepts
    ``²`` and other scripts' digits), within the range of a key."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
