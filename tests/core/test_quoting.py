"""Text someone typed, quoted back in a refusal, is quoted one way (``core.words.quoted``):
as typed, its start when long, as the refusals of numbers quote it."""

from __future__ import annotations

from datetime import date

import pytest

from stockpot.core.clock_time import parse_clock_time
from stockpot.core.errors import ValidationFailed
from stockpot.core.periods import parse_day, parse_period
from stockpot.core.units import UnitError, parse_unit
from stockpot.core.words import ECHO_LIMIT, quoted

LONG = "x" * 3000
TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("read", "refused"),
    [
        (lambda: parse_unit(LONG), UnitError),
        (lambda: parse_day(LONG, TODAY), ValidationFailed),
        (lambda: parse_period([LONG], TODAY), ValidationFailed),
        (lambda: parse_clock_time(LONG), ValidationFailed),
    ],
)
def test_a_long_typed_text_is_quoted_by_its_start_as_numbers_are(read, refused):
    """A unit, a date, a period or a time of day 3,000 characters long came back whole in
    the refusal (a Slack message of it); it is quoted as ``quoted`` quotes."""
    with pytest.raises(refused) as error:
        read()
    said = str(error.value)
    assert quoted(LONG) in said, said
    assert len(said) < ECHO_LIMIT + 200, said
