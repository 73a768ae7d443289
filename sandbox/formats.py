"""The date and time forms the POS stand-ins take in a request, one rule each.

Python's ``date.fromisoformat`` and ``datetime.fromisoformat`` take more than these APIs do (a
space for the ``T``, the basic ``20220921T061156Z`` form, ISO week dates, no offset), so a
stand-in that parsed with them alone would accept what the real server refuses.
"""

from __future__ import annotations

import re
from datetime import date, datetime

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""``YYYY-MM-DD``: Lightspeed's ``format: date`` and SIDES' business dates (reference
sides.md §6.1)."""

DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
"""RFC 3339, with an offset: Lightspeed's ``format: date-time`` (e.g.
``2022-09-21T06:11:56-04:00``, reference lightspeed-kseries.md §6.2) and SIDES' timestamps
(sides.md §6.1). A ``+`` sent unencoded in a query string arrives as a space: not this."""


def parse_date(raw: str) -> date:
    """``raw`` as a ``YYYY-MM-DD`` date; ``ValueError`` for any other form."""
    if not DATE.fullmatch(raw):
        raise ValueError(raw)
    return date.fromisoformat(raw)


def parse_date_time(raw: str) -> datetime:
    """``raw`` as an RFC 3339 instant with its offset; ``ValueError`` for any other form
    (digits past microseconds are cut, as ``fromisoformat`` does)."""
    if not DATE_TIME.fullmatch(raw):
        raise ValueError(raw)
    return datetime.fromisoformat(raw.upper())
