"""``/pos doctor [location] [date]`` over HTTP against the SIDES sandbox: it never passes a
check it had nothing to look at, checks a chosen day, the last item sync and a running
migration, and gives CSV locations advice that works for them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.models import ExternalLocation, Job, JobKind, JobState, PosItem
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN, VIEWER
from tests.bot.test_slack_app import connect_sides, posted, synced, texts
from tests.holds import Hold

TELTOW = "Pizzeria Beispiel Teltow"


def doctor(bot, text: str, count: int = 1) -> str:
    bot.send.command("/pos", f"doctor {text}".strip(), user=VIEWER)
    return texts(
        bot.slack.wait_for(
            "response_url", count, where=lambda c: "Checks for Trattoria Esempio" in texts(c)
        )[count - 1]
    )


def test_a_chosen_day_the_sync_and_no_vacuous_pass(day_posted):
    bot = day_posted
    report = doctor(bot, f"{TELTOW} 2025-03-14")
    assert ":white_check_mark: items synced — last synced " in report
    # on the company's clock (its first location is in Rome), as a kitchen manager reads it
    synced_line = next(line for line in report.splitlines() if "last synced" in line)
    assert re.search(r"last synced \d{4}-\d\d-\d\d \d\d:\d\d CES?T,", synced_line), synced_line
    with bot.database.session() as session:
        known = session.scalar(select(func.count(PosItem.id)))
        from_sales = session.scalar(select(func.count(PosItem.first_seen_in_sales_at)))
    assert from_sales, "the golden day sells items the SIDES item list does not have"
    # a sync's "N new" next to "M items known" read as a miscount: the rest came from sales
    assert (
        f"{known} items known ({known - from_sales} from the POS's item list, {from_sales} "
        "first seen in its sales)"
    ) in synced_line
    assert ":white_check_mark: no migration running — none" in report
    assert re.search(r":x: items mapped — \d+ items sold here unmapped in the last 90 days", report)
    assert re.search(
        r":white_check_mark: transferred — manual run: \d+ lines, \d+ movements · "
        r"`/transfer log Pizzeria Beispiel Teltow 2025-03-14` lists the day's runs",
        report,
    )
    assert re.search(r":x: items mapped that day — \d+ unmapped \(.*then Reprocess", report)
    assert "every item sold" not in report

    report = doctor(bot, "", 2)
    # a location never transferred does not pass "items mapped"
    assert ":x: items mapped — no transfers yet, so no sold item was checked" in report
    # the CSV location: no sync, no activation, its advice is an upload
    assert ":white_check_mark: sales source — CSV imports: no POS login to test" in report
    assert "upload a till export into a bound channel (`/pos csv`)" in report

    report = doctor(bot, f"{TELTOW} 2025-03-13", 3)
    assert (
        ":x: transferred — not in the ledger: `/transfer 2025-03-13 Pizzeria Beispiel Teltow`"
        in report
    )
    report = doctor(bot, "Pizzeria Beispiel Telto", 4)
    assert "no location 'Pizzeria Beispiel Telto'; did you mean Pizzeria Beispiel Teltow" in report


def test_a_running_migration_is_named(day_posted):
    bot = day_posted
    with unit_of_work(bot.database.factory) as session:
        store = session.scalar(select(ExternalLocation).where(ExternalLocation.name == TELTOW))
        session.add(
            Job(
                kind=JobKind.MIGRATION,
                state=JobState.RUNNING,
                company_id=store.company_id,
                location_id=store.id,
                run_after=utcnow(),
                lease_expires_at=utcnow() + timedelta(hours=1),
                worker_id="another-worker",
            )
        )
    report = doctor(bot, TELTOW)
    assert ":x: no migration running — a migration of its history is running" in report
    bot.send.command("/pos", "doctor", user=ADMIN)


def test_a_back_dated_run_does_not_hide_the_latest_day(day_posted):
    """Posting an older day after 2025-03-14 makes it the newest run; the check named only
    that run's date, which reads as "nothing transferred since 2025-03-10"."""
    bot = day_posted
    bot.send.command("/transfer", f"2025-03-10 {TELTOW} --now", user=ADMIN)
    posted(bot, f"Posted: {TELTOW}, 2025-03-10")
    report = doctor(bot, TELTOW)
    assert (
        ":white_check_mark: last transfer succeeded — latest day 2025-03-14: posted"
        " · last run 2025-03-10: posted" in report
    )


def test_a_latest_day_that_failed_fails_the_check_though_an_older_day_was_rerun(day_posted):
    """The latest day's transfer failed (SIDES refused it), then an older day was posted
    again: the check showed a green "latest day 2025-03-15: failed"."""
    bot = day_posted
    bot.sides.faults.add(
        Fault.status(422, {"error": "unprocessable"}), path="daily-reports/2025-03-15", times=50
    )
    bot.send.command("/transfer", f"2025-03-15 {TELTOW} --now", user=ADMIN)
    bot.drain()
    bot.sides.faults.clear()
    bot.send.command("/transfer", f"2025-03-10 {TELTOW} --now", user=ADMIN)
    posted(bot, f"Posted: {TELTOW}, 2025-03-10")
    report = doctor(bot, TELTOW)
    assert ":x: last transfer succeeded — latest day 2025-03-15 failed: " in report, report
    assert " · last run 2025-03-10: posted" in report


def test_a_sync_said_done_is_synced_before_its_job_is_recorded_done(bot):
    """The sync says "done", then its job is recorded done; the doctor counted the job's end,
    so one asked in between read "never synced". Held at that very point
    (``Worker.before_done``) while the doctor is asked."""
    connect_sides(bot)
    posted(bot, "connected SIDES")
    hold = Hold()
    bot.worker.before_done = lambda job: hold() if job.kind is JobKind.SYNC else None
    bot.send.command("/pos", "sync", user=ADMIN)
    try:
        assert hold.arrived.wait(30), "the sync never finished its work"
        synced(bot)
        report = doctor(bot, "")
    finally:
        hold.release.set()
    bot.drain()
    assert "never synced" not in report
    assert re.search(r":white_check_mark: items synced — last synced .*, \d+ items known", report)
