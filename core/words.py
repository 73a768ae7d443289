"""Words for people: counts and times as they are written."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo


def grouped(value: Decimal | int) -> str:
    """A number as people read it: thousands grouped with ``,``, a ``.`` for decimals, plain
    notation, its decimals as given (``1,000,000``, ``1,234.50``, ``-0.5``). The one grouping
    rule for every number shown to people (money, quantities, counts), so a stock of
    1,000,000 kg reads like its value of 1,000,000.00 EUR; stored, exported and ``--json``
    values stay ungrouped (``core.exact.format_decimal``) for programs to read."""
    return f"{Decimal(value):,f}"


def figure(value: Decimal | int) -> str:
    """An exact quantity for people (a CLI table, a CSV preview): every decimal kept,
    trailing zeros dropped, grouped (``1,000,000``, ``1,234.5``)."""
    number = Decimal(value)
    return "0" if number.is_zero() else grouped(number.normalize())


def plural(number: int, one: str, many: str | None = None) -> str:
    """``1 ingredient``, ``3 ingredients``, ``2 days``: a count as people write it (never
    "1 items" nor "item(s)")."""
    return f"{grouped(number)} {one if number == 1 else (many or one + 's')}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


ECHO_LIMIT = 80
"""How much of what someone typed a refusal repeats: enough to find the line, never all of
a 10,000-character one (a message that was longer than the command it answered)."""


def echoed(text: str) -> str:
    return clip(text, ECHO_LIMIT)


def quoted(written: str) -> str:
    """What someone wrote, quoted in a refusal as written (``'1e-400'``, its start when long):
    their own text is never regrouped nor reformatted."""
    return f"'{echoed(written)}'"


def local_time(instant: datetime, zone: ZoneInfo, now: datetime | None = None) -> str:
    """A time as people read it: on the clock of the place it is about, with that clock's
    zone (``2026-11-27 06:10 CET``; ``06:10 CET`` when ``now`` is the same local day). One
    rule for every message that shows a time, so none reads as another's clock."""
    local = instant.astimezone(zone)
    same_day = now is not None and local.date() == now.astimezone(zone).date()
    return local.strftime("%H:%M %Z" if same_day else "%Y-%m-%d %H:%M %Z")


def named_day(when: date) -> str:
    """One day a heading or a sentence is about: its weekday, which a kitchen thinks in, and
    the date as commands take it (``Fri 2026-12-04``); lists, spans and cells show the bare
    date (``2026-12-04``), as it is typed back. The one rule for naming a day; the
    daily report's "Friday 04 December 2026", a pending note's "Sat 05 Dec" and the ISO
    dates next to them read as three products."""
    return f"{when:%a} {when.isoformat()}"
