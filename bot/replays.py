"""A Bolt middleware that lets each Slack delivery through once (see ``core.deliveries``).

The key names the delivery, not its content: a click is its action's ``action_ts`` (and who
clicked what), a command, shortcut or form submission its ``trigger_id`` (new for every
submission, so a form sent again after a refusal is a new delivery), an event its
``event_id``. Suggestions for a search box change nothing and are not recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from stockpot.core.deliveries import first_delivery
from stockpot.handlers.context import services

log = logging.getLogger(__name__)


def delivery_key(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        action = actions[0] if isinstance(actions[0], dict) else {}
        stamp = action.get("action_ts")
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{action.get('action_id')}:{stamp}" if stamp else None
    if kind == "event_callback":
        return f"event:{body['event_id']}" if body.get("event_id") else None
    if kind in ("block_suggestion", "view_closed", "url_verification"):
        return None
    trigger = body.get("trigger_id")
    if not trigger:
        return None
    return f"{body.get('command') or kind or 'request'}:{trigger}"


class OncePerDelivery(Middleware):
    """A listener's middleware (``bot.acks`` attaches it to every listener the web process
    answers itself): the delivery is recorded before the listener runs, and a delivery seen
    before gets an empty 200 (Slack must not retry it) and nothing else. Requests answered
    by a worker skip it: their answer job is their record (``core.jobs.queue.enqueue_answers``)."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]
    ) -> BoltResponse | None:
        key = delivery_key(req.body)
        context = req.context
        if key is None or first_delivery(services(context).factory, context.team_id or "", key):
            next()
            return resp
        ignored(key)
        return BoltResponse(status=200, body="")


def ignored(key: str) -> None:
    log.warning("ignored a request delivered before (%s)", key.split(":", 1)[0])
