"""Slack away or rate-limiting while a job reports: the ledger is posted once, the message is
retried and arrives once."""

from __future__ import annotations

from sqlalchemy import func, select

from stockpot.core.models import Job, JobKind, JobState, LedgerMovement, TransferRun
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN
from tests.bot.test_jobs_flow import GOLDEN, _ready
from tests.bot.test_slack_app import reply, texts


def _transfer_reported_through(bot, fault: Fault) -> None:
    _ready(bot)
    bot.slack.faults.add(fault, path="/api/chat.postMessage", times=1)
    bot.send.command("/transfer", f"{GOLDEN} Pizzeria Beispiel Teltow --now", user=ADMIN)
    reply(bot, f"Posting {GOLDEN}")
    bot.drain()
    posted = [
        call
        for call in bot.slack.calls
        if call.method == "chat.postMessage" and "Posted: Pizzeria" in texts(call)
    ]
    assert len(posted) == 1, "the message arrives once"
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 1
        assert session.scalar(select(func.count()).select_from(LedgerMovement)) == 1
        work = select(Job.state).where(Job.kind != JobKind.ANSWER)  # answers are jobs too
        assert session.scalars(work).all() == [JobState.SUCCEEDED] * 2


def test_a_rate_limited_result_message_is_retried_after_retry_after(bot):
    _transfer_reported_through(
        bot, Fault.status(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    )


def test_a_dropped_connection_to_slack_is_retried(bot):
    _transfer_reported_through(bot, Fault(drop=True))


def test_a_slack_server_error_is_retried(bot):
    """Slack answers 500 or 503 in an incident of its own (its status page's "degraded"):
    the message was lost after one try, where a dropped connection was retried."""
    _transfer_reported_through(
        bot, Fault.status(503, {"ok": False, "error": "service_unavailable"})
    )
