"""Business dates: which day a sale belongs to, and the instants a business day spans.

A location's business day starts at its ``business_day_start`` in its own timezone (05:00
means a sale at 00:40 belongs to the previous date). Windows are built from local wall-clock
times, so a day over a DST change lasts 23 or 25 hours. A start time that does not exist on
the day (inside a spring-forward gap) resolves as Python's ``zoneinfo`` does with ``fold=0``:
with the offset before the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

ZONE_MAX = 64
"""The longest timezone name Stockpot keeps (IANA's are under 40)."""


NOT_IANA = "localtime"
"""A file of the machine's zone directory that ``available_timezones`` lists but is no IANA
name: the host's own setting, another zone on another machine, and missing from the
``tzdata`` package (``posix/…``, ``right/…`` and ``posixrules`` it leaves out itself)."""


@cache
def _iana() -> frozenset[str]:
    return frozenset(available_timezones() - {NOT_IANA})


def known_zone(name: str) -> bool:
    """Whether ``name`` is an IANA timezone ``zoneinfo`` can load: a location's or report's
    timezone is checked where it comes in, since every clock of the schedule reads it later
    (one unknown name failed every company's scheduler tick). ``ZoneInfo`` alone loads any
    file under the zone directory: ``localtime``, ``posix/Europe/Berlin``, ``right/UTC`` were
    taken, and a name this host loads need not load on the next (a report timezone of
    ``localtime`` failed each tick and command there). A name longer than a file name raised
    ``OSError`` out of ``zoneinfo``."""
    if not name or len(name) > ZONE_MAX or name not in _iana():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@dataclass(frozen=True)
class DayStart:
    """A location's clock as far as business dates go: its timezone and when its day starts."""

    timezone: ZoneInfo
    start: time

    def date_of(self, instant: datetime) -> date:
        """The business date of ``instant``; a naive one is read as this location's wall
        clock (``fold=0`` in a DST fold, the offset before the change inside a gap)."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=self.timezone)
        return business_date_of(instant, self.timezone, self.start)


def business_day_window(
    day: date, timezone: ZoneInfo, day_start: time
) -> tuple[datetime, datetime]:
    """``[start, end)`` of business date ``day``, in UTC."""
    start = datetime.combine(day, day_start, tzinfo=timezone)
    end = datetime.combine(day + timedelta(days=1), day_start, tzinfo=timezone)
    return start.astimezone(UTC), end.astimezone(UTC)


def business_date_of(instant: datetime, timezone: ZoneInfo, day_start: time) -> date:
    """The business date whose window holds ``instant`` (defined through the window itself,
    so the two can never disagree, DST days included)."""
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: give the sale's time with its offset")
    day = instant.astimezone(timezone).date()
    start, end = business_day_window(day, timezone, day_start)
    if instant < start:
        return day - timedelta(days=1)
    if instant >= end:
        return day + timedelta(days=1)
    return day


def day_start_at(instant: datetime, timezone: ZoneInfo, known: time | None = None) -> time | None:
    """The wall-clock day start a business day's start ``instant`` stands for (Lightspeed
    tells a location's day start only as the next day's first instant). Its local time; but
    a start inside a spring-forward gap (02:30 in Berlin on 29 March 2026) is the instant
    after the gap (03:30 summer time), which a start of 03:30 is too: then ``known`` when it
    is one of the two, else ``None`` (the day after tells). It was learnt as 03:30, and a
    02:30 location's next day and schedule were an hour off until its next transfer."""
    local = instant.astimezone(timezone)
    wall = local.time()
    # The offset of the day's midnight is the one before any change that day.
    before = datetime.combine(local.date(), time(0), timezone).utcoffset()
    gapped = instant.astimezone(UTC).replace(tzinfo=None) + (before or timedelta(0))
    at = instant.astimezone(UTC)
    if gapped.date() != local.date() or gapped.time() == wall:
        return wall
    if datetime.combine(local.date(), gapped.time(), timezone).astimezone(UTC) != at:
        return wall
    return known if known in (wall, gapped.time()) else None
