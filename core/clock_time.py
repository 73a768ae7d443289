"""A time of day as people write it: ``5:00``, ``05:00``, ``17:30`` (24 h), or an hour alone."""

from __future__ import annotations

import re
from datetime import time

from stockpot.core.errors import ValidationFailed
from stockpot.core.words import quoted

_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?", re.ASCII)


def parse_clock_time(text: str) -> time:
    """``HH:MM`` or ``H:MM`` (24 h) or an hour alone (``6``); ``time.fromisoformat`` refused
    ``5:00``, the way a day start or a transfer time is written on a kitchen's wall."""
    match = _CLOCK.fullmatch(text.strip())
    if match is not None and int(match[1]) < 24 and int(match[2] or 0) < 60:
        return time(int(match[1]), int(match[2] or 0))
    raise ValidationFailed(f"{quoted(text)} is not a time of day: write it as HH:MM, e.g. 06:30")
