"""Turning cells into values, and values back into text that is safe to show.

Nothing read from a file is ever evaluated. A cell that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@`` first) is kept as text, and shown with a leading apostrophe
wherever it is written back out (Slack, messages, CSV files), so pasting it anywhere cannot
turn it into a formula.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache

from stockpot.core.business_day import DayStart
from stockpot.core.exact import write_a_number
from stockpot.core.periods import outside_dates
from stockpot.core.quantities import plain, range_problem

CACHED = 4096
"""Distinct cells remembered by the parsers: bounded, so memory stays flat on any file."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
"""ASCII digits only: a bare digit class also matches ``١٢``, ``１２`` and ``²``, which
``Decimal`` then read as 12, 12 and 2 (a till's export writes ASCII digits; anything else is
refused with its line, like any cell that is not a number). Scientific notation (``1E+3``, as
a spreadsheet writes a large number) is a number, as it is typed in Slack: ``1e309`` is then
too large by the one range rule (``range_problem``), in either place."""
_THOUSANDS = {
    ",": re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", re.ASCII),
    ".": re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", re.ASCII),
}


def is_number(value: str) -> bool:
    return bool(_NUMBER.fullmatch(value))


@lru_cache(maxsize=CACHED)
def parse_quantity(value: str, decimal_separator: str) -> Decimal:
    """A decimal written with ``decimal_separator`` (``1,5`` or ``1.5``; thousands groups
    such as ``1.234,5`` are understood). Raises ``ValueError`` with the fix. Remembered:
    an export repeats the same few quantities (and dates) on every row."""
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    other = "." if decimal_separator == "," else ","
    if _THOUSANDS[decimal_separator].fullmatch(text):
        text = text.replace(other, "")
    if other in text:
        raise ValueError(
            f"uses '{other}' but this profile's decimal separator is '{decimal_separator}'; "
            f"write it like 1{decimal_separator}5 or change decimal_separator"
        )
    text = text.replace(decimal_separator, ".")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"is not a number; {write_a_number(decimal_separator)}")
    number = Decimal(text)
    problem = range_problem(number)
    if problem is not None:
        raise ValueError(problem)  # said after the cell's value, quoted as it is written
    return plain(number)


_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%p", "%z")


def parse_date(value: str, formats: list[str]) -> date:
    """The date in ``value`` by the first of ``formats`` that reads it. Raises ``ValueError``
    with the fix. A date outside the ones Stockpot works with (``core.periods.sane_date``) is
    a problem too: a typed year (``27.11.2999``, ``01.01.1900``) was imported and posted.

    A time after the date (``27.11.2026 02:10``, ``2026-11-27T02:10:00``, or read by a format
    with ``%H:%M``) makes the result a ``datetime``: naive when the cell gives no offset (a
    till export's times are the location's wall clock), aware when it does (``+01:00``,
    ``Z``). ``business_date`` turns it into the row's business date at its location; a date
    without a time is the business date itself (the export already says which day)."""
    when = _parse_date(value, tuple(formats))
    day = when.date() if isinstance(when, datetime) else when
    outside = outside_dates(day, date.today())  # noqa: DTZ011 - the range is a year wide
    if outside is not None:
        raise ValueError(f"is {day.isoformat()}, {outside}")
    return when


def business_date(when: date, day: DayStart) -> date:
    """The business date of a parsed date cell at a location: a date stays as it is, a date
    with a time is placed by the location's day start (``core.business_day``, the rule the
    POS connectors use), so a sale at 02:10 with day start 05:00 is the previous day's.
    Raises ``ValueError`` when that moves it outside the dates Stockpot works with (02:10 on
    2000-01-01 is business day 1999-12-31): ``parse_date`` checked the calendar date only."""
    if not isinstance(when, datetime):
        return when
    placed = day.date_of(when)
    outside = None if placed == when.date() else outside_dates(placed, date.today())  # noqa: DTZ011
    if outside is not None:
        raise ValueError(
            f"falls on business day {placed.isoformat()} at its location (its day starts at "
            f"{day.start:%H:%M}, {day.timezone.key}), {outside}"
        )
    return placed


@lru_cache(maxsize=CACHED)
def _parse_date(value: str, formats: tuple[str, ...]) -> date:
    text = value.strip()
    day_part = text.split(" ")[0].split("T")[0]
    rest = text[len(day_part) + 1 :].strip()
    for pattern in formats:
        try:
            # a wall-clock time (or one with its offset): business_date places it
            read = datetime.strptime(text, pattern)  # noqa: DTZ007
        except ValueError:
            pass
        else:
            timed = any(directive in pattern for directive in _TIME_DIRECTIVES)
            return read if timed else read.date()
        if not day_part or day_part == text:
            continue
        try:
            found = datetime.strptime(day_part, pattern).date()  # noqa: DTZ007
        except ValueError:
            continue
        return datetime.combine(found, _time(rest))
    example = date(2026, 11, 27)
    shown = " or ".join(f"{pattern} (e.g. {example.strftime(pattern)})" for pattern in formats)
    raise ValueError(f"is not a date in the format {shown}; fix the date or date_formats")


WRITTEN = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
"""A moment every date format is asked to write and read back (``date_format_problem``)."""


def date_format_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot read the dates it describes, or ``None``: a stray ``%``, an
    unknown directive or one given twice passed the profile's check (it has %d, %m and %Y)
    and then refused every row of every file, each saying the date was not in that format."""
    try:
        written = WRITTEN.strftime(pattern)
        read = _parse_date(written, (pattern,))
    except (ValueError, re.error):  # strptime compiles a directive given twice: re.error
        read = None
    if read is None or (read.date() if isinstance(read, datetime) else read) != WRITTEN.date():
        return (
            f"date format {pattern!r} cannot read back a date it writes (a stray %, an "
            "unknown directive or one given twice?), e.g. '%d.%m.%Y'"
        )
    return None


def _time(text: str) -> time:
    """The time written after a date; one that cannot be read is refused, not ignored (it
    decides the business day of a sale after midnight)."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"has a time '{text}' after the date that is not HH:MM or HH:MM:SS (24-hour, "
            "optionally with an offset like +01:00); export 24-hour times, or add a format "
            "with the time to date_formats (e.g. '%d.%m.%Y %I:%M %p')"
        ) from None
