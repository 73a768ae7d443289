"""A time of day as people write it (day starts, transfer and report times)."""

from datetime import time

import pytest

from stockpot.core.clock_time import parse_clock_time
from stockpot.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("written", "meant"),
    [("5:00", time(5)), ("05:00", time(5)), ("6", time(6)), (" 17:30 ", time(17, 30))],
)
def test_a_time_is_read_with_or_without_its_leading_zero(written, meant):
    """`/transfer schedule all 5:00` was refused: only `05:00` was read."""
    assert parse_clock_time(written) == meant


@pytest.mark.parametrize("written", ["24:00", "5:60", "5.30", "5:0", "", "٥:00", "noon"])
def test_anything_else_is_refused_with_how_to_write_it(written):
    with pytest.raises(ValidationFailed) as caught:
        parse_clock_time(written)
    assert str(caught.value) == f"'{written}' is not a time of day: write it as HH:MM, e.g. 06:30"
