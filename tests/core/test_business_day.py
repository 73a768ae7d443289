from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockpot.core.business_day import (
    business_date_of,
    business_day_window,
    day_start_at,
    known_zone,
)

ROME, BERLIN = ZoneInfo("Europe/Rome"), ZoneInfo("Europe/Berlin")
FIVE = time(5, 0)


def test_a_sale_after_midnight_belongs_to_the_previous_business_date():
    sale = datetime(2026, 11, 28, 0, 40, tzinfo=ROME)
    assert business_date_of(sale, ROME, FIVE) == date(2026, 11, 27)
    assert business_date_of(sale, ROME, time(0, 0)) == date(2026, 11, 28)
    assert business_date_of(datetime(2026, 11, 28, 5, 0, tzinfo=ROME), ROME, FIVE) == date(
        2026, 11, 28
    )


def test_windows_follow_local_wall_clock_time():
    start, end = business_day_window(date(2026, 11, 27), ROME, FIVE)
    assert (start, end) == (
        datetime(2026, 11, 27, 4, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 4, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 7, 1), 24)]
)
def test_dst_days_last_23_or_25_hours(day, hours):
    start, end = business_day_window(day, ROME, time(0, 0))
    assert end - start == timedelta(hours=hours)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="naive datetime"):
        business_date_of(datetime(2026, 1, 1), ROME, FIVE)  # noqa: DTZ001


@given(
    instant=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2035, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    zone=st.sampled_from(
        ["Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
    ),
    start=st.times(),
)
def test_every_instant_lies_in_the_window_of_its_business_date(instant, zone, start):
    timezone = ZoneInfo(zone)
    start_time = start.replace(microsecond=0)
    day = business_date_of(instant, timezone, start_time)
    low, high = business_day_window(day, timezone, start_time)
    assert low <= instant < high


@pytest.mark.parametrize(
    ("reported", "known", "start"),
    [
        ("2026-03-15T05:30:00+01:00", None, time(5, 30)),
        ("2026-03-15T04:30:00Z", time(6), time(5, 30)),  # in UTC: a start that moved
        # Just after the spring gap: a start of 02:30 or of 03:30, whichever was known.
        ("2026-03-29T03:30:00+02:00", time(2, 30), time(2, 30)),
        ("2026-03-29T03:30:00+02:00", time(3, 30), time(3, 30)),
        ("2026-03-29T01:30:00Z", time(2, 30), time(2, 30)),
        ("2026-03-29T03:30:00+02:00", time(5), None),
        ("2026-03-29T03:30:00+02:00", None, None),
        ("2026-03-29T05:00:00+02:00", time(2, 30), time(5)),  # later that day: no doubt
        ("2026-03-30T02:30:00+02:00", time(3, 30), time(2, 30)),
        # Both 02:30s of the autumn change are 02:30.
        ("2026-10-25T02:30:00+02:00", None, time(2, 30)),
        ("2026-10-25T02:30:00+01:00", None, time(2, 30)),
    ],
)
def test_a_reported_day_start_is_the_wall_clock_time_it_stands_for(reported, known, start):
    assert day_start_at(datetime.fromisoformat(reported), BERLIN, known) == start


@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
    zone=st.sampled_from(
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"]
    ),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_a_days_first_instant_stands_for_its_start_known_or_not(day, zone, start):
    """Whatever day and start: the window's first instant gives the start back when it is
    known, and without it the start or (only just after a gap) nothing, never another."""
    timezone = ZoneInfo(zone)
    first, _ = business_day_window(day, timezone, start)
    assert day_start_at(first, timezone, start) == start
    assert day_start_at(first, timezone) in (start, None)


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"])
def test_an_iana_name_is_a_known_zone(name):
    assert known_zone(name)


@pytest.mark.parametrize(
    "name", ["localtime", "posixrules", "posix/Europe/Berlin", "right/UTC", "Europe", "", "x" * 65]
)
def test_a_file_of_this_machine_s_zone_database_that_is_no_iana_name_is_not_a_zone(name):
    """``zoneinfo`` loads any file under the machine's zone directory: ``localtime`` (this
    host's own setting, a link that differs per machine and is missing from the ``tzdata``
    package), ``posix/…`` and ``right/…`` (leap-second copies). Such a name, accepted on one
    host, failed every clock that read it on another: a report timezone of ``localtime``
    made each scheduler tick and each of the company's commands raise."""
    assert not known_zone(name)
