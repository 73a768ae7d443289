"""Acks that wait for nothing: what the web process does between a request and its ack.

A request for a listener answered in a worker (``handlers.answers.ack_first``) is acked by
``AckThenQueue`` in the request's own thread, before the listener would even be started:
no database, and not Bolt's wait for an ``ack()`` from its listener thread (Bolt looks
every 10 ms). Its answer job is queued after the ack, on Bolt's listener pool (drained on
shutdown, so nothing acked is lost), in one statement that also finds the company and is
the delivery's replay record: the same signed request sent again queues nothing.

Every other listener (modal submissions, buttons answered here, events) runs after
``OncePerDelivery`` recorded its delivery, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener
from slack_bolt.middleware import Middleware

from stockpot.bot.errors import handle_error
from stockpot.bot.replays import OncePerDelivery, delivery_key, ignored
from stockpot.core.deliveries import first_delivery
from stockpot.core.jobs.runtime import Answer
from stockpot.handlers.answers import answered_by_job
from stockpot.handlers.context import services

log = logging.getLogger(__name__)


def route(app: App) -> None:
    """Give each listener of the web app its way in (once every listener is registered).
    A worker's answering app gets neither: the web process let its requests through."""
    once = OncePerDelivery()
    pool = app.listener_runner.listener_executor
    for listener in app._listeners:  # Bolt keeps no public list of them
        way_in = AckThenQueue(listener, pool) if answered_by_job(listener.ack_function) else once
        # Last: after Bolt's own listener middleware, the listener will run.
        listener.middleware = [*listener.middleware, way_in]


class AckThenQueue(Middleware):
    """Ack now; queue the answer job after the ack (see the module's docstring)."""

    def __init__(self, listener: Listener, pool: Executor) -> None:
        self.listener = listener
        self.pool = pool

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]
    ) -> BoltResponse:
        self.pool.submit(self.queue, req, resp)
        return BoltResponse(status=200, body="")

    def queue(self, req: BoltRequest, resp: BoltResponse) -> None:
        context, body = req.context, req.body
        bundle = services(context)
        team = context.team_id or ""
        key = delivery_key(body)
        try:
            queued = bundle.jobs.answer_later(body, team, _channel(req), key)
        except Exception as error:
            handle_error(error, body, context.client, req, bundle.settings.slack.response_hosts)
            return
        if queued is Answer.DELIVERED_BEFORE:
            ignored(str(key))
        elif queued is Answer.NO_COMPANY:
            # Answered here (no worker can take it): recorded once, like any other request.
            if key is None or first_delivery(bundle.factory, team, key):
                assert bundle.answers is not None
                bundle.answers.submit(self.listener.run_ack_function, request=req, response=resp)
            else:
                ignored(key)


def _channel(req: BoltRequest) -> str | None:
    channel = req.body.get("channel_id")
    return str(channel) if channel else req.context.channel_id
