"""Jobs seen from Slack: the daily report and its chart, alerts with the buttons that fix
them, cancelling a migration, and catching up days missed while paused."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from stockpot.bot.ids import ActionId
from stockpot.bot.metadata import CatchUpValue
from stockpot.core import company_clock
from stockpot.core.access import set_role
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.jobs.schedule import Clock, due_work
from stockpot.core.locations import link_storage_unit, set_active
from stockpot.core.mapping import IngredientChoice, set_mapping
from stockpot.core.models import (
    Company,
    ConnectionStatus,
    ExternalLocation,
    Ingredient,
    Job,
    JobKind,
    JobState,
    PosItem,
    Role,
    RunKind,
    TransferRun,
    WorkspaceCompany,
)
from stockpot.core.pos import connections
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.bot.conftest import ADMIN, OTHER_ADMIN, OTHER_TEAM, STRANGER, TEAM, VIEWER
from tests.bot.test_slack_app import _synced, posted, reply, texts
from tests.core.csv_import.test_day_races import _waiting_for_locks
from tests.holds import Hold

GOLDEN = date(2025, 3, 14)


def _ready(bot) -> int:
    """SIDES connected and synced, the golden store linked and active."""
    store = _synced(bot)
    with unit_of_work(bot.database.factory) as session:
        location = session.get_one(ExternalLocation, store)
        link_storage_unit(session, location, "Kitchen")
        set_active(session, location, True)
        cola = session.scalar(select(PosItem).where(PosItem.key == "8001"))
        wine = session.scalar(select(Ingredient.id).where(Ingredient.name == "House red"))
        set_mapping(session, cola, IngredientChoice(wine, 1))
    return store


def _first_button(call) -> dict:
    """The first button of a posted message's actions blocks."""
    return next(
        element
        for block in call.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    )


def _enqueue(bot, spec) -> int:
    with unit_of_work(bot.database.factory) as session:
        return enqueue(session, spec).job_id


def _job(bot, job_id: int) -> Job:
    with bot.database.session() as session:
        return session.get_one(Job, job_id)


def test_the_daily_report_goes_to_the_report_channel_with_its_chart(bot):
    _ready(bot)
    bot.send.command("/transfer", f"{GOLDEN} Pizzeria Beispiel Teltow --now", user=ADMIN)
    posted(bot, f"Posted: Pizzeria Beispiel Teltow, {GOLDEN}")
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=VIEWER)
    reply(bot, "you need to be an admin")
    bot.send.command("/pos", "report here 06:00 Europe/Berlin daily", user=ADMIN)
    reply(bot, "`/pos report now [date]` ('daily' is more)")  # not 06:00 with 'daily' dropped
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN)
    posted(bot, "come to this channel at 07:30 (Europe/Berlin), set by <@UADMIN>")
    bot.send.command("/pos", f"report now {GOLDEN}", user=VIEWER)
    reply(bot, "you need to be an admin of Trattoria Esempio")  # it posts to the channel
    bot.send.command("/pos", f"report now {GOLDEN}", user=ADMIN)
    reply(bot, f"The report of {GOLDEN} follows")
    report = posted(bot, "Daily report of Trattoria Esempio")
    shown = texts(report)
    assert (
        "Pizzeria Beispiel Teltow*: posted" in shown
        and "1 ingredient deducted (1 counted)" in shown
    )
    assert (
        "1 ingredient below zero* (Kitchen 1)" in shown and "House red (Kitchen): -3 pcs" in shown
    )
    assert "Mapping coverage" in shown and ActionId.MAP_OPEN in shown, "unmapped items to map"
    upload = bot.slack.wait_for("files.completeUploadExternal")[0]
    assert upload.args["channel_id"] == "C0001"
    (png,) = bot.slack.uploads.values()
    assert png.startswith(b"\x89PNG")
    with bot.database.session() as session:
        company = session.scalar(select(Company).where(Company.name == "Trattoria Esempio"))
        assert (company.report_channel_id, company.report_time.isoformat()) == ("C0001", "07:30:00")


def test_reports_are_not_sent_to_a_channel_the_bot_cannot_post_in(bot):
    """A private channel the bot is not in takes no post from it: /pos report here there is
    refused with the fix (every report would have been lost, logged only), and changes
    nothing; invited, the same command says so in the channel for everyone."""
    _ready(bot)
    private = "GPRIVATE"
    bot.slack.outside_channels.add(private)
    bot.slack.private_channels.add(private)
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN, channel=private)
    refusal = texts(reply(bot, "I cannot post in this channel"))
    assert "`channel_not_found`" in refusal and "/invite @Stockpot" in refusal
    assert "Nothing was changed" in refusal
    with bot.database.session() as session:
        company = session.scalar(select(Company).where(Company.name == "Trattoria Esempio"))
        assert company.report_channel_id is None
    bot.slack.outside_channels.discard(private)
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN, channel=private)
    said = posted(bot, "come to this channel at 07:30 (Europe/Berlin)")
    assert said.args["channel"] == private
    bot.drain()  # the post is made before the setting commits
    with bot.database.session() as session:
        company = session.scalar(select(Company).where(Company.name == "Trattoria Esempio"))
        assert company.report_channel_id == private


