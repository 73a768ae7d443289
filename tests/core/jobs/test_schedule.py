"""When automatic transfers and reports fall due: timezones, business-day starts, both DST
changes, pause and resume. The clock is frozen; the database is real."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from stockpot.core.company_clock import company_zone
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.jobs.queue import enqueue_many
from stockpot.core.jobs.schedule import (
    Clock,
    TickSummary,
    activate,
    catch_up,
    due_work,
    pause,
    queue_due,
    resume,
    tick,
)
from stockpot.core.locations import set_automatic
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    Job,
    JobKind,
    Provider,
    RunKind,
    TransferDay,
)

BERLIN, NEW_YORK, TOKYO = (
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Tokyo"),
)


APRIL_1 = date(2026, 4, 1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("zone", "day_start", "transfer", "day", "due"),
    [
        (BERLIN, time(0), time(6), date(2026, 11, 27), "2026-11-28T06:00+01:00"),
        (NEW_YORK, time(5), time(6), date(2026, 11, 27), "2026-11-28T06:00-05:00"),
        (TOKYO, time(0), time(23, 30), date(2026, 11, 27), "2026-11-28T23:30+09:00"),
        # The day closes at 07:00 the next morning: 06:00 that morning is too early.
        (BERLIN, time(7), time(6), date(2026, 11, 27), "2026-11-29T06:00+01:00"),
        # Spring forward (Berlin, 29 March 2026, 02:00 -> 03:00): the 23-hour day.
        (BERLIN, time(0), time(6), date(2026, 3, 28), "2026-03-29T06:00+02:00"),
        (BERLIN, time(5), time(6), date(2026, 3, 29), "2026-03-30T06:00+02:00"),
        # A transfer time inside the gap resolves with the offset before the change.
        (BERLIN, time(0), time(2, 30), date(2026, 3, 28), "2026-03-29T02:30+01:00"),
        # Fall back (Berlin, 25 October 2026, 03:00 -> 02:00): the 25-hour day.
        (BERLIN, time(0), time(6), date(2026, 10, 24), "2026-10-25T06:00+01:00"),
        (BERLIN, time(4), time(5), date(2026, 10, 25), "2026-10-26T05:00+01:00"),
        # A transfer time the change repeats: at its first occurrence after the day closed
        # (at 02:45 summer time, the first 02:30), the second 02:30, not a day later.
        (BERLIN, time(2, 45), time(2, 30), date(2026, 10, 24), "2026-10-25T02:30+01:00"),
        (BERLIN, time(2, 30), time(2, 30), date(2026, 10, 24), "2026-10-25T02:30+02:00"),
        # New York's changes: 8 March and 1 November 2026.
        (NEW_YORK, time(0), time(6), date(2026, 3, 7), "2026-03-08T06:00-04:00"),
        (NEW_YORK, time(0), time(6), date(2026, 10, 31), "2026-11-01T06:00-05:00"),
        (NEW_YORK, time(1, 30), time(1), date(2026, 10, 31), "2026-11-01T01:00-05:00"),
    ],
)
def test_a_day_is_due_at_its_transfer_time_after_it_closed(zone, day_start, transfer, day, due):
    clock = Clock(zone, day_start, transfer)
    assert clock.due_at(day) == at(due)
    assert clock.first_day_due_after(at(due)) == date.fromordinal(day.toordinal() + 1)
    before = datetime.fromtimestamp(at(due).timestamp() - 1, UTC)
    assert clock.first_day_due_after(before) == day


@pytest.fixture
def shop(database):
    """A company with a SIDES location in Berlin, active, automatic transfers on."""
    with unit_of_work(database.factory) as session:
        company = Company(name="Schedule Test")
        session.add(company)
        session.flush()
        connection = Connection(company_id=company.id, provider=Provider.SIDES, name="SIDES")
        session.add(connection)
        session.flush()
        location = ExternalLocation(
            company_id=company.id,
            connection_id=connection.id,
            external_id="36",
            name="Mitte",
            timezone="Europe/Berlin",
            business_day_start=time(5),
            active=True,
        )
        session.add(location)
        session.flush()
        with freeze_time("2026-03-26T12:00:00+01:00"):
            activate(location)
        return location.id


def queued_days(database, kind=JobKind.TRANSFER) -> list[date]:
    with database.session() as session:
        return sorted(session.scalars(select(Job.business_date).where(Job.kind == kind)).all())


def test_each_day_is_queued_once_at_its_time_across_the_spring_change(database, shop):
    with freeze_time("2026-03-27T05:59:59+01:00"):
        assert tick(database.factory).transfers == 0, "26 March is due at 06:00"
    with freeze_time("2026-03-27T06:00:00+01:00"):
        assert tick(database.factory).transfers == 1
        assert tick(database.factory).transfers == 0, "a second tick or scheduler adds nothing"
    with freeze_time("2026-03-30T05:59:00+02:00"):
        assert tick(database.factory).transfers == 2, "27 and 28 March; 29 March not yet"
    with freeze_time("2026-03-30T06:00:00+02:00"):
        tick(database.factory)
    assert queued_days(database) == [date(2026, 3, 26 + n) for n in range(4)]
    with database.session() as session:
        job = session.scalars(select(Job).order_by(Job.id)).first()
        assert job.payload["run_kind"] == RunKind.AUTOMATIC.value
        assert job.once_key == f"auto-transfer:{shop}:2026-03-26"


def test_a_restarted_scheduler_catches_up_the_days_it_was_away(database, shop):
    with freeze_time("2026-04-05T09:00:00+02:00"):
        assert tick(database.factory) == TickSummary(transfers=10)
    assert queued_days(database) == [date(2026, 3, 26) + timedelta(days=n) for n in range(10)]
    assert offers(database) == [], "within what it queues by itself: nothing to offer"


def offers(database) -> list[Job]:
    with database.session() as session:
        query = select(Job).where(Job.kind == JobKind.MISSED_DAYS).order_by(Job.id)
        return list(session.scalars(query))


def test_a_scheduler_down_for_months_queues_a_month_and_offers_the_rest_once(database, shop):
    """Down from activation (26 March) to 27 October: the latest 31 days are queued, the
    older ones were skipped without a word; now they are offered in one message, except the
    days already transferred or queued (a Catch up of 1 April before)."""
    with unit_of_work(database.factory) as session:
        enqueue_many(session, catch_up(session.get_one(ExternalLocation, shop), [APRIL_1], "t"))
    with freeze_time("2026-10-27T09:00:00+01:00"):
        assert tick(database.factory) == TickSummary(transfers=31, offers=1)
        assert tick(database.factory) == TickSummary(), "a second tick or scheduler: nothing"
    days = queued_days(database)
    assert days[1] == date(2026, 9, 26) and days[-1] == date(2026, 10, 26)
    [offer] = offers(database)
    skipped = (date(2026, 9, 25) - date(2026, 3, 26)).days + 1
    assert offer.payload == {
        "notify": None,
        "first": "2026-03-26",
        "last": "2026-09-25",
        "days": skipped - 1,
    }
    assert offer.location_id == shop and offer.once_key == (
        f"missed-days:{shop}:2026-03-26:2026-09-25"
    )
    with database.session() as session:
        assert session.get_one(ExternalLocation, shop).queued_through == date(2026, 10, 26)
    with freeze_time("2026-10-28T09:00:00+01:00"):
        assert tick(database.factory) == TickSummary(transfers=1)
    assert len(offers(database)) == 1


def test_two_schedulers_that_saw_a_gap_differently_offer_it_once(database, shop):
    """Scheduler B reads before A commits, but a day later by its clock: its offer is over
    another range (another once-key). It finds the location moved on and queues nothing; the
    next tick sees what A left."""
    with freeze_time("2026-10-27T09:00:00+01:00"), database.session() as session:
        late = due_work(session, utcnow())
    with freeze_time("2026-10-26T09:00:00+01:00"):
        assert tick(database.factory).offers == 1
    assert queue_due(database.factory, late) == TickSummary()
    assert len(offers(database)) == 1
    with freeze_time("2026-10-27T09:00:00+01:00"):
        assert tick(database.factory) == TickSummary(transfers=1)
    assert len(offers(database)) == 1


def test_a_gap_with_every_day_transferred_offers_nothing(database, shop):
    with unit_of_work(database.factory) as session:
        location = session.get_one(ExternalLocation, shop)
        enqueue_many(session, catch_up(location, [date(2026, 3, 26), date(2026, 3, 27)], "t"))
    with freeze_time("2026-04-28T09:00:00+02:00"):
        assert tick(database.factory) == TickSummary(transfers=31)
    assert offers(database) == []


def test_paused_days_are_offered_for_catch_up_not_skipped(database, shop):
    with freeze_time("2026-03-27T07:00:00+01:00"):
        tick(database.factory)
    with freeze_time("2026-03-27T09:00:00+01:00"), unit_of_work(database.factory) as session:
        set_automatic(session, session.get_one(ExternalLocation, shop), False)
    with freeze_time("2026-03-31T12:00:00+02:00"):
        assert tick(database.factory).transfers == 0, "paused"
        with unit_of_work(database.factory) as session:
            location = session.get_one(ExternalLocation, shop)
            session.add(
                TransferDay(
                    location_id=shop,
                    business_date=date(2026, 3, 28),
                    company_id=location.company_id,
                )
            )
            missed = set_automatic(session, location, True)
            assert missed is not None
            assert missed.days == [
                date(2026, 3, 27),
                date(2026, 3, 28),
                date(2026, 3, 29),
                date(2026, 3, 30),
            ], "no live run on 28 March either"
            assert location.automatic_since == date(2026, 3, 31)
            specs = catch_up(location, missed.days, "test")
        assert tick(database.factory).transfers == 0, "resumed from 31 March, due tomorrow"
        with unit_of_work(database.factory) as session:
            assert enqueue_many(session, specs) == 4
            assert enqueue_many(session, specs) == 0, "catching up twice queues nothing more"
    with freeze_time("2026-04-01T06:00:00+02:00"):
        assert tick(database.factory).transfers == 1
    assert queued_days(database) == [date(2026, 3, 26 + n) for n in range(6)]


def test_resuming_without_a_pause_offers_nothing(database, shop):
    with freeze_time("2026-03-27T09:00:00+01:00"), unit_of_work(database.factory) as session:
        location = session.get_one(ExternalLocation, shop)
        assert set_automatic(session, location, True) is None
        pause(location)
        missed = resume(session, location)
        assert missed.days == []


def test_inactive_or_csv_locations_are_not_scheduled(database, shop):
    with unit_of_work(database.factory) as session:
        session.get_one(ExternalLocation, shop).active = False
    with freeze_time("2026-03-29T09:00:00+02:00"):
        assert tick(database.factory).transfers == 0


def test_the_report_is_due_at_its_time_in_the_companys_timezone(database, shop):
    with unit_of_work(database.factory) as session:
        company = session.scalars(select(Company)).one()
        company.report_team_id, company.report_channel_id = "T1", "C1"
        company.report_time = time(8, 30)
    with freeze_time("2026-11-28T08:29:00+01:00"):
        tick(database.factory)
    assert queued_days(database, JobKind.REPORT) == [date(2026, 11, 26)]
    with freeze_time("2026-11-28T08:30:00+01:00"):
        assert tick(database.factory).reports == 1
        assert tick(database.factory).reports == 0
    assert queued_days(database, JobKind.REPORT) == [date(2026, 11, 26), date(2026, 11, 27)]


def test_schedulers_ticking_at_once_queue_each_day_once(database, shop):
    barrier = threading.Barrier(4)
    queued: list[int] = []

    def scheduler() -> None:
        barrier.wait()
        queued.append(tick(database.factory).transfers)

    with freeze_time("2026-03-31T12:00:00+02:00"):
        threads = [threading.Thread(target=scheduler) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(queued) == 5, f"each due day queued by exactly one scheduler: {queued}"
    assert queued_days(database) == [date(2026, 3, 26 + n) for n in range(5)]


def test_a_location_in_an_unknown_timezone_stops_no_other_company_s_schedule(database, shop):
    """A location stored with a timezone no one knows (a POS sent it before syncs checked
    it): every tick raised on it, so no company's automatic transfers or reports were
    queued again. Its own schedule waits (logged); everyone else's runs."""
    with unit_of_work(database.factory) as session:
        broken = Company(name="Broken Clock", report_team_id="T9", report_channel_id="C9")
        session.add(broken)
        session.flush()
        connection = Connection(company_id=broken.id, provider=Provider.SIDES, name="SIDES")
        session.add(connection)
        session.flush()
        session.add(
            ExternalLocation(
                company_id=broken.id,
                connection_id=connection.id,
                external_id="1",
                name="Olympus",
                timezone="Mars/Olympus",
                business_day_start=time(5),
                active=True,
                automatic_since=date(2026, 3, 26),
            )
        )
    with freeze_time("2026-03-27T06:00:00+01:00"):
        summary = tick(database.factory)
    assert summary.transfers == 1 and queued_days(database) == [date(2026, 3, 26)]
    assert summary.reports == 1, "the broken company's report, in UTC"


def test_a_report_timezone_this_host_cannot_load_stops_no_schedule_and_no_clock(
    database, shop, caplog
):
    """A report timezone stored where the host loaded it (``localtime``, before names were
    checked against IANA's) that this host's zone database lacks: every tick raised on it,
    queuing no company's transfers or reports, and so did every command of the company
    (each reads its clock). The company's clock is then its first location's (logged at the
    tick); everyone else's schedule runs."""
    with unit_of_work(database.factory) as session:
        company = session.get_one(ExternalLocation, shop).company_id
        session.get_one(Company, company).report_timezone = "Mars/Olympus"
        session.get_one(Company, company).report_channel_id = "C1"
        session.get_one(Company, company).report_team_id = "T1"
        company_id = company
    with freeze_time("2026-03-27T09:00:00+01:00"):
        summary = tick(database.factory)
        with database.session() as session:
            zone = company_zone(session, session.get_one(Company, company_id))
    assert (summary.transfers, summary.reports) == (1, 1)
    assert queued_days(database, JobKind.REPORT) == [date(2026, 3, 26)]
    assert zone == ZoneInfo("Europe/Berlin"), "the first location's clock"
    assert "the unknown report timezone 'Mars/Olympus'" in caplog.text
