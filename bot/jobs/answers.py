"""Slack answers worked out by a worker: the web process acks and queues the request
(``handlers.answers.ack_first``); the worker dispatches it through an answering Bolt app of
its own (the same listeners, answering at once), which posts to the request's
``response_url`` or opens its modal exactly as the web process used to.

An answer job has a second attempt only when its first worker died mid-answer; that attempt
runs the listener again. What the listener changes is keyed by the job
(``handlers.context.effect_key``: a stock posting is not posted twice; a change's answer is
kept with it by ``said_once``: "Bar created" is not retold "Bar already exists"), and the
messages and files it posts through its client are found again instead of posted twice
(``OnceWebClient``, as ``bot.jobs.slack`` does for job messages). Answers through the
``response_url`` cannot be looked up in Slack: a button's answer replaces its message
(idempotent), a command's ephemeral answer may show twice to the one who asked."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk.web import SlackResponse

from stockpot.bot.jobs.slack import files_named, find_file, find_message, stamped
from stockpot.bot.observed import MeteredWebClient, metered
from stockpot.core.db import utcnow
from stockpot.core.errors import StockpotError
from stockpot.core.jobs.specs import AnswerPayload, payload_of
from stockpot.core.jobs.worker import JobContext, JobHandler
from stockpot.handlers.context import ANSWERING, Answering

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
        answering = Answering(
            job.id,
            retry=job.attempts > 1,
            since=job.created_at,
            kept=context.result,
            keep=context.save,
        )
        try:
            self.app.dispatch(
                BoltRequest(body=body, mode="socket_mode", context={ANSWERING: answering})
            )
        except Exception as error:
            # Not retried: the answer may be half given. The second attempt an answer job
            # has is for a worker that died mid-answer (``core.jobs.specs.answer``).
            raise AnswerFailed(f"the answer failed ({type(error).__name__})") from error
        return {"answered": True}


class AnswerFailed(StockpotError):
    code = "answer_failed"
    transient = False


class OnceWebClient(MeteredWebClient):
    """A listener's client in an answer job: each message it posts carries the answer's
    next key in its ``metadata``; on the job's second attempt each post and upload is looked
    for first (``find_message``, ``find_file``) and, found, answered from Slack's record
    rather than made again."""

    answering: Answering

    def chat_postMessage(self, *, channel: str, **kwargs: Any) -> SlackResponse:  # noqa: N802 - slack_sdk's name
        stamp = self.answering.next_stamp()
        if self.answering.retry:
            found = find_message(
                self, channel, stamp, self.answering.since, kwargs.get("thread_ts")
            )
            if found:
                return self._found({"ok": True, "channel": channel, "ts": found})
        return super().chat_postMessage(channel=channel, **stamped(kwargs, stamp))

    def files_upload_v2(self, **kwargs: Any) -> SlackResponse:
        channel, name = kwargs.get("channel"), kwargs.get("filename")
        title = kwargs.get("title") or name
        if not channel or not name:
            return super().files_upload_v2(**kwargs)
        answering, key = self.answering, self.answering.next_upload()
        besides = answering.kept.get(key)
        if besides is not None:  # an earlier attempt got to this upload: did Slack take it?
            if find_file(self, str(channel), str(name), str(title), answering.since, besides):
                return self._found({"ok": True, "files": []})
        else:  # the files of that name already there (another answer's) are not this one
            there = files_named(self, str(channel), str(name), str(title), answering.since)
            if answering.keep is not None:
                answering.keep(**{key: sorted(there or ())})
        return super().files_upload_v2(**kwargs)

    def _found(self, data: dict[str, Any]) -> SlackResponse:
        return SlackResponse(
            client=self,
            http_verb="POST",
            api_url=self.base_url,
            req_args={},
            data=data,
            headers={},
            status_code=200,
        )


def once_clients(req: BoltRequest) -> None:
    """The answering app's global middleware (``bot.dispatch.Before``): a request answered
    for an answer job gets an ``OnceWebClient`` (the same client, its posting methods keyed
    by the job)."""
    context = req.context
    answering = context.get(ANSWERING)
    if isinstance(answering, Answering) and context.client is not None:
        client = metered(context.client)
        client.__class__ = OnceWebClient
        client.answering = answering  # type: ignore[attr-defined]