def test_activating_offers_the_migration_and_sends_alerts_to_that_channel(bot):
    store = _synced(bot)
    with unit_of_work(bot.database.factory) as session:
        link_storage_unit(session, session.get_one(ExternalLocation, store), "Kitchen")
    bot.send.block_action(ActionId.LOCATION_ACTIVATE, str(store), user=ADMIN, channel="C0777")
    answer = reply(bot, "Pizzeria Beispiel Teltow activated by <@UADMIN>")
    assert "Migrate 90 days" in texts(answer) and "will come to this channel" in texts(answer)
    assert answer.args["replace_original"], "the locations list shows it, in place"
    with bot.database.session() as session:
        location = session.get_one(ExternalLocation, store)
        assert location.automatic_since is not None
        company = session.get_one(Company, location.company_id)
        assert company.report_channel_id == "C0777"
        activated_since = location.automatic_since
    # Activate pressed again on an older copy of the list: said as it is, nothing redone.
    bot.send.block_action(ActionId.LOCATION_ACTIVATE, str(store), user=ADMIN)
    again = reply(bot, "Pizzeria Beispiel Teltow is already active: nothing changed.")
    assert "activated by" not in texts(again) and again.args["replace_original"]
    with bot.database.session() as session:
        assert session.get_one(ExternalLocation, store).automatic_since == activated_since


def failing_automatic_transfer(bot) -> tuple[int, int, int]:
    """The golden day's automatic transfer queued, to fail (SIDES refuses the credentials,
    and keeps refusing until the faults are cleared), its failure to go to the report
    channel in a message of its own: (store, company id, job id)."""
    store = _ready(bot)
    bot.send.command("/pos", "report here", user=ADMIN)
    posted(bot, "come to this channel")
    bot.sides.faults.add(Fault.status(401, {"error": "invalid_credentials"}), path="", times=50)
    with bot.database.session() as session:
        company_id = session.get_one(ExternalLocation, store).company_id
    job_id = _enqueue(
        bot,
        specs.transfer(company_id, store, GOLDEN, run_kind=RunKind.AUTOMATIC, triggered_by="t"),
    )
    return store, company_id, job_id


def _failed_automatic_transfer(bot) -> tuple[int, int, int, Any]:
    """``failing_automatic_transfer``, failed, its alert in the report channel: (store,
    company id, job id, alert)."""
    store, company_id, job_id = failing_automatic_transfer(bot)
    bot.worker.wake()
    alert = posted(bot, f"Not transferred: Pizzeria Beispiel Teltow, {GOLDEN}")
    # Said, then recorded said (job.telling cleared): a test that holds the job's row next
    # would otherwise hold up that record, and count the worker among the clicks it waits for.
    bot.drain()
    return store, company_id, job_id, alert


def test_a_failed_automatic_transfer_is_posted_with_retry_and_reconnect(bot):
    _, _, job_id, alert = _failed_automatic_transfer(bot)
    assert ActionId.JOB_RETRY in texts(alert) and ActionId.CONNECTION_RECONNECT in texts(alert)
    assert _job(bot, job_id).state is JobState.FAILED
    bot.send.command("/transfer", "status", user=VIEWER)
    status = reply(bot, "Transfers of Trattoria Esempio")
    assert f"transfer of {GOLDEN} failed" in texts(status) and "at 06:00" in texts(status)
    bot.sides.faults.clear()
    bot.send.block_action(ActionId.JOB_RETRY, str(job_id), user=VIEWER)
    reply(bot, "you need to be an admin")
    arrived, release = _held(bot)
    bot.send.block_action(ActionId.JOB_RETRY, str(job_id), user=ADMIN)
    reply(bot, "Trying the transfer again")
    assert arrived.wait(30), "the job runs again, held on its fetch"
    # Pressed again while it runs (a second click, another admin): told, nothing rewritten.
    bot.send.block_action(ActionId.JOB_RETRY, str(job_id), user=ADMIN)
    again = reply(bot, "already being tried again")
    assert not again.args.get("replace_original")
    release.set()
    bot.drain()
    assert len([c for c in bot.slack.calls if "Trying the" in texts(c)]) == 1
    assert _job(bot, job_id).state is JobState.SUCCEEDED
    with bot.database.session() as session:
        assert session.scalar(select(TransferRun.kind).where(TransferRun.status == "succeeded"))
    # "…the result follows": it does, in that message, which said so until the next failure.
    shown = json.dumps(bot.slack.workspace.message(alert.ts).to_json(), ensure_ascii=False)
    assert f"Transfer of Pizzeria Beispiel Teltow, {GOLDEN}" in shown, shown
    assert "Trying the transfer again" not in shown and ActionId.JOB_RETRY not in shown


