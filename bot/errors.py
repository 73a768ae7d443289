"""One place that turns any failure in a listener into a friendly, private message."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.blocks.common import escape
from stockpot.bot.gate import is_verified
from stockpot.bot.missing_scope import missing_permission
from stockpot.bot.private import tell_privately
from stockpot.bot.responses import Undelivered, send
from stockpot.bot.slack_files import allowed_host
from stockpot.core import log_context
from stockpot.core.errors import StockpotError

log = logging.getLogger(__name__)

GONE = frozenset({"message_not_found", "cant_update_message"})
"""``chat.update`` errors that mean the message cannot be replaced, ever (someone deleted
it)."""

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")

LATE_TRIGGER = "expired_trigger_id"
"""What ``views.open`` answers after Slack's 3 seconds from the command or click (reference
slack.md §1.5): a worker behind a long queue of answers may be that late."""


def late_form(error: Exception, body: dict[str, Any]) -> str | None:
    """What the person is told when Slack no longer opens the form they asked for (one
    warning line in the log, no traceback: nothing is broken), else ``None``."""
    if not isinstance(error, SlackApiError) or error.response.get("error") != LATE_TRIGGER:
        return None
    asked = _request_name(body)
    log.warning(
        "Slack did not open the form of %s: %s (the answer came after Slack's 3 seconds)",
        asked,
        LATE_TRIGGER,
    )
    if body.get("command"):
        typed = " ".join(part for part in (asked, str(body.get("text") or "").strip()) if part)
        again = f"run `{typed}` again"
    else:
        again = "click again"
    return (
        ":warning: Slack did not open the form: it opens one only within 3 seconds of the "
        f"command or click, and Stockpot was busy for longer. Nothing was changed; {again}."
    )


def user_message(error: Exception) -> str:
    """What the person is told: the error itself when it is meant for users, else a reference
    to the log (the details never go to Slack)."""
    if isinstance(error, StockpotError):
        return f":warning: {error}"
    reference = uuid.uuid4().hex[:8]
    log.error("unexpected error (reference %s)", reference, exc_info=error)
    return (
        f":warning: Something went wrong (reference `{reference}`); the details are in the "
        "bot's log."
    )


ANSWER_TIMEOUT_SECONDS = 5
"""The error handler may run on a request thread: it never waits long for Slack."""


def error_handler(response_hosts: str) -> Callable[..., BoltResponse]:
    """Bolt's global error handler; answers go only to ``response_url``s on ``response_hosts``."""

    def handle(
        error: Exception, body: dict[str, Any], client: WebClient, request: BoltRequest
    ) -> BoltResponse:
        return handle_error(error, body, client, request, response_hosts)

    return handle


def handle_error(
    error: Exception,
    body: dict[str, Any],
    client: WebClient,
    request: BoltRequest,
    response_hosts: str,
) -> BoltResponse:
    """Only a request the gate verified (or one from the Socket Mode connection) is answered
    in Slack; anything else gets a 401 and no outbound call."""
    if request.mode != "socket_mode" and not is_verified(request.headers):
        log.warning("an error on a request that was not verified; nothing sent to Slack")
        return BoltResponse(status=401, body="")
    if isinstance(error, Undelivered):
        # The answer's own response_url is what failed: nobody to tell through it.
        _undelivered("the answer to", body, error)
        return BoltResponse(status=200, body="")
    text = late_form(error, body) or user_message(missing_permission(error) or error)
    if isinstance(error, StockpotError):
        log.info("refused: %s", error)
    if body.get("type") == "view_submission":
        return _in_the_form(body, text)  # a form's errors are plain text: not escaped
    # Escaped as Slack's mrkdwn requires: a "<company name>" would vanish otherwise.
    text = escape(text) + _mentions(error)
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    response_url = body.get("response_url")
    try:
        if response_url and allowed_host(str(response_url), response_hosts):
            send(str(response_url), ANSWER_TIMEOUT_SECONDS, text=text, response_type="ephemeral")
        elif channel and user:
            tell_privately(client, channel, user, text=text)
    except Undelivered as undelivered:
        _undelivered("the error message for", body, undelivered)
    except Exception:
        log.exception("could not tell the user about an error")
    return BoltResponse(status=200, body="")


def _undelivered(what: str, body: dict[str, Any], error: Undelivered) -> None:
    """One line, no traceback: what could not be answered, in which job, and why (the URL's
    host alone: its path is the answer's secret)."""
    job = log_context.current().get("job_id")
    log.warning(
        "could not deliver %s %s%s to its response_url: %s",
        what,
        _request_name(body),
        f" (answer job {job})" if job is not None else "",
        error,
    )


def _request_name(body: dict[str, Any]) -> str:
    """The command, button or form a request is."""
    if body.get("command"):
        return str(body["command"])
    actions = body.get("actions") or []
    if actions:
        return f"action {actions[0].get('action_id')}"
    return str(body.get("type") or "request")


def _mentions(error: Exception) -> str:
    users = [u for u in getattr(error, "mention", ()) if _USER_ID.fullmatch(u)]
    return f" ({', '.join(f'<@{user}>' for user in users)})" if users else ""


def _in_the_form(body: dict[str, Any], text: str) -> BoltResponse:
    """A refused form keeps its modal open and says why under its first input (a submission
    has no channel to answer in)."""
    inputs = [
        block.get("block_id")
        for block in (body.get("view") or {}).get("blocks", [])
        if block.get("type") == "input" and block.get("block_id")
    ]
    if not inputs:
        return BoltResponse(status=200, body="")
    answer = {"response_action": "errors", "errors": {inputs[0]: text[:150]}}
    return BoltResponse(
        status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
    )
