"""A job's Slack effects happen once across a worker SIGKILLed between Slack carrying them
out and the worker saving that they happened: the retry on another worker process finds the
message by the key its metadata carries (``conversations.history``) or the file by its name
(``files.list``) instead of posting a second copy."""

from __future__ import annotations

import signal
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from stockpot.bot.app import BOT_SCOPES
from stockpot.core.access import link_workspace
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.runtime import Answer, JobRuntime
from stockpot.core.jobs.specs import Notify
from stockpot.core.models import Company, ExternalLocation, Job, JobKind, JobState, StockPosting
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from stockpot.sandbox.http import Fault
from stockpot.sandbox.slack import SlackStandIn
from tests.bot.conftest import ADMIN, TEAM
from tests.bot.test_answers import takeover_workers
from tests.catalogs import setup_trattoria
from tests.holds import Hold

DAY = date(2026, 11, 27)


def _report_job(database) -> int:
    """A daily report asked for in C0001, of a day that sold something (so it has a chart)."""
    setup_trattoria(database)
    with unit_of_work(database.factory) as session:
        company = session.scalars(select(Company)).one()
        link_workspace(session, TEAM, company, ADMIN)
        company_id = company.id
        room = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == "Main room")
        )
    lines = [SaleLine("S1", "1", "101", "Margherita", Decimal(4))]
    run_transfer(database.factory, room, DAY, lines, RawInput("t", "[]"))
    where = Notify(team_id=TEAM, channel_id="C0001", user_id=ADMIN)
    JobRuntime(database.factory).enqueue(specs.report(company_id, DAY, notify=where))
    with database.session() as session:
        return session.scalar(select(Job.id).where(Job.kind == JobKind.REPORT))


def _killed_after(slack: SlackStandIn, database, path: str) -> subprocess.CompletedProcess:
    """Run the queued job in a ``stockpot worker`` process that Slack answers ``path`` only
    after it is SIGKILLed (Slack did it; the worker never heard), then a second worker."""
    hold = Hold(60)
    arrived, release = hold.arrived, hold.release

    slack.faults.add(Fault(after=hold), path=path)
    worker = takeover_workers(database, slack)
    doomed = worker()
    try:
        assert arrived.wait(60), f"the first worker reached {path}"
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        release.set()
    second = worker("--until-idle")
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    return subprocess.CompletedProcess(second.args, second.returncode, output)


def _reports(slack: SlackStandIn) -> list:
    return [m for m in slack.workspace.messages if m.text.startswith("Daily report of")]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("path", ["/api/chat.postMessage", "/api/files.completeUploadExternal"])
def test_a_worker_killed_between_slack_and_saving_posts_once(database, path):
    job_id = _report_job(database)
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        _killed_after(slack, database, path)
        assert len(_reports(slack)) == 1, "one report message"
        assert [c.method for c in slack.calls].count("chat.postMessage") == 1
        assert len(slack.shared_files) == 1, "one chart"
        (report,) = _reports(slack)
        assert report.metadata == {
            "event_type": "stockpot_job_message",
            "event_payload": {"key": f"job:{job_id}:ts"},
        }
    with database.session() as session:
        job = session.get_one(Job, job_id)
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    assert job.result["ts"] == report.ts


@pytest.mark.postgresql_only
def test_a_retry_does_not_take_an_earlier_jobs_chart_for_its_own(database):
    """The same day's report asked again minutes after the first (its chart has the same
    name and title, in the same channel, within the look-back): a worker killed while its
    chart uploads leaves the retry looking for that chart, and the first report's chart is
    not it. It was taken for it, and the second report went without its chart."""
    _report_job(database)
    with database.session() as session:
        job = session.scalars(select(Job)).one()
        company_id, notify = job.company_id, job.payload["notify"]
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        first = takeover_workers(database, slack)("--until-idle")
        output, _ = first.communicate(timeout=120)
        assert first.returncode == 0, output
        assert len(slack.shared_files) == 1, "the first report's chart"
        JobRuntime(database.factory).enqueue(
            specs.report(company_id, DAY, notify=Notify.model_validate(notify))
        )
        _killed_after(slack, database, "/api/files.getUploadURLExternal")
        assert len(_reports(slack)) == 2
        assert len(slack.shared_files) == 2, "the second report's chart is uploaded"