def test_retry_refused_as_already_queued_leaves_its_message_as_it_was(bot):
    """Retry rewrote its message ("Trying the transfer again") and then found the same work
    already queued: refused, the message said something that was not happening."""
    store, company_id, failed, _ = _failed_automatic_transfer(bot)
    assert _job(bot, failed).state is JobState.FAILED
    with unit_of_work(bot.database.factory) as session:
        spec = specs.transfer(company_id, store, GOLDEN, run_kind=RunKind.MANUAL, triggered_by="t")
        again = enqueue(session, spec).job_id
        later = utcnow() + timedelta(days=1)
        session.execute(update(Job).where(Job.id == again).values(run_after=later))
    bot.send.block_action(ActionId.JOB_RETRY, str(failed), user=ADMIN)
    refused = reply(bot, "the same work is already queued")
    assert not refused.args.get("replace_original"), "the message with Retry is left alone"
    bot.drain()
    assert not [c for c in bot.slack.calls if "Trying the" in texts(c)]
    assert _job(bot, failed).state is JobState.FAILED
    assert _job(bot, again).state is JobState.QUEUED


@pytest.mark.postgresql_only
def test_two_admins_retrying_at_once_leave_the_message_naming_the_one_whose_retry_runs(bot):
    """Two admins press Retry on the same failed job at once: both read it failed, then
    both requeue. Each rewrote the message before its requeue, so the message named
    whoever wrote last, and both requeues took effect (on PostgreSQL the second waited for
    the first's row, then overwrote it). Now exactly one requeue takes effect and only it
    rewrites the message; the other admin is told it is already being tried again. Forced:
    the test holds the job's row until both clicks wait for it, the first queued first
    (PostgreSQL grants a row to its waiters in turn). PostgreSQL only: SQLite's writes
    take the database one at a time, so the second click reads the job already queued."""
    _, company, failed, alert = _failed_automatic_transfer(bot)
    bot.sides.faults.clear()
    with unit_of_work(bot.database.factory) as session:
        set_role(session, company, TEAM, STRANGER, Role.ADMIN)
    # Both press Retry on the message as they both see it (a copy each, Retry included).
    seen = bot.slack.workspace.message(alert.ts)
    (retry,) = (
        {**element, "block_id": block.get("block_id") or "b"}
        for block in seen.blocks
        for element in block.get("elements") or []
        if element.get("action_id") == ActionId.JOB_RETRY
    )
    arrived, release = _held(bot)
    with bot.database.engine.connect() as holder, holder.begin():
        holder.execute(select(Job.id).where(Job.id == failed).with_for_update())
        for waiting, user in enumerate((ADMIN, STRANGER), 1):
            bot.send.action(retry, user=user, channel=seen.channel, message=seen.payload())
            _waiting_for_locks(bot.database, waiting)
    told = reply(bot, "already being tried again")
    assert not told.args.get("replace_original")
    assert arrived.wait(30), "the job runs again, held on its fetch"
    try:
        shown = bot.slack.workspace.message(alert.ts)
        assert "Trying the transfer again, started by <@UADMIN>" in shown.text, shown.text
        notes = [c for c in bot.slack.calls if "Trying the" in texts(c)]
        assert len(notes) == 1 and "<@USTRANGER>" not in texts(notes[0])
    finally:
        release.set()
    bot.drain()
    assert _job(bot, failed).state is JobState.SUCCEEDED


def test_a_slow_answer_to_retry_holds_up_no_other_request(bot):
    """Retry rewrote its message inside the transaction that requeues the job: on SQLite the
    database's write lock was held while Slack answered, so every other request (even one
    that only reads) waited on it for as long as Slack took."""
    _, _, failed, _ = _failed_automatic_transfer(bot)
    bot.sides.faults.clear()
    hold = Hold()
    bot.slack.faults.add(Fault(before=hold), path="/respond/", times=1)
    bot.send.block_action(ActionId.JOB_RETRY, str(failed), user=ADMIN)
    try:
        assert hold.arrived.wait(30)
        bot.send.command("/transfer", "status", user=VIEWER)
        reply(bot, "Transfers of Trattoria Esempio")
    finally:
        hold.release.set()
    reply(bot, "Trying the transfer again")
    bot.drain()
    assert _job(bot, failed).state is JobState.SUCCEEDED


