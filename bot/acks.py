"""Acks that wait for nothing: what the web process does between a request and its ack.

A request for a listener answered in a worker (``handlers.answers.ack_first``) is acked by
``AckThenQueue`` in the request's own thread, before the listener would even be started:
no database, and not Bolt's wait for an ``ack()`` from its listener thread (Bolt looks
every 10 ms). Its answer job is queued after the ack, on Bolt's listener pool (drained on
shutdown, so nothing acked is lost), by one statement that also finds the company and is
the delivery's replay record: the same signed request sent again queues nothing. The
requests acked while one such statement runs are queued together by the next
(``AnswerBatches``): a burst costs a statement per batch, not per request.

Every other listener (modal submissions, buttons answered here, events) runs after
``OncePerDelivery`` recorded its delivery, as before.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener
from slack_bolt.middleware import Middleware

from stockpot.bot.errors import handle_error
from stockpot.bot.replays import OncePerDelivery, delivery_key, ignored
from stockpot.core.deliveries import first_delivery
from stockpot.core.jobs.runtime import Answer, AnswerWanted
from stockpot.handlers.answers import answered_by_job
from stockpot.handlers.context import services

log = logging.getLogger(__name__)


def route(app: App) -> None:
    """Give each listener of the web app its way in (once every listener is registered).
    A worker's answering app gets neither: the web process let its requests through."""
    once = OncePerDelivery()
    answers = AnswerBatches(app.listener_runner.listener_executor)
    for listener in app._listeners:  # Bolt keeps no public list of them
        way_in = AckThenQueue(listener, answers) if answered_by_job(listener.ack_function) else once
        # Last: after Bolt's own listener middleware, the listener will run.
        listener.middleware = [*listener.middleware, way_in]


class AckThenQueue(Middleware):
    """Ack now; queue the answer job after the ack (see the module's docstring)."""

    def __init__(self, listener: Listener, answers: AnswerBatches) -> None:
        self.listener = listener
        self.answers = answers

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]
    ) -> BoltResponse:
        self.answers.add(Acked(self.listener, req, resp, contextvars.copy_context()))
        return BoltResponse(status=200, body="")


@dataclass(frozen=True)
class Acked:
    """A request acked here whose answer job is not queued yet; ``context``: its request's
    context variables (its log lines keep the request's id)."""

    listener: Listener
    req: BoltRequest
    resp: BoltResponse
    context: contextvars.Context


BATCH = 16
"""Most answer jobs queued by one statement."""
BURST = BATCH
"""Requests queued without a pause (each acked while the statement before it ran) that make
a burst: from then on the workers hold their claims a moment
(``core.jobs.worker.AckBursts``), leaving the CPU to the acks. At the rates people type a
request is queued alone, and a few that meet are no burst."""
BURST_BATCH = 4
"""A batch this large is a burst at once: four requests acked while one statement ran (a
few milliseconds) is about a thousand a second. At 30 a second three more arrive in the
same 3 ms about once in ten thousand statements; a burst otherwise told only after 16 had
let the workers start answering its first ones beside its acks."""


class AnswerBatches:
    """The answer jobs of acked requests, queued by one thread at a time, in one statement
    for all the requests acked since its last one: a burst costs a statement (and one
    ``NOTIFY``) per batch, not per request, and one thread on the interpreter lock instead of
    one per request. A request alone (at the rates people type) is queued at once, as before.

    The thread is a task on Bolt's listener pool, so what drains that pool on shutdown
    (``bot.serving``, ``SIGTERM`` included) waits for every acked request to be queued:
    while it runs it takes what was acked meanwhile before it ends."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool
        self._guard = threading.Lock()
        self._waiting: list[Acked] = []
        self._queueing = False

    def add(self, acked: Acked) -> None:
        with self._guard:
            self._waiting.append(acked)
            if self._queueing:
                return  # the running task takes it with its next batch
            self._queueing = True
        self.pool.submit(self._queue_all)

    def _queue_all(self) -> None:
        queued = 0
        while True:
            with self._guard:
                batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
                if not batch:
                    self._queueing = False
                    return
            try:
                queue(batch, burst=queued >= BURST or len(batch) >= BURST_BATCH)
            except Exception:
                # The loop must go on: the requests acked after this batch wait on it alone.
                log.exception("could not queue the answers of %d acked request(s)", len(batch))
            queued += len(batch)


def queue(batch: list[Acked], *, burst: bool) -> None:
    """Queue the answer jobs of ``batch`` (one statement); a request whose workspace speaks
    for no company yet is answered here, a replayed one is ignored."""
    bundle = services(batch[0].req.context)  # one app: the same services for every request
    wanted = [
        AnswerWanted(
            acked.req.body,
            acked.req.context.team_id or "",
            _channel(acked.req),
            delivery_key(acked.req.body),
        )
        for acked in batch
    ]
    try:
        outcomes = bundle.jobs.answer_all_later(wanted, burst=burst)
    except Exception as error:
        for acked in batch:
            acked.context.run(_tell, error, acked)
        return
    for acked, one, outcome in zip(batch, wanted, outcomes, strict=True):
        acked.context.run(_settle, acked, one, outcome)


def _tell(error: Exception, acked: Acked) -> None:
    req = acked.req
    settings = services(req.context).settings
    handle_error(error, req.body, req.context.client, req, settings.slack.response_hosts)


def _settle(acked: Acked, wanted: AnswerWanted, outcome: Answer) -> None:
    key = wanted.delivery
    if outcome is Answer.DELIVERED_BEFORE:
        ignored(str(key))
    elif outcome is Answer.NO_COMPANY:
        # Answered here (no worker can take it): recorded once, like any other request.
        bundle = services(acked.req.context)
        if key is None or first_delivery(bundle.factory, wanted.team_id, key):
            assert bundle.answers is not None
            bundle.answers.submit(
                acked.listener.run_ack_function, request=acked.req, response=acked.resp
            )
        else:
            ignored(key)


def _channel(req: BoltRequest) -> str | None:
    channel = req.body.get("channel_id")
    return str(channel) if channel else req.context.channel_id
