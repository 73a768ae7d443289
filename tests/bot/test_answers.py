"""Slack answers are worked out by a worker: the web process acks and queues the request."""

from __future__ import annotations

import json

from sqlalchemy import select

from stockpot.bot.ids import ActionId
from stockpot.core.models import Job, JobKind, JobState
from tests.bot.conftest import ADMIN


def test_a_command_is_acked_here_and_answered_by_the_worker(bot):
    answer = bot.send.command("/pos", "help", user=ADMIN)
    assert answer.status_code == 200 and answer.text == ""  # the ack carries no answer
    bot.slack.wait_for("response_url", where=lambda c: "/pos help" in json.dumps(c.args))
    bot.drain()
    with bot.database.session() as session:
        jobs = session.scalars(select(Job).where(Job.kind == JobKind.ANSWER)).all()
    assert [(job.state, job.worker_id) for job in jobs] == [
        (JobState.SUCCEEDED, bot.worker.worker_id)
    ]
    body = jobs[0].payload["body"]
    assert (body["command"], body["text"]) == ("/pos", "help")
    assert "token" not in body  # Slack's verification token is never stored
    assert jobs[0].result == {"answered": True}


def test_a_button_is_answered_by_the_worker_too(bot):
    bot.send.block_action(ActionId.MAP_OPEN, "999999", user=ADMIN)
    bot.slack.wait_for("response_url")
    bot.drain()
    with bot.database.session() as session:
        kinds = session.scalars(select(Job.kind).where(Job.kind == JobKind.ANSWER)).all()
    assert kinds == [JobKind.ANSWER]