def test_a_migration_can_be_cancelled_from_its_message(bot):
    _ready(bot)
    arrived, release = _held(bot)
    bot.send.command("/pos", "migrate Pizzeria Beispiel Teltow 30", user=ADMIN)
    reply(bot, "Migrating 30 days")
    progress = posted(bot, "Migrating Pizzeria Beispiel Teltow: 0/30 days")
    assert arrived.wait(30)
    with bot.database.session() as session:
        job_id = session.scalar(select(Job.id).where(Job.kind == "migration"))
    assert ActionId.JOB_CANCEL in texts(progress)
    bot.send.block_action(ActionId.JOB_CANCEL, str(job_id), user=ADMIN)
    reply(bot, "Stopping after the day in progress")
    release.set()
    bot.drain()
    assert _job(bot, job_id).state is JobState.CANCELED
    stopped = bot.slack.wait_for("chat.update", where=lambda c: "stopped" in texts(c))[0]
    assert "cancelled on request" in texts(stopped)
    with bot.database.session() as session:
        runs = session.scalars(select(TransferRun)).all()
    assert 1 <= len(runs) <= 3, "it stopped after the days in flight, not after 30"
    assert {run.status.value for run in runs} == {"succeeded"}


def _held(bot) -> tuple[threading.Event, threading.Event]:
    """The next job to read SIDES's sales stays running until ``release`` is set
    (``arrived``: it is there)."""
    hold = Hold()
    arrived, release = hold.arrived, hold.release

    bot.sides.faults.add(Fault(before=hold), path="/daily-reports/", times=1)
    return arrived, release


def _previews(bot) -> list:
    return [
        c
        for c in bot.slack.calls
        if c.method == "chat.postMessage" and "Preview: Pizzeria Beispiel Teltow" in texts(c)
    ]


def test_a_preview_asked_again_while_the_first_runs_is_answered_once_each(bot):
    """Two managers (and one of them again, from another channel) preview the same day while
    the first preview's job is running: the job is not repeated, and every request is told
    where its result is."""
    _ready(bot)
    with unit_of_work(bot.database.factory) as session:
        company = session.scalar(select(Company.id).where(Company.name == "Trattoria Esempio"))
        set_role(session, company, TEAM, STRANGER, Role.ADMIN)
    arrived, release = _held(bot)
    day = "2025-03-14 Pizzeria Beispiel Teltow"
    bot.send.command("/transfer", day, user=ADMIN, response_key="first")
    reply(bot, "Previewing 2025-03-14 for Pizzeria Beispiel Teltow; the result follows here")
    assert arrived.wait(30), "the first preview's job is running"
    bot.send.command("/transfer", day, user=STRANGER, response_key="second")
    bot.send.command("/transfer", day, user=ADMIN, channel="C0002", response_key="third")
    same = "The same preview of Pizzeria Beispiel Teltow, 2025-03-14 is already under way"
    reply(bot, f"{same}; its result follows in this channel.")
    reply(bot, f"{same}; its result follows in <#C0001>.")
    release.set()
    bot.drain()
    (preview,) = _previews(bot)
    assert preview.args["channel"] == "C0001"
    with bot.database.session() as session:
        jobs = session.scalars(select(Job.id).where(Job.kind == JobKind.TRANSFER)).all()
    assert len(jobs) == 1, "one job did the work"
    answers = dict(
        zip(
            bot.slack.response_keys,
            [texts(c) for c in bot.slack.calls if c.method == "response_url"],
            strict=True,
        )
    )
    assert "Previewing" in answers["first"]
    assert "in this channel" in answers["second"] and "<#C0001>" in answers["third"]
    assert bot.slack.response_keys.count("second") == bot.slack.response_keys.count("third") == 1
    # Once the job is done, asking again previews anew.
    bot.send.command("/transfer", day, user=STRANGER)
    reply(bot, "Previewing 2025-03-14 for Pizzeria Beispiel Teltow; the result follows here")
    bot.drain()
    assert len(_previews(bot)) == 2


def test_posting_from_a_second_preview_while_the_first_posts_points_to_it(bot):
    """Post to ledger pressed on two previews of the same day: the second preview says the
    day is being posted from the other, instead of waiting for ever on "Posting…"."""
    _ready(bot)
    day = "2025-03-14 Pizzeria Beispiel Teltow"
    bot.send.command("/transfer", day, user=ADMIN)
    bot.drain()
    bot.send.command("/transfer", day, user=ADMIN)
    bot.drain()
    first, second = _previews(bot)
    arrived, release = _held(bot)
    bot.send.click(first.ts, ActionId.TRANSFER_POST, user=ADMIN)
    assert arrived.wait(30), "the first post's job is running"
    bot.send.click(second.ts, ActionId.TRANSFER_POST, user=ADMIN)
    note = (
        "The same posting of Pizzeria Beispiel Teltow, 2025-03-14 is already under way; its "
        "result follows in this channel, in place of the message it was started from."
    )
    reply(bot, note)
    release.set()
    bot.drain()
    assert "Posted: Pizzeria" in json.dumps(bot.slack.workspace.message(first.ts).blocks)
    shown = json.dumps(bot.slack.workspace.message(second.ts).blocks)
    assert note in shown and "to the ledger…" not in shown
    assert ActionId.TRANSFER_POST not in shown
    with bot.database.session() as session:
        posts = session.scalars(select(TransferRun.id).where(TransferRun.kind == RunKind.MANUAL))
        assert len(posts.all()) == 1


