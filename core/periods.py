"""The days people name: one parser for a day (``yesterday``, ``2026-11-27``) and a period
(``2026-11-26..2026-12-02``, ``2026-11-26 to 2026-12-02``, ``last week``, ``this month``),
used by Slack and the CLI alike, and a sentence that says what was understood."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from stockpot.core.errors import ValidationFailed
from stockpot.core.words import named_day, quoted

FORMS = (
    "a date (2026-11-27), `yesterday`, `today`, `from..to`, `from to to`, "
    "`this week`, `last week`, `this month` or `last month`"
)


class PeriodError(ValidationFailed):
    code = "period"


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    named: str = ""
    """The words that named it (``last week``), when they were not dates."""

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def describe(self) -> str:
        """What was understood: ``last week: 2026-11-23 to 2026-11-29 (7 days)``."""
        span = (
            named_day(self.first)
            if self.first == self.last
            else f"{named_day(self.first)} to {named_day(self.last)} ({self.days} days)"
        )
        return f"{self.named}: {span}" if self.named else span


def parse_day(text: str, today: date) -> date:
    """``yesterday``, ``today`` or an ISO date."""
    word = text.strip().lower()
    if word == "yesterday":
        return today - timedelta(days=1)
    if word == "today":
        return today
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise PeriodError(
            f"{quoted(text)} is not a date: use YYYY-MM-DD, `yesterday` or `today`"
        ) from None
    return sane_date(day, today)


FIRST_DATE = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366


def sane_date(day: date, today: date) -> date:
    """``day`` when Stockpot can work with it: from 2000-01-01 to a year after ``today``.
    A date outside (``0001-01-01``, a mistyped year) is refused where it is read, with the
    range, before any job or query is built on it (a report of year 1 crashed its job)."""
    outside = outside_dates(day, today)
    if outside is not None:
        raise ValidationFailed(f"{day.isoformat()} is {outside}")
    return day


def outside_dates(day: date, today: date) -> str | None:
    """The rule of ``sane_date`` for a caller that words its own message (a CSV cell): what
    is wrong with ``day`` and how to fix it, or ``None``."""
    last = today + timedelta(days=MAX_DAYS_AHEAD)
    if FIRST_DATE <= day <= last:
        return None
    return (
        f"outside the dates Stockpot works with ({FIRST_DATE.isoformat()} to "
        f"{last.isoformat()}); check the year"
    )


def _named(first: str, second: str, today: date) -> Period | None:
    words = f"{first} {second}".lower()
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    if words == "this week":
        return Period(monday, today, words)
    if words == "last week":
        return Period(monday - timedelta(days=7), monday - timedelta(days=1), words)
    if words == "this month":
        return Period(month_start, today, words)
    if words == "last month":
        last = month_start - timedelta(days=1)
        return Period(last.replace(day=1), last, words)
    return None


def parse_period(words: Sequence[str], today: date) -> tuple[Period, list[str]]:
    """The period the first words name, and the words after it (e.g. a storage unit).
    ``today`` is the requester's date (relative words count from it)."""
    if not words:
        raise PeriodError(f"which days? Give {FORMS}")
    rest = list(words)
    named = _named(rest[0], rest[1], today) if len(rest) > 1 else None
    if named is not None:
        return named, rest[2:]
    head = rest.pop(0)
    start, sep, end = head.partition("..")
    if sep:
        period = _between(start, end, today)
    elif len(rest) >= 2 and rest[0].lower() == "to":
        period = _between(head, rest[1], today)
        rest = rest[2:]
    else:
        try:
            day = parse_day(head, today)
        except PeriodError:
            raise PeriodError(f"{quoted(head)} is not a period: give {FORMS}") from None
        period = Period(day, day, head.lower() if not head[:1].isdigit() else "")
    return period, rest


def _between(start: str, end: str, today: date) -> Period:
    first, last = parse_day(start, today), parse_day(end, today)
    if last < first:
        raise PeriodError(f"the period {start} to {end} ends before it starts")
    return Period(first, last)
