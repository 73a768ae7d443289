"""One parser for the days people name, and a sentence for what it understood."""

from datetime import date

import pytest

from stockpot.core.periods import PeriodError, parse_day, parse_period

TODAY = date(2026, 12, 3)  # a Thursday


@pytest.mark.parametrize(
    ("words", "first", "last", "rest", "said"),
    [
        ("2026-11-26..2026-12-02", "2026-11-26", "2026-12-02", [], "7 days"),
        ("2026-11-26 to 2026-12-02 Küche", "2026-11-26", "2026-12-02", ["Küche"], "7 days"),
        ("last week Bar", "2026-11-23", "2026-11-29", ["Bar"], "last week: Mon 2026-11-23"),
        ("this week", "2026-11-30", "2026-12-03", [], "this week: Mon 2026-11-30"),
        ("this month", "2026-12-01", "2026-12-03", [], "this month: Tue 2026-12-01"),
        ("Last Month", "2026-11-01", "2026-11-30", [], "(30 days)"),
        ("yesterday Main room", "2026-12-02", "2026-12-02", ["Main", "room"], "yesterday: Wed"),
        ("2026-11-27", "2026-11-27", "2026-11-27", [], "Fri 2026-11-27"),
    ],
)
def test_periods_people_name(words, first, last, rest, said):
    period, left = parse_period(words.split(), TODAY)
    assert (period.first.isoformat(), period.last.isoformat(), left) == (first, last, rest)
    assert said in period.describe()


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("", "which days?"),
        ("someday", "'someday' is not a period"),
        ("2026-12-02..2026-11-26", "ends before it starts"),
        ("2026-11-26 to sometime", "'sometime' is not a date"),
    ],
)
def test_what_is_not_a_period_says_what_is(words, problem):
    with pytest.raises(PeriodError, match=problem):
        parse_period(words.split(), TODAY)


def test_days():
    assert parse_day("yesterday", TODAY) == date(2026, 12, 2)
    assert parse_day("TODAY", TODAY) == TODAY
    with pytest.raises(PeriodError, match="use YYYY-MM-DD"):
        parse_day("27.11.2026", TODAY)