def test_posting_while_the_automatic_transfer_runs_says_it_posts_no_message(bot):
    """Post to ledger pressed while the day's automatic transfer runs joins it; that run says
    nothing when it succeeds (and there is no report channel here), so the preview must not
    promise a result "in the report channel": it says where the run is seen instead."""
    store = _ready(bot)
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow", user=ADMIN)
    bot.drain()
    (preview,) = _previews(bot)
    with bot.database.session() as session:
        company_id = session.get_one(ExternalLocation, store).company_id
    arrived, release = _held(bot)
    _enqueue(
        bot,
        specs.transfer(company_id, store, GOLDEN, run_kind=RunKind.AUTOMATIC, triggered_by="t"),
    )
    bot.worker.wake()
    assert arrived.wait(30), "the automatic transfer is running"
    bot.send.click(preview.ts, ActionId.TRANSFER_POST, user=ADMIN)
    note = reply(bot, "The same posting of Pizzeria Beispiel Teltow, 2025-03-14 is already")
    assert "follows in the report channel" not in texts(note)
    assert "automatic transfer" in texts(note) and "/transfer log" in texts(note)
    release.set()
    bot.drain()
    assert not [c for c in bot.slack.calls if "Posted: Pizzeria" in texts(c)]


def test_a_sync_or_report_asked_again_meanwhile_is_told_where_it_follows(bot):
    """The same rule for the other work started from Slack that is done once at a time."""
    _synced(bot)
    # The first sync's job recorded done, not only its last message shown: a sync asked in
    # between joins it (told "already under way"), and no new sync ever reaches SIDES.
    bot.drain()
    hold = Hold()
    arrived, release = hold.arrived, hold.release

    bot.sides.faults.add(Fault(before=hold), path="", times=1)
    bot.send.command("/pos", "sync", user=ADMIN)
    # The second "Syncing" reply: the first is _synced's, already there.
    bot.slack.wait_for("response_url", 2, where=lambda c: "Syncing 1 connection" in texts(c))
    assert arrived.wait(30), "the sync's job is running"
    bot.send.command("/pos", "sync", user=ADMIN, channel="C0002")
    reply(bot, "The same sync of SIDES is already under way; its result follows in <#C0001>.")
    release.set()
    bot.drain()
    assert len([c for c in bot.slack.calls if "Sync of SIDES: locations" in texts(c)]) == 2
    arrived.clear()
    bot.slack.faults.add(Fault(before=hold), path="chat.postMessage", times=1)
    release.clear()
    bot.send.command("/pos", "report now 2025-03-14", user=ADMIN)
    reply(bot, "The report of 2025-03-14 follows in this channel.")
    assert arrived.wait(30), "the report's job is posting"
    bot.send.command("/pos", "report now 2025-03-14", user=ADMIN)
    reply(bot, "The same report of 2025-03-14 is already under way; its result follows in this")
    release.set()
    bot.drain()
    reports = [
        c for c in bot.slack.calls if c.method == "chat.postMessage" and "Daily report" in texts(c)
    ]
    assert len(reports) == 1


def resumed_after_three_days(bot):
    """Teltow paused three days ago and resumed now: the resume's answer, its Catch up offer
    for the three days that fell due."""
    store = _ready(bot)
    bot.send.command("/transfer", "pause Pizzeria Beispiel Teltow", user=ADMIN)
    reply(bot, "Automatic transfers paused")
    with unit_of_work(bot.database.factory) as session:
        session.execute(
            update(ExternalLocation)
            .where(ExternalLocation.id == store)
            .values(paused_at=utcnow() - timedelta(days=3))
        )
    bot.send.command("/transfer", "resume Pizzeria Beispiel Teltow", user=ADMIN)
    offer = reply(bot, "Automatic transfers resumed")
    assert "3 days fell due while paused" in texts(offer)
    return offer


