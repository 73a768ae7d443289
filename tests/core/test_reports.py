"""The daily report's figures, from real runs on both databases."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from stockpot.bot.blocks.report import report_blocks
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import claim, enqueue, fail
from stockpot.core.jobs.telling import Telling
from stockpot.core.models import AutomaticTransfer, ExternalLocation, RunKind
from stockpot.core.reports import DailyReport, daily_report
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from tests.catalogs import ids, setup_trattoria

DAY = date(2026, 11, 27)


def _sell(database, location_id: int, day: date, espressos: int) -> None:
    lines = [
        SaleLine("S1", "1", "300", "Espresso", Decimal(espressos)),
        SaleLine("S1", "2", "231", "Red bottle", Decimal(1)),
        SaleLine("S1", "3", "555", "Limoncello", Decimal(2)),
    ]
    run_transfer(database.factory, location_id, day, lines, RawInput("t", "[]"))


def test_a_posted_day_shows_its_deductions_coverage_and_negative_balances(database):
    setup_trattoria(database)
    with database.session() as session:
        found = ids(session)
    room = found["location:Main room"]
    for offset in range(3):
        _sell(database, room, DAY - timedelta(days=offset), espressos=100 + offset)
    with database.session() as session:
        report = daily_report(session, found["company"], DAY)
    (row,) = report.locations
    assert (row.name, row.state, row.lines, row.unmapped_lines) == ("Main room", "posted", 3, 1)
    assert row.deducted_count == {"mass": 1, "count": 1}, "ingredients counted, not added up"
    # No costs in this catalog: the largest of each kind in turns (weighed first).
    assert [(d.ingredient, d.quantity) for d in row.deductions] == [
        ("Espresso beans", Decimal("0.9")),
        ("House red", Decimal(1)),
    ]
    assert report.coverage is not None and Decimal("0.9") < report.coverage < 1
    assert [item.name for item in report.top_unmapped] == ["Limoncello"]
    assert {line.ingredient for line in report.negative} == {"Espresso beans", "House red"}
    beans = report.consumption[("Espresso beans", "kg")]
    assert len(beans) == 14 and beans[0] == (DAY - timedelta(days=13), Decimal(0))
    assert beans[-3:] == [
        (DAY - timedelta(days=2), Decimal("0.918")),
        (DAY - timedelta(days=1), Decimal("0.909")),
        (DAY, Decimal("0.9")),
    ]


def test_failed_pending_paused_and_missing_days_are_told_apart(database):
    setup_trattoria(database)
    with database.session() as session:
        found = ids(session)
    room = found["location:Main room"]
    with unit_of_work(database.factory) as session:
        transfer = specs.transfer(
            found["company"], room, DAY, run_kind=RunKind.AUTOMATIC, triggered_by="t"
        )
        enqueue(session, transfer)
    job = claim(database.factory, "w", timedelta(minutes=1))
    fail(database.factory, job, timedelta(minutes=1), Telling("SIDES refused the sign-in"))
    with database.session() as session:
        (failed,) = daily_report(session, found["company"], DAY).locations
        (missing,) = daily_report(session, found["company"], DAY - timedelta(days=1)).locations
    assert (failed.state, failed.failure, failed.failed_job_id) == (
        "failed",
        "SIDES refused the sign-in",
        job.id,
    )
    assert missing.state == "not transferred"
    with unit_of_work(database.factory) as session:
        enqueue(
            session,
            specs.transfer(
                found["company"],
                room,
                DAY - timedelta(days=2),
                run_kind=RunKind.MANUAL,
                triggered_by="t",
            ),
        )
        session.get_one(ExternalLocation, room).automatic_transfer = AutomaticTransfer.PAUSED
    with database.session() as session:
        (pending,) = daily_report(session, found["company"], DAY - timedelta(days=2)).locations
        (paused,) = daily_report(session, found["company"], DAY - timedelta(days=1)).locations
    assert (pending.state, paused.state) == ("pending", "paused")


def test_a_day_still_open_west_of_the_company_s_clock_is_not_due_yet_not_missing(database):
    """The report is due on the company's clock (08:00 in Rome); a location in Los Angeles
    is then at 23:00 of the reported day, transferred at 06:00 its time: "not transferred"
    (a grey question mark) read as a missing day. It says when it is due, on its clock."""
    setup_trattoria(database)
    with database.session() as session:
        found = ids(session)
    room = found["location:Main room"]
    with unit_of_work(database.factory) as session:
        location = session.get_one(ExternalLocation, room)
        location.timezone = "America/Los_Angeles"
        transfer_time = location.transfer_time
    assert transfer_time is not None
    rome = ZoneInfo("Europe/Rome")
    morning = datetime(2026, 11, 28, 8, 0, tzinfo=rome)
    with database.session() as session:
        (open_day,) = daily_report(session, found["company"], DAY, now=morning).locations
        (later,) = daily_report(
            session, found["company"], DAY, now=morning + timedelta(hours=10)
        ).locations
    los_angeles = ZoneInfo("America/Los_Angeles")
    due = datetime.combine(DAY + timedelta(days=1), transfer_time, tzinfo=los_angeles)
    assert (open_day.state, open_day.due_at) == ("not due yet", due)
    shown = json.dumps(report_blocks(_report_of(open_day)), ensure_ascii=False)
    assert f"not due yet · transferred at {due:%Y-%m-%d %H:%M} PST" in shown, shown
    assert (later.state, later.due_at) == ("not transferred", None)


def _report_of(row) -> DailyReport:
    return DailyReport("Trattoria", DAY, [row], None, [], [], {})
