"""A worker that dies after a job's work committed but before the job was marked done: the
retry finds the work's effect under the job's key and reports it, so every job kind that
posts to the ledger or to Slack does so once.

The death is injected at that exact point (``Worker.before_done``): the hook expires the
job's lease, as a dead worker's lease runs out, and raises out of the worker; the next claim
takes the job over as it would after a SIGKILL.
"""

from __future__ import annotations

import json
import threading
from contextlib import suppress
from datetime import timedelta

from sqlalchemy import func, select, update

from stockpot.bot.ids import ActionId
from stockpot.bot.jobs.slack import SENT_AGAIN
from stockpot.core.access import set_role
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import ClaimedJob, enqueue, request_cancel
from stockpot.core.jobs.specs import Notify
from stockpot.core.models import (
    CsvImport,
    ExternalLocation,
    ImportStatus,
    Job,
    JobKind,
    JobState,
    LedgerMovement,
    Role,
    RunOutcome,
    TransferRun,
)
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN, TEAM, VIEWER
from tests.bot.test_csv_upload import setup, share, updates
from tests.bot.test_jobs_flow import (
    GOLDEN,
    _enqueue,
    _held,
    _ready,
    missed_days,
    resumed_after_three_days,
)
from tests.bot.test_slack_app import connect_sides, posted, reply, texts
from tests.core.csv_import.files import GERMAN
from tests.holds import Hold


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing after it runs in that worker."""


def die_once(bot, kind: JobKind, hook_name: str) -> threading.Event:
    """The first job of ``kind`` to reach the worker's fault hook ``hook_name`` dies there,
    its lease already run out (another worker may take it over at once)."""
    died = threading.Event()

    def hook(job: ClaimedJob) -> None:
        if job.kind is not kind or died.is_set():
            return
        died.set()
        with unit_of_work(bot.database.factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        raise WorkerDied

    setattr(bot.worker, hook_name, hook)
    return died


def die_once_before_done(bot, kind: JobKind) -> threading.Event:
    """Once its work is committed and before it is recorded done (``Worker.before_done``)."""
    return die_once(bot, kind, "before_done")


def drain_through_death(bot, died: threading.Event) -> None:
    with suppress(WorkerDied):  # on the test's thread when its drain ran the job
        bot.drain()
    assert died.wait(60), "the worker never reached the end of the job's work"
    bot.drain()
    with bot.database.session() as session:
        states = session.scalars(select(Job.state)).all()
    assert set(states) == {JobState.SUCCEEDED}, states


def messages(bot, containing: str) -> list:
    return [c for c in bot.slack.calls if c.method == "chat.postMessage" and containing in texts(c)]


def test_a_forced_import_whose_worker_died_before_done_is_imported_once(bot):
    setup(bot)
    first = share(bot, "F1", "kasse.csv", GERMAN)
    bot.send.click(first.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()
    assert updates(bot, first.ts, "Imported kasse.csv")
    again = share(bot, "F2", "kasse-copy.csv", GERMAN)
    assert "Import again" in texts(again)

    died = die_once_before_done(bot, JobKind.CSV_IMPORT)
    bot.send.click(again.ts, ActionId.CSV_IMPORT, user=ADMIN)
    reply(bot, "Importing")
    drain_through_death(bot, died)

    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(CsvImport)) == 2
        job = session.scalar(
            select(Job).where(Job.kind == JobKind.CSV_IMPORT).order_by(Job.id.desc())
        )
        assert job.attempts == 2 and job.result["import_id"] == 2
    # The retry finds the result already in the preview's message: it is not sent again.
    (answer,) = updates(bot, again.ts, "Imported kasse-copy.csv")
    assert ": 5 rows." in texts(answer) and "import 2" not in texts(answer)
    assert messages(bot, "Imported kasse-copy.csv") == []
    assert ": 5 rows." in texts_of(bot, again.ts)


def test_an_undo_whose_worker_died_before_done_reports_the_undo_once(bot):
    setup(bot)
    preview = share(bot, "F1", "kasse.csv", GERMAN)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()

    died = die_once_before_done(bot, JobKind.CSV_UNDO)
    bot.send.click(preview.ts, ActionId.CSV_UNDO, user=ADMIN)
    drain_through_death(bot, died)

    assert len(updates(bot, preview.ts, "Import of kasse.csv undone")) == 1
    assert messages(bot, "undone") == []
    assert "refused" not in texts_of(bot, preview.ts), (
        "the retry reports the undo, not 'already undone'"
    )
    with bot.database.session() as session:
        assert session.get(CsvImport, 1).status is ImportStatus.UNDONE
        assert session.scalar(select(func.sum(LedgerMovement.quantity))) == 0


def texts_of(bot, ts: str) -> str:
    """What the message ``ts`` shows now."""
    shown = bot.slack.workspace.message(ts)
    assert shown is not None
    return json.dumps(shown.to_json(), ensure_ascii=False)


def test_a_transfer_whose_worker_died_before_done_posts_and_reports_once(bot):
    _ready(bot)
    died = die_once_before_done(bot, JobKind.TRANSFER)
    bot.send.command("/transfer", f"{GOLDEN} Pizzeria Beispiel Teltow --now", user=ADMIN)
    reply(bot, f"Posting {GOLDEN}")
    drain_through_death(bot, died)

    with bot.database.session() as session:
        outcomes = session.scalars(select(TransferRun.outcome)).all()
    assert outcomes == [RunOutcome.POSTED], "the retry reports the run, it does not rerun"
    assert len(messages(bot, "Posted: Pizzeria Beispiel Teltow")) == 1
    assert messages(bot, "Unchanged") == []


def test_a_migration_whose_worker_died_before_done_says_finished_once(bot):
    _ready(bot)
    died = die_once_before_done(bot, JobKind.MIGRATION)
    bot.send.command("/pos", "migrate Pizzeria Beispiel Teltow 3", user=ADMIN)
    reply(bot, "Migrating 3 days")
    drain_through_death(bot, died)

    (started,) = messages(bot, "Migrating Pizzeria Beispiel Teltow")
    assert messages(bot, "Migrated") == [], "the progress message becomes the summary"
    (summary,) = updates(bot, started.ts, "Migrated Pizzeria Beispiel Teltow: 3/3")
    after = bot.slack.calls[bot.slack.calls.index(summary) + 1 :]
    assert [c for c in after if c.method in ("chat.update", "chat.postMessage")] == [], (
        "the retry finds the summary shown: it neither turns it back into 'Migrating' "
        "with a Cancel button nor sends it again"
    )
    assert "Migrated Pizzeria Beispiel Teltow: 3/3" in texts_of(bot, started.ts)
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 3


def test_a_sync_whose_worker_died_before_done_keeps_its_summary(bot):
    """The retry does not sync again: it would turn the summary back into "locations…" and
    then say "0 new" of what the first attempt added."""
    connect_sides(bot)
    died = die_once_before_done(bot, JobKind.SYNC)
    bot.send.command("/pos", "sync", user=ADMIN)
    drain_through_death(bot, died)

    (started,) = messages(bot, "Sync of SIDES: locations")
    (summary,) = updates(bot, started.ts, "Sync of SIDES, done")
    assert "locations 2 new" in texts(summary)
    after = bot.slack.calls[bot.slack.calls.index(summary) + 1 :]
    assert [c for c in after if c.method in ("chat.update", "chat.postMessage")] == []
    with bot.database.session() as session:
        job = session.scalars(select(Job).where(Job.kind == JobKind.SYNC)).one()
    assert job.attempts == 2 and job.result["locations"] == "2 new, 0 updated"


def test_a_reprocessing_whose_worker_died_before_done_keeps_its_summary_and_thread(bot):
    store = _ready(bot)
    with bot.database.session() as session:
        company_id = session.get_one(ExternalLocation, store).company_id
    died = die_once_before_done(bot, JobKind.REPROCESS)
    here = Notify(team_id=TEAM, channel_id="C0001", user_id=ADMIN)
    days = [(store, GOLDEN), (store, GOLDEN + timedelta(days=1))]
    with unit_of_work(bot.database.factory) as session:
        enqueue(
            session, specs.reprocess(company_id, days, what="Cola", triggered_by="t", notify=here)
        )
    drain_through_death(bot, died)

    (started,) = messages(bot, "Reprocessing 0/2 days for Cola")
    (summary,) = updates(bot, started.ts, "Reprocessed 2/2 days for Cola")
    assert len(messages(bot, "Each day of Cola")) == 1
    after = bot.slack.calls[bot.slack.calls.index(summary) + 1 :]
    assert [c for c in after if c.method == "chat.update"] == [], (
        "the retry leaves the summary as it is"
    )
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 2


def test_a_report_whose_worker_died_before_done_is_posted_once_with_one_chart(bot):
    _ready(bot)
    bot.send.command("/transfer", f"{GOLDEN} Pizzeria Beispiel Teltow --now", user=ADMIN)
    reply(bot, f"Posting {GOLDEN}")  # queued: the command is answered after Slack's ack
    bot.drain()
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN)
    posted(bot, "come to this channel")
    died = die_once_before_done(bot, JobKind.REPORT)
    bot.send.command("/pos", f"report now {GOLDEN}", user=ADMIN)
    reply(bot, f"The report of {GOLDEN} follows")
    drain_through_death(bot, died)

    assert len(messages(bot, "Daily report of Trattoria Esempio")) == 1
    uploads = [c for c in bot.slack.calls if c.method == "files.completeUploadExternal"]
    assert len(uploads) == 1


def die_once_before_telling(bot, kind: JobKind) -> threading.Event:
    """Once the job's failure or cancellation is recorded and before its handler tells it
    (``Worker.before_telling``)."""
    return die_once(bot, kind, "before_telling")


def test_an_import_whose_worker_died_before_telling_its_refusal_is_told_once(bot):
    """The import failed (Slack's file host answered 500) and was recorded failed; its worker
    died before "Importing…" became the refusal. Nothing retried a failed job, so the message
    said "Importing…" for ever: the next worker tells the refusal, once, in that message."""
    setup(bot)
    preview = share(bot, "F10", "kasse.csv", GERMAN)
    bot.slack.faults.add(Fault.status(500), path=r"^/files/", times=1)
    died = die_once_before_telling(bot, JobKind.CSV_IMPORT)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    with suppress(WorkerDied):  # on the test's thread when its drain ran the job
        bot.drain()
    assert died.wait(60), "the worker never recorded the import failed"
    bot.drain()

    (refused,) = updates(bot, preview.ts, "refused")
    assert "the download failed (HTTP 500)" in texts(refused)
    assert "refused" in texts_of(bot, preview.ts) and "Importing" not in texts_of(bot, preview.ts)
    assert messages(bot, "refused") == [], "told in the preview's message, not a new one"
    with bot.database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == JobKind.CSV_IMPORT))
        assert (job.state, job.attempts, job.telling) == (JobState.FAILED, 1, None)
        assert job.result["answer_ts"] == preview.ts, "the refusal's message is kept"


def test_a_retried_import_refused_again_says_so_again_in_the_same_message(bot):
    """Retry replaced the refusal with "Trying the csv import again"; the same refusal again
    was the very message already sent, so nothing replaced the note."""
    setup(bot)
    preview = share(bot, "F10", "kasse.csv", GERMAN)
    bot.slack.faults.add(Fault.status(500), path=r"^/files/", times=2)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()
    bot.send.click(preview.ts, ActionId.JOB_RETRY, user=ADMIN)
    bot.drain()
    assert len(updates(bot, preview.ts, "the download failed (HTTP 500)")) == 2
    now = texts_of(bot, preview.ts)
    assert "refused" in now and "Trying the csv import again" not in now
    assert messages(bot, "refused") == []


def test_a_reprocessing_cancelled_while_it_runs_says_it_stopped_in_its_message(bot):
    """A reprocessing had no telling of its end but success: cancelled while it ran
    (`stockpot jobs cancel`), or failed for good, its message said ":hourglass: Reprocessing
    1/2 days…" for ever. It says it stopped, how far it got and why, with Retry."""
    store = _ready(bot)
    with bot.database.session() as session:
        company_id = session.get_one(ExternalLocation, store).company_id
    arrived, release = _held(bot)
    here = Notify(team_id=TEAM, channel_id="C0001", user_id=ADMIN)
    days = [(store, GOLDEN), (store, GOLDEN + timedelta(days=1))]
    with unit_of_work(bot.database.factory) as session:
        job_id = enqueue(
            session, specs.reprocess(company_id, days, what="Cola", triggered_by="t", notify=here)
        ).job_id
    drain = threading.Thread(target=bot.drain)
    drain.start()
    assert arrived.wait(30), "the reprocessing never read its first day"
    with unit_of_work(bot.database.factory) as session:  # what `stockpot jobs cancel` does
        request_cancel(session, job_id, company_id)
    release.set()
    drain.join(60)
    bot.drain()

    (started,) = messages(bot, "Reprocessing 0/2 days for Cola")
    (stopped,) = updates(bot, started.ts, "stopped")
    said = texts(stopped)
    assert "Reprocessing *Cola* stopped after 1/2 days" in said
    assert "cancelled on request" in said and ActionId.JOB_RETRY in said
    with bot.database.session() as session:
        assert session.get_one(Job, job_id).state is JobState.CANCELED


def test_an_import_retried_then_cancelled_while_queued_says_it_was_cancelled(bot):
    """Retry said "Trying the csv import again…; the result follows" while the job waited
    to be released; `stockpot jobs cancel` then ended the queued job with no telling, and the
    promise stayed on screen. The cancellation is told in that message, after the note."""
    setup(bot)
    preview = share(bot, "F10", "kasse.csv", GERMAN)
    bot.slack.faults.add(Fault.status(500), path=r"^/files/", times=1)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()
    hold = Hold()
    bot.slack.faults.add(Fault(before=hold), path="/respond/", times=1)
    clicking = threading.Thread(
        target=bot.send.click, args=(preview.ts, ActionId.JOB_RETRY), kwargs={"user": ADMIN}
    )
    clicking.start()
    assert hold.arrived.wait(30), "Retry never said it tries again"
    with unit_of_work(bot.database.factory) as session:  # what `stockpot jobs cancel` does
        job = session.scalar(select(Job).where(Job.kind == JobKind.CSV_IMPORT))
        assert job.state is JobState.QUEUED
        request_cancel(session, job.id, job.company_id)
    hold.release.set()
    clicking.join(60)
    bot.drain()

    now = texts_of(bot, preview.ts)
    assert "CSV import cancelled on request" in now and "Trying the csv import again" not in now
    assert messages(bot, "cancelled") == [], "told in the preview's message, not a new one"


def test_a_failed_sync_says_so_in_its_progress_message_and_retry_goes_on_there(bot):
    """A sync SIDES refused left its progress message at "locations…" and posted the failure
    as a message of its own. The progress message becomes the failure, with Retry and
    Reconnect; Retry's "Trying the sync again…" is replaced there by the next failure, then
    by the summary of the sync that succeeds: one message throughout."""
    connect_sides(bot)
    bot.drain()
    bot.sides.faults.add(Fault.status(401, {"error": "invalid_credentials"}), path="", times=50)
    bot.send.command("/pos", "sync", user=ADMIN)
    bot.drain()
    (progress,) = messages(bot, "Sync of SIDES: locations")
    shown = texts_of(bot, progress.ts)
    assert "The sync of *SIDES* stopped" in shown and "locations…" not in shown
    assert ActionId.JOB_RETRY in shown and ActionId.CONNECTION_RECONNECT in shown
    assert messages(bot, "stopped") == [], "told in the progress message, not a new one"

    bot.send.click(progress.ts, ActionId.JOB_RETRY, user=ADMIN)
    note = reply(bot, "Trying the sync again, started by <@UADMIN>")
    assert note.args["replace_original"], "said in the message whose Retry was pressed"
    bot.drain()
    now = texts_of(bot, progress.ts)
    assert "The sync of *SIDES* stopped" in now and ActionId.JOB_RETRY in now
    assert "Trying the sync again" not in now

    bot.sides.faults.clear()
    bot.send.click(progress.ts, ActionId.JOB_RETRY, user=ADMIN)
    bot.drain()
    now = texts_of(bot, progress.ts)
    assert "Sync of SIDES, done: locations 2 new" in now, now
    assert "Trying the sync again" not in now and ActionId.JOB_RETRY not in now
    assert [m.ts for m in messages(bot, "Sync of SIDES")] == [progress.ts]
    assert messages(bot, "stopped") == []
    with bot.database.session() as session:
        job = session.scalars(select(Job).where(Job.kind == JobKind.SYNC)).one()
    assert job.state is JobState.SUCCEEDED


def killed_after_commit(bot, which, result: dict | None = None) -> None:
    """What a worker SIGKILLed after its job's work committed, before recording the job
    done, leaves of the jobs ``which`` selects: running, under a lease run out, with
    ``result`` the progress it had saved."""
    with unit_of_work(bot.database.factory) as session:
        session.execute(
            update(Job)
            .where(which)
            .values(
                state=JobState.RUNNING,
                lease_expires_at=utcnow() - timedelta(seconds=1),
                finished_at=None,
                result=result or {},
            )
        )


def test_an_answer_taken_over_after_the_job_it_queued_ran_queues_it_once(bot):
    """`/pos report now`: its worker queued the report, the report ran and was posted, and
    the worker died before the answer was recorded done. The takeover ran the command again
    and queued a second report, which posted a second copy (the jobs an answer queues were
    keyed by nothing, unlike its stock postings). It finds the job the first attempt queued
    and gives the first attempt's answer."""
    said = f"The report of {GOLDEN} follows in this channel."
    bot.send.command("/pos", f"report now {GOLDEN}", user=ADMIN)
    bot.slack.wait_for("response_url", where=lambda c: c.args.get("text") == said, timeout=60)
    bot.slack.wait_for(
        "chat.postMessage", where=lambda c: "Daily report of" in texts(c), timeout=60
    )
    bot.drain()
    killed_after_commit(bot, Job.kind == JobKind.ANSWER)
    bot.drain()
    bot.slack.wait_for("response_url", 2, where=lambda c: c.args.get("text") == said, timeout=60)
    bot.drain()
    assert len(messages(bot, "Daily report of")) == 1, "one report"
    with bot.database.session() as session:
        jobs = session.execute(select(Job.kind, Job.state, Job.attempts).order_by(Job.id)).all()
    assert jobs == [
        (JobKind.ANSWER, JobState.SUCCEEDED, 2),
        (JobKind.REPORT, JobState.SUCCEEDED, 1),
    ]


def test_a_resume_taken_over_after_it_committed_offers_the_paused_days_again(bot):
    """`/transfer resume`: its worker resumed the location (the paused days found and
    offered) and died before the answer was recorded done. The takeover resumed an active
    location, found nothing paused and answered without the Catch up offer: the days stayed
    untransferred, unoffered. It gives the first attempt's answer, offer included."""
    resumed_after_three_days(bot)
    bot.drain()
    with bot.database.session() as session:
        resumed = session.scalars(
            select(Job.id).where(Job.kind == JobKind.ANSWER).order_by(Job.id.desc())
        ).first()
    killed_after_commit(bot, Job.id == resumed)
    bot.drain()
    answers = bot.slack.wait_for(
        "response_url", 2, where=lambda c: "Automatic transfers resumed" in texts(c)
    )
    assert answers[1].args == answers[0].args, "the same answer, Catch up included"


def test_days_missed_with_no_report_channel_are_offered_to_each_admin_once(bot):
    """With no report channel the offer of the days the scheduler was away too long for was
    only logged: nobody saw it. Now each admin of the company gets it in a direct message
    (a viewer does not), once, though its worker died after posting and before the job was
    recorded done. Each lands in the app's DM with that admin, whose ``D…`` id (not the user
    id, which ``chat.update`` refuses) is what the job keeps to edit it by."""
    store = _ready(bot)
    bot.slack.add_user("UADMIN2", "uadmin2")
    with unit_of_work(bot.database.factory) as session:
        company_id = session.get_one(ExternalLocation, store).company_id
        set_role(session, company_id, TEAM, "UADMIN2", Role.ADMIN)
        set_role(session, company_id, TEAM, VIEWER, Role.VIEWER)
    offered, first = missed_days(bot, store)
    died = die_once_before_done(bot, JobKind.MISSED_DAYS)
    _enqueue(bot, offered)
    drain_through_death(bot, died)
    offers = messages(bot, "3 days of *Pizzeria Beispiel Teltow* are not transferred")
    assert sorted(call.args["channel"] for call in offers) == sorted([ADMIN, "UADMIN2"])
    for offer in offers:
        assert f"{first} to {first + timedelta(days=2)}" in texts(offer)
        assert "because it has no report channel: `/pos report here`" in texts(offer)
        assert ActionId.CATCH_UP in texts(offer)
    with bot.database.session() as session:
        result = session.scalars(select(Job.result).where(Job.kind == JobKind.MISSED_DAYS)).one()
    for admin in (ADMIN, "UADMIN2"):
        dm = bot.slack.dm_with(admin)
        assert result[f"dm_{TEAM}_{admin}_channel"] == dm
        assert bot.slack.workspace.message(result[f"dm_{TEAM}_{admin}"]).channel == dm


def test_a_missed_days_dm_cut_off_between_post_and_save_is_sent_again_saying_so(bot):
    """The worker posted the offer to the first admin and died before saving its ts: the
    job keeps only the intent. A retry cannot look for a direct message (no im:history),
    so it chooses a second copy over a lost one (a lost offer leaves its days
    untransferred, unsaid; a second copy costs a glance and its Catch up acts once), and
    the copy says why it came again. The admin not yet posted to gets the offer once."""
    store = _ready(bot)
    bot.slack.add_user("UADMIN2", "uadmin2")
    with unit_of_work(bot.database.factory) as session:
        company_id = session.get_one(ExternalLocation, store).company_id
        set_role(session, company_id, TEAM, "UADMIN2", Role.ADMIN)
    offered, _ = missed_days(bot, store)
    _enqueue(bot, offered)
    bot.drain()
    offer = "3 days of *Pizzeria Beispiel Teltow* are not transferred"
    assert len(messages(bot, offer)) == 2, "one to each admin"
    killed_after_commit(bot, Job.kind == JobKind.MISSED_DAYS, {f"dm_{TEAM}_{ADMIN}_posting": True})
    bot.drain()
    offers = messages(bot, offer)
    assert [call.args["channel"] for call in offers[2:]] == [ADMIN, "UADMIN2"]
    again, first_time = offers[2], offers[3]
    assert SENT_AGAIN in texts(again) and ActionId.CATCH_UP in texts(again)
    assert SENT_AGAIN not in texts(first_time), "this admin was not posted to before"
    assert not [c for c in bot.slack.calls if c.method == "conversations.history"], (
        "a direct message is not looked for: the bot cannot read it"
    )
    with bot.database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == JobKind.MISSED_DAYS))
    assert job.state is JobState.SUCCEEDED and job.result[f"dm_{TEAM}_{ADMIN}"]