@pytest.mark.postgresql_only
def test_without_the_history_scope_the_retry_posts_again_rather_than_lose_it(database):
    """An install that refused the history scopes: the lookup is ``missing_scope``, so the
    retry posts a second copy (at least once, never lost), and says so in the log."""
    _report_job(database)
    with SlackStandIn().running() as slack:
        slack.install(
            "xoxb-sandbox",
            [s for s in BOT_SCOPES if s not in ("channels:history", "groups:history")],
        )
        done = _killed_after(slack, database, "/api/chat.postMessage")
        assert len(_reports(slack)) == 2
        assert b"it may be posted twice" in done.stdout


def _answer_job(database, text: str) -> None:
    """``/stock <text>`` in C0001, queued by the web process as an answer job."""
    setup_trattoria(database)
    with unit_of_work(database.factory) as session:
        link_workspace(session, TEAM, session.scalars(select(Company)).one(), ADMIN)
    body = {
        "team_id": TEAM,
        "channel_id": "C0001",
        "user_id": ADMIN,
        "command": "/stock",
        "text": text,
        "response_url": "http://127.0.0.1:9/respond/x",
        "trigger_id": "1.once",
    }
    assert JobRuntime(database.factory).answer_later(body, TEAM, "C0001", "/stock:1.once") is (
        Answer.QUEUED
    )


@pytest.mark.postgresql_only
def test_an_answer_killed_after_its_receipt_and_announcement_posts_each_once(database):
    """``/stock receive``'s worker is SIGKILLed after Slack posted its announcement (the
    receipt committed before): the takeover posts no second receipt (the posting is keyed by
    the answer job) and no second announcement (found by its metadata)."""
    _answer_job(database, "receive Kitchen Flour=25kg")
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        _killed_after(slack, database, "/api/chat.postMessage")
        announced = [m for m in slack.workspace.messages if "posted by" in m.text]
        assert len(announced) == 1, [m.text for m in slack.workspace.messages]
    with database.session() as session:
        assert len(session.scalars(select(StockPosting)).all()) == 1
        job = session.scalars(select(Job).where(Job.kind == JobKind.ANSWER)).one()
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)


@pytest.mark.postgresql_only
def test_an_answer_killed_after_its_upload_uploads_once(database):
    _answer_job(database, "template Kitchen")
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        _killed_after(slack, database, "/api/files.completeUploadExternal")
        assert [f["name"] for f in slack.shared_files] == ["count-Kitchen.csv"]


@pytest.mark.postgresql_only
def test_an_answer_retry_does_not_take_an_earlier_answers_file_for_its_own(database):
    """`/stock template Kitchen` asked twice within minutes: the second answer's worker is
    killed while its file uploads, and the takeover looks for its file. The first answer's
    count-Kitchen.csv (same name and title, same channel, within the look-back) is not it;
    it was taken for it, and the second request never got its sheet."""
    _answer_job(database, "template Kitchen")
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        first = takeover_workers(database, slack)("--until-idle")
        output, _ = first.communicate(timeout=120)
        assert first.returncode == 0, output
        assert [f["name"] for f in slack.shared_files] == ["count-Kitchen.csv"]
        body = {
            "team_id": TEAM,
            "channel_id": "C0001",
            "user_id": ADMIN,
            "command": "/stock",
            "text": "template Kitchen",
            "response_url": "http://127.0.0.1:9/respond/y",
            "trigger_id": "2.once",
        }
        queued = JobRuntime(database.factory).answer_later(body, TEAM, "C0001", "/stock:2.once")
        assert queued is Answer.QUEUED
        _killed_after(slack, database, "/api/files.getUploadURLExternal")
        assert [f["name"] for f in slack.shared_files] == ["count-Kitchen.csv"] * 2
