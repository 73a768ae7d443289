"""Slack away when a job's failure is to be told (after slack_sdk's own retries): the telling
stays owed and is said once Slack is back, in one message, never two; Slack refusing for good
(an archived channel) is said once in the log with the job's id and not tried again. A job's
own result had the same gap: it is owed with the job's success and said the same way.

Before, the failure was logged (``could not post to Slack channel …``) and its telling cleared
as if told: "Importing…" stayed for ever, an automatic transfer's failure was never posted,
a transfer's result was never posted.
"""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import select

from stockpot.bot.ids import ActionId
from stockpot.core.jobs.queue import ClaimedJob
from stockpot.core.models import Job, JobKind, JobState
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN
from tests.bot.test_csv_upload import setup, share, updates
from tests.bot.test_jobs_flow import GOLDEN, _job, _ready, failing_automatic_transfer
from tests.bot.test_slack_app import reply, texts
from tests.core.csv_import.files import GERMAN

ALERT = f"Not transferred: Pizzeria Beispiel Teltow, {GOLDEN}"

AWAY = {
    # slack_sdk retries a 503 twice, a dropped connection once, a 429 three times.
    "service_unavailable": (Fault.status(503, {"ok": False, "error": "service_unavailable"}), 3),
    "dropped": (Fault(drop=True), 2),
    "ratelimited": (
        Fault.status(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
        4,
    ),
}


def when_telling(bot, then) -> threading.Event:
    """``then()`` once, when the first job's failure is recorded and before it is told
    (``Worker.before_telling``)."""
    done = threading.Event()

    def hook(job: ClaimedJob) -> None:
        if not done.is_set():
            done.set()
            then()

    bot.worker.before_telling = hook
    return done


def automatic_transfer_failing(bot) -> int:
    """The golden day's automatic transfer, queued to fail (``failing_automatic_transfer``):
    its job's id."""
    return failing_automatic_transfer(bot)[2]


def alerts(bot) -> list:
    return [c for c in bot.slack.calls if c.method == "chat.postMessage" and ALERT in texts(c)]


@pytest.mark.parametrize("away", sorted(AWAY))
def test_a_failure_posted_while_slack_is_away_is_posted_once_it_is_back(bot, away):
    job_id = automatic_transfer_failing(bot)
    fault, times = AWAY[away]
    told = when_telling(
        bot, lambda: bot.slack.faults.add(fault, path="/api/chat.postMessage", times=times)
    )
    bot.drain()
    assert told.is_set()
    (alert,) = alerts(bot)
    assert ActionId.JOB_RETRY in texts(alert)
    job = _job(bot, job_id)
    assert (job.state, job.telling) == (JobState.FAILED, None)
    assert job.result["failure_ts"] == alert.ts, "kept for Retry's note and the next failure"


def test_a_failure_slack_posted_but_whose_answer_was_lost_is_not_posted_twice(bot):
    """Slack carried the post out, and its answer was cut short: the next try finds the
    message by the key it carries (``conversations.history``) instead of posting again."""
    job_id = automatic_transfer_failing(bot)
    when_telling(
        bot, lambda: bot.slack.faults.add(Fault(truncate=True), path="/api/chat.postMessage")
    )
    bot.drain()
    (alert,) = alerts(bot)
    job = _job(bot, job_id)
    assert (job.telling, job.result["failure_ts"]) == (None, alert.ts)
    assert [c.method for c in bot.slack.calls].count("conversations.history") >= 1


def test_a_refusal_slack_could_not_take_replaces_importing_once_it_is_back(bot):
    """The refusal replaces "Importing…" (``chat.update``), which stayed for ever."""
    setup(bot)
    preview = share(bot, "F10", "kasse.csv", GERMAN)
    bot.slack.faults.add(Fault.status(500), path=r"^/files/", times=1)
    fault, times = AWAY["service_unavailable"]
    when_telling(bot, lambda: bot.slack.faults.add(fault, path="/api/chat.update", times=times))
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    bot.drain()
    (refused,) = updates(bot, preview.ts, "refused")
    assert "the download failed (HTTP 500)" in texts(refused)
    with bot.database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == JobKind.CSV_IMPORT))
        assert (job.state, job.telling, job.result["answer_ts"]) == (
            JobState.FAILED,
            None,
            preview.ts,
        )


def test_a_failure_slack_refuses_for_good_is_logged_once_and_not_tried_again(bot, caplog):
    """The report channel was archived: Slack answers ``is_archived``, which no wait
    changes."""
    job_id = automatic_transfer_failing(bot)
    since: list[int] = []

    def archived() -> None:
        bot.slack.archive("C0001")
        since.append(len(bot.slack.requests))

    when_telling(bot, archived)
    with caplog.at_level(logging.WARNING):
        bot.drain()
    tries = [r for r in bot.slack.requests[since[0] :] if r.path == "/api/chat.postMessage"]
    assert alerts(bot) == [] and len(tries) == 1
    said = [r.getMessage() for r in caplog.records if f"job {job_id}" in r.getMessage()]
    assert said == [
        f"job {job_id}: how it ended was not told (Slack answered is_archived), not tried again"
    ]
    assert _job(bot, job_id).telling is None


def posted_results(bot) -> list:
    return [
        c
        for c in bot.slack.calls
        if c.method == "chat.postMessage"
        and f"Posted: Pizzeria Beispiel Teltow, {GOLDEN}" in texts(c)
    ]


@pytest.mark.parametrize("away", sorted(AWAY))
def test_a_result_slack_was_away_for_is_posted_once_the_job_is_done(bot, away):
    """The job's own message had the same gap: a transfer's result, lost after slack_sdk's
    retries (the ledger right, the person never told)."""
    _ready(bot)
    fault, times = AWAY[away]
    bot.slack.faults.add(fault, path="/api/chat.postMessage", times=times)
    bot.send.command("/transfer", f"{GOLDEN} Pizzeria Beispiel Teltow --now", user=ADMIN)
    reply(bot, f"Posting {GOLDEN}")
    bot.drain()
    (result,) = posted_results(bot)
    with bot.database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == JobKind.TRANSFER))
    assert (job.state, job.attempts, job.telling) == (JobState.SUCCEEDED, 1, None)
    assert job.result["result_ts"] == result.ts


def test_an_import_s_result_slack_was_away_for_replaces_importing_once_it_is_back(bot):
    """ "Importing…" stayed for ever when Slack was away as the import's outcome replaced it."""
    setup(bot)
    preview = share(bot, "F11", "kasse.csv", GERMAN)
    fault, times = AWAY["service_unavailable"]
    bot.slack.faults.add(fault, path="/api/chat.update", times=times)
    bot.send.click(preview.ts, ActionId.CSV_IMPORT, user=ADMIN)
    reply(bot, "Importing, started by <@UADMIN>")
    bot.drain()
    (done,) = updates(bot, preview.ts, "Imported kasse.csv")
    assert "Imported *kasse.csv* by <@UADMIN>: 5 rows" in texts(done)
    assert "Importing" not in bot.slack.workspace.message(preview.ts).text
    with bot.database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == JobKind.CSV_IMPORT))
        assert (job.state, job.telling, job.result["answer_ts"]) == (
            JobState.SUCCEEDED,
            None,
            preview.ts,
        )