def test_resuming_offers_to_catch_up_the_paused_days(bot):
    """Catch up queues the paused days; pressed again (a stale copy, a second admin) while
    they run it says so and how far they are, and once they are done that they are, each
    privately: nothing is queued, nothing is rewritten ("Catching up 0 days" replaced the
    first press's note)."""
    offer = resumed_after_three_days(bot)
    button = _first_button(offer)
    arrived, release = _held(bot)
    bot.send.block_action(ActionId.CATCH_UP, button["value"], user=ADMIN)
    reply(bot, "Catching up 3 days")
    assert arrived.wait(30), "the first day's transfer runs, held on its fetch"
    bot.send.block_action(ActionId.CATCH_UP, button["value"], user=ADMIN)
    running = reply(bot, "already being caught up")
    assert "The 3 days of Pizzeria Beispiel Teltow: already being caught up" in texts(running)
    assert "0 of them transferred so far; nothing more was queued" in texts(running)
    assert running.args.get("response_type") == "ephemeral"
    assert not running.args.get("replace_original")
    release.set()
    bot.drain()
    with bot.database.session() as session:
        kinds = session.scalars(select(TransferRun.kind)).all()
    assert [kind.value for kind in kinds] == ["automatic"] * 3
    bot.send.block_action(ActionId.CATCH_UP, button["value"], user=ADMIN)
    done = reply(bot, "already transferred")
    assert "The 3 days of Pizzeria Beispiel Teltow: already transferred." in texts(done)
    assert not done.args.get("replace_original")
    assert not [c for c in bot.slack.calls if "Catching up 0" in texts(c)]
    assert len([c for c in bot.slack.calls if "Catching up" in texts(c)]) == 1


def missed_days(bot, store: int) -> tuple[specs.JobSpec, date]:
    """The scheduler away for 34 days: it queues the latest 31 itself and offers the 3
    before (the spec of that offer, and the first of them)."""
    now = utcnow()
    with unit_of_work(bot.database.factory) as session:
        location = session.get_one(ExternalLocation, store)
        last = Clock.of(location).last_due(now)
        location.automatic_since = last - timedelta(days=33)
    with bot.database.session() as session:
        due = due_work(session, now).jobs
    offered = [spec for spec in due if spec.kind is JobKind.MISSED_DAYS]
    assert len([spec for spec in due if spec.kind is JobKind.TRANSFER]) == 31
    assert len(offered) == 1
    return offered[0], last - timedelta(days=33)


def test_days_the_scheduler_was_away_too_long_for_are_offered_in_the_channel(bot):
    """The scheduler down for 34 days queues the latest 31 itself: the 3 before are offered
    in the report channel, once, with Catch up."""
    store = _ready(bot)
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN)
    posted(bot, "come to this channel")
    bot.drain()
    offered, first = missed_days(bot, store)
    _enqueue(bot, offered)  # the transfers are left out: the offer is what is seen here
    _enqueue(bot, offered)
    offer = posted(bot, "3 days of *Pizzeria Beispiel Teltow* are not transferred")
    assert offer.args["channel"] == "C0001"
    assert f"{first} to {first + timedelta(days=2)}" in texts(offer)
    assert "queues only the latest 31 days by itself" in texts(offer)
    bot.drain()
    assert len([c for c in bot.slack.calls if "are not transferred" in texts(c)]) == 1
    button = _first_button(offer)
    bot.send.block_action(ActionId.CATCH_UP, button["value"], user=ADMIN)
    reply(bot, "Catching up 3 days")
    bot.drain()
    with bot.database.session() as session:
        days = session.scalars(select(TransferRun.business_date)).all()
    assert sorted(days) == [first + timedelta(days=n) for n in range(3)]


