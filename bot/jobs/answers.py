"""Slack answers worked out by a worker: the web process acks and queues the request
(``handlers.answers.ack_first``); the worker dispatches it through an answering Bolt app of
its own (the same listeners, answering at once), which posts to the request's
``response_url`` or opens its modal exactly as the web process used to."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltRequest

from stockpot.core.db import utcnow
from stockpot.core.errors import StockpotError
from stockpot.core.jobs.specs import AnswerPayload, payload_of
from stockpot.core.jobs.worker import JobContext, JobHandler

log = logging.getLogger(__name__)

RESPONSE_URL_LIFETIME = timedelta(minutes=30)
"""Slack accepts answers on a ``response_url`` for 30 minutes: an answer queued longer
(every worker was down) is dropped, not posted late."""


class AnswerJob(JobHandler):
    """Dispatch a queued request through the answering app."""

    def __init__(self, app: App) -> None:
        self.app = app

    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        if utcnow() - job.created_at > RESPONSE_URL_LIFETIME:
            log.warning("answer job %s waited over 30 minutes; Slack no longer takes it", job.id)
            return {"answered": False}
        # Bolt's Socket Mode form: a parsed body, no signature to check (the web process
        # verified the request before queueing it).
        body = payload_of(AnswerPayload, job.payload).body
        try:
            self.app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        except Exception as error:
            # Not retried: the answer may be half given. The second attempt an answer job
            # has is for a worker that died mid-answer (``core.jobs.specs.answer``).
            raise AnswerFailed(f"the answer failed ({type(error).__name__})") from error
        return {"answered": True}


class AnswerFailed(StockpotError):
    code = "answer_failed"
    transient = False
