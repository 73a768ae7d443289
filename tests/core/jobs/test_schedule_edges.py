"""The schedule ticked every quarter hour across both of Berlin's DST changes with every time
of the day inside the changing hour, and across a location's timezone moving round the
date line: every business day and every report is queued, once (the once-keys make a
second time impossible; these make sure none is skipped)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from stockpot.core.db import unit_of_work
from stockpot.core.jobs.schedule import tick
from stockpot.core.models import Company, ExternalLocation, Job, JobKind
from tests.core.jobs.test_schedule import queued_days, shop  # noqa: F401 - the fixture

HALF_PAST_TWO = time(2, 30)


def quarters(first: datetime, last: datetime) -> Iterator[datetime]:
    while first <= last:
        yield first
        first += timedelta(minutes=15)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def test_a_day_start_transfer_and_report_at_half_past_two_are_queued_each_day(database, shop):
    with unit_of_work(database.factory) as session:
        location = session.get_one(ExternalLocation, shop)
        location.business_day_start = location.transfer_time = HALF_PAST_TWO
        company = session.get_one(Company, location.company_id)
        company.report_team_id, company.report_channel_id = "T1", "C1"
        company.report_time, company.report_timezone = HALF_PAST_TWO, "Europe/Berlin"
    for first, last in [
        (datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC)),
        (datetime(2026, 10, 23, 12, tzinfo=UTC), datetime(2026, 10, 27, 12, tzinfo=UTC)),
    ]:
        for now in quarters(first, last):
            tick(database.factory, now=now)
    transfers, reports = queued_days(database), queued_days(database, JobKind.REPORT)
    # 26 October closes at 02:30 on the 27th; the scheduler looks a month back.
    assert transfers == [*days(date(2026, 3, 26), 5), *days(date(2026, 9, 22), 35)]
    assert reports == [*days(date(2026, 3, 26), 5), *days(date(2026, 10, 22), 5)]


def test_a_location_moved_round_the_date_line_skips_and_repeats_no_day(database, shop):
    start = datetime(2026, 3, 27, 12, tzinfo=UTC)
    zones = ["Pacific/Kiritimati", "Etc/GMT+12", "Europe/Berlin", "Pacific/Kiritimati"]
    for n, zone in enumerate(zones):
        with unit_of_work(database.factory) as session:
            session.get_one(ExternalLocation, shop).timezone = zone
        for now in quarters(start + timedelta(days=2 * n), start + timedelta(days=2 * n + 2)):
            tick(database.factory, now=now)
    queued = queued_days(database)
    # 4 April 12:00 UTC is 5 April 02:00 in Kiritimati: its 4 April is still open.
    assert queued == days(date(2026, 3, 26), 9)
    with database.session() as session:
        keys = session.scalars(select(Job.once_key)).all()
    assert len(keys) == len(set(keys)) == len(queued)


def test_a_transfer_time_the_autumn_change_repeats_is_queued_that_night_once(database, shop):
    """The day starts at 02:45 and is transferred at 02:30: on 25 October, 24 October closes
    at 02:45 summer time, between the two 02:30s. It waited until 02:30 on the 26th."""
    with unit_of_work(database.factory) as session:
        location = session.get_one(ExternalLocation, shop)
        location.business_day_start, location.transfer_time = time(2, 45), HALF_PAST_TWO
    queued_at: dict[date, datetime] = {}
    for now in quarters(
        datetime(2026, 10, 23, 12, tzinfo=UTC), datetime(2026, 10, 26, 12, tzinfo=UTC)
    ):
        tick(database.factory, now=now)
        for day in queued_days(database):
            queued_at.setdefault(day, now)
    # 23 October closed at 02:45 summer time on the 24th: the first 02:30 of the 25th.
    assert queued_at[date(2026, 10, 23)] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert queued_at[date(2026, 10, 24)] == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert date(2026, 10, 25) not in queued_at, "it closes at 02:45 winter time on the 26th"
    assert queued_days(database).count(date(2026, 10, 24)) == 1