def test_refused_credentials_during_a_sync_offer_reconnect(bot):
    _synced(bot)
    # The first sync's job done, not only its message: a sync asked while it is still
    # pending joins it (and no second sync meets the refusal).
    bot.drain()
    bot.sides.faults.add(Fault.status(401, {"error": "invalid_credentials"}), path="", times=50)
    bot.send.command("/pos", "sync", user=ADMIN)
    bot.slack.wait_for("response_url", 2, where=lambda c: "Syncing 1 connection;" in texts(c))
    alert = bot.slack.wait_for(
        "chat.update", where=lambda c: "The sync of SIDES stopped" in texts(c)
    )[0]
    started = bot.slack.wait_for(
        "chat.postMessage", 2, where=lambda c: "Sync of SIDES:" in texts(c)
    )
    assert alert.args["ts"] == started[-1].ts, "said in its progress message"
    assert ActionId.CONNECTION_RECONNECT in texts(alert)
    button = next(
        element
        for block in alert.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.CONNECTION_RECONNECT
    )
    bot.send.block_action(ActionId.CONNECTION_RECONNECT, button["value"], user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    assert modal["submit"]["text"] == "Update", "the sign-in modal, to update the credentials"


def test_job_and_connection_buttons_refuse_other_companies_and_viewers(bot):
    store = _ready(bot)
    with bot.database.session() as session:
        location = session.get_one(ExternalLocation, store)
        company_id, connection_id = location.company_id, location.connection_id
    job_id = _enqueue(bot, specs.report(company_id, GOLDEN))
    bot.drain()
    modals = len([c for c in bot.slack.calls if c.method == "views.open"])
    catch_up_value = CatchUpValue(location_id=store, first=GOLDEN, last=GOLDEN).dump()
    buttons = [
        (ActionId.JOB_RETRY, str(job_id)),
        (ActionId.JOB_CANCEL, str(job_id)),
        (ActionId.CATCH_UP, catch_up_value),
        (ActionId.CONNECTION_RECONNECT, str(connection_id)),
    ]
    for action, value in buttons:
        bot.send.block_action(action, value, user=OTHER_ADMIN, team=OTHER_TEAM)
        bot.send.block_action(action, value, user=VIEWER)
    bot.slack.wait_for(
        "response_url",
        len(buttons),
        where=lambda c: "no job" in texts(c) or "does not belong to Osteria Altra" in texts(c),
    )
    bot.slack.wait_for(
        "response_url", len(buttons), where=lambda c: "you need to be an admin" in texts(c)
    )
    bot.drain()
    assert _job(bot, job_id).state is JobState.SUCCEEDED and _job(bot, job_id).attempts == 1
    with bot.database.session() as session:
        assert session.scalar(select(TransferRun.id)) is None, "nothing was caught up"
    assert len([c for c in bot.slack.calls if c.method == "views.open"]) == modals


def test_only_a_failed_or_cancelled_job_is_tried_again_and_answers_never(bot):
    """Retry requeued any job of the company: a succeeded report would be posted again, and
    a Slack answer (a past click or command) acted on once more, past the replay check its
    delivery passed; Cancel could leave a person's request unanswered."""
    bot.send.command("/pos", "help", user=ADMIN)
    reply(bot, "what it can do")
    bot.drain()
    with unit_of_work(bot.database.factory) as session:
        answer_id = session.scalar(select(Job.id).where(Job.kind == JobKind.ANSWER))
        company = session.scalar(select(Job.company_id).where(Job.id == answer_id))
        report_id = enqueue(session, specs.report(company, date(2026, 11, 27))).job_id
        session.execute(update(Job).where(Job.id == report_id).values(state=JobState.SUCCEEDED))
    bot.send.block_action(ActionId.JOB_RETRY, str(answer_id), user=ADMIN)
    reply(bot, f"no job {answer_id} in this company")
    bot.send.block_action(ActionId.JOB_CANCEL, str(answer_id), user=ADMIN)
    bot.slack.wait_for("response_url", 2, where=lambda c: f"no job {answer_id}" in texts(c))
    bot.send.block_action(ActionId.JOB_RETRY, str(report_id), user=ADMIN)
    reply(bot, "only a failed or cancelled job can be tried again")
    bot.drain()
    assert _job(bot, report_id).state is JobState.SUCCEEDED
    assert _job(bot, answer_id).state is JobState.SUCCEEDED
    answered = [c for c in bot.slack.calls if "what it can do" in texts(c)]
    assert len(answered) == 1, "the answer was not given again"
    assert not [c for c in bot.slack.calls if "Trying the" in texts(c)]


def test_transfer_yesterday_is_the_locations_own_last_business_day(bot):
    """A company whose clock is far east of a location (UTC+14 against UTC-11: the
    location is always at least a day behind): `/transfer yesterday` transfers the location's
    yesterday, the last business day it has closed, not the company's, which the location
    is still selling on (or has not even begun)."""
    store = _ready(bot)
    with unit_of_work(bot.database.factory) as session:
        session.execute(update(Company).values(report_timezone="Pacific/Kiritimati"))
        location = session.get_one(ExternalLocation, store)
        location.timezone = "Pacific/Pago_Pago"
    with bot.database.session() as session:
        location = session.get_one(ExternalLocation, store)
        before = Clock.of(location).today(utcnow()) - timedelta(days=1)
        company_yesterday = company_clock.company_today(bot.database.factory, location.company_id)
    company_yesterday -= timedelta(days=1)

    bot.send.command("/transfer", "yesterday Pizzeria Beispiel Teltow", user=ADMIN)
    answer = texts(reply(bot, "for Pizzeria Beispiel Teltow; the result follows here"))

    with bot.database.session() as session:
        after = Clock.of(session.get_one(ExternalLocation, store)).today(utcnow())
        (day,) = session.scalars(select(Job.business_date).where(Job.kind == JobKind.TRANSFER))
    assert day in (before, after - timedelta(days=1))
    assert day < company_yesterday, "the company's yesterday is a day the location has not closed"
    assert f"Previewing {day} for" in answer


def test_transfer_yesterday_of_every_location_says_each_ones_day(bot):
    """Two locations a day apart on their own clocks: each gets its own yesterday, and the
    answer says which day of which."""
    store = _ready(bot)
    with unit_of_work(bot.database.factory) as session:
        session.execute(update(Company).values(report_timezone="Pacific/Kiritimati"))
        location = session.get_one(ExternalLocation, store)
        location.timezone = "Pacific/Pago_Pago"
        other = session.scalar(
            select(ExternalLocation).where(
                ExternalLocation.connection_id == location.connection_id,
                ExternalLocation.id != store,
            )
        )
        other.timezone = "Pacific/Kiritimati"
        link_storage_unit(session, other, "Kitchen")
        set_active(session, other, True)
        names = {store: "Pizzeria Beispiel Teltow", other.id: other.name}

    bot.send.command("/transfer", "yesterday", user=ADMIN)
    answer = texts(reply(bot, "the result follows here"))

    with bot.database.session() as session:
        days = dict(
            session.execute(
                select(Job.location_id, Job.business_date).where(Job.kind == JobKind.TRANSFER)
            ).all()
        )
    assert days[store] < days[other.id]
    for location_id, day in days.items():
        assert f"{names[location_id]} ({day})" in answer


def test_a_report_timezone_no_one_knows_is_refused_whatever_its_length(bot):
    """A timezone longer than a file name raised OSError out of zoneinfo: an internal error
    instead of the answer an unknown timezone gets."""
    for zone in ("Mars/Olympus", "x" * 300):
        bot.send.command("/pos", f"report here 07:30 {zone}", user=ADMIN)
        reply(bot, f"'{zone}' is not a timezone: use an IANA name such as Europe/Berlin")
    with bot.database.session() as session:
        assert session.scalar(select(Company.report_channel_id)) is None


def test_a_refused_sign_in_is_told_once_not_every_day_until_reconnected(bot):
    """SIDES refuses the password (changed at SIDES): the automatic transfer that meets it
    says so with Reconnect; the days after are not asked of SIDES, each to fail and be told
    again, until the credentials are updated."""
    store, _, _, alert = _failed_automatic_transfer(bot)
    assert "Automatic transfers from this POS wait until it is reconnected" in texts(alert)
    later = utcnow() + timedelta(days=3)

    def due() -> list[date]:
        with bot.database.session() as session:
            return [
                spec.business_date
                for spec in due_work(session, later).jobs
                if spec.kind is JobKind.TRANSFER and spec.location_id == store
            ]

    assert due() == []
    with bot.database.session() as session:
        connection = session.get_one(ExternalLocation, store).connection
        assert connection.status is ConnectionStatus.ERROR
        connection_id = connection.id
    bot.sides.faults.clear()
    connections.update_sides_credentials(
        bot.database.factory,
        bot.settings,
        connection_id,
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
    )
    assert due(), "reconnected, the next days are due again"


def test_catch_up_pressed_in_a_dm_acts_for_the_company_it_was_offered_for(bot):
    """A workspace with two companies, Osteria Altra linked first: Trattoria's days missed
    are offered to its admin in a direct message (it has no report channel). Catch up
    pressed there acted for the workspace's first company (a direct message is bound to
    none), which refused Trattoria's location. The button carries the company it was
    offered for; a press is checked against the presser's access to that company."""
    store = _ready(bot)
    altra_admin = "UALTRA"
    with unit_of_work(bot.database.factory) as session:
        trattoria = session.get_one(ExternalLocation, store).company_id
        altra = session.scalar(select(Company.id).where(Company.name == "Osteria Altra"))
        session.execute(
            WorkspaceCompany.__table__.delete().where(WorkspaceCompany.company_id == trattoria)
        )
        session.add(WorkspaceCompany(team_id=TEAM, company_id=altra))
        session.flush()
        session.add(WorkspaceCompany(team_id=TEAM, company_id=trattoria))
        set_role(session, altra, TEAM, altra_admin, Role.ADMIN)
    offered, first = missed_days(bot, store)
    _enqueue(bot, offered)
    offer = posted(bot, "3 days of *Pizzeria Beispiel Teltow* are not transferred")
    assert offer.args["channel"] == ADMIN, "a direct message"
    value = _first_button(offer)["value"]
    assert CatchUpValue.model_validate_json(value).company_id == trattoria

    forged = CatchUpValue(company_id=altra, location_id=store, first=first, last=first).dump()
    presses = [
        (value, altra_admin, TEAM, "you are not a member of Trattoria Esempio"),
        (value, OTHER_ADMIN, OTHER_TEAM, "a company this Slack workspace is not linked to"),
        (forged, altra_admin, TEAM, "does not belong to Osteria Altra"),
        (forged, ADMIN, TEAM, "you are not a member of Osteria Altra"),
    ]
    for pressed, user, team, _ in presses:
        bot.send.block_action(ActionId.CATCH_UP, pressed, user=user, team=team, channel="D0DM")
    for _, _, _, refusal in presses:
        reply(bot, refusal)
    bot.drain()
    with bot.database.session() as session:
        assert session.scalar(select(TransferRun.id)) is None, "nothing was caught up"

    bot.send.block_action(ActionId.CATCH_UP, value, user=ADMIN, channel="D0DM")
    reply(bot, "Catching up 3 days of Pizzeria Beispiel Teltow")
    bot.drain()
    with bot.database.session() as session:
        days = session.scalars(select(TransferRun.business_date)).all()
    assert sorted(days) == [first + timedelta(days=n) for n in range(3)]
