"""Answers posted to a request's ``response_url``, and one log line when one cannot be.

slack_sdk's ``WebhookClient`` logs a failed post itself, once per attempt (its own retry of a
dropped connection), and its retry lines carry the full URL, whose path is the answer's
secret. Those lines are dropped (``_WebhookFailureLines``: that logger, those lines only);
``Answer`` raises the failure as ``Undelivered`` instead, which the error handler logs once,
naming the host alone (``bot.errors``). How a post is tried (its retries) is slack_sdk's as
before.
"""

from __future__ import annotations

import logging
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import BoltRequest, Respond
from slack_sdk.webhook import WebhookClient, WebhookResponse

UNREACHABLE = (OSError, HTTPException)
"""What a post raises when Slack was not reached (refused, timed out, cut off)."""


def where(url: str) -> str:
    """``url`` without its path and query (where a response_url keeps its secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class Refused(Exception):
    """Slack was reached and refused the answer: a ``response_url`` takes five answers
    within thirty minutes (``used_url``, ``expired_url``) and a message's blocks within
    their limits (``invalid_blocks``); slack_sdk returns such an answer, it does not raise."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"Slack answered {status} {body.strip()[:200]}")


def delivered(url: str, response: WebhookResponse) -> WebhookResponse:
    """``response`` if Slack took the answer; ``Undelivered`` if it refused it."""
    if response.status_code != 200:
        raise Undelivered(url, Refused(response.status_code, response.body or ""))
    return response


class Undelivered(Exception):
    """An answer Slack did not take: it could not be reached (the connection failed or timed
    out) or it refused the answer (``Refused``)."""

    def __init__(self, url: str, error: Exception) -> None:
        self.where = where(url)
        self.error = error
        said = str(error).replace(url, self.where).replace(urlsplit(url).path, "")
        super().__init__(f"{self.where}: {type(error).__name__}: {said}")


class Answer(Respond):
    """Bolt's ``respond``, raising ``Undelivered`` when the post does not get through."""

    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        try:
            response = super().__call__(*args, **kwargs)
        except UNREACHABLE as error:
            raise Undelivered(str(self.response_url), error) from error
        return delivered(str(self.response_url), response)


def send(url: str, timeout: int, **message: Any) -> WebhookResponse:
    """Post ``message`` to ``url`` within ``timeout`` seconds (``Undelivered`` if Slack was
    not reached or refused it)."""
    try:
        response = WebhookClient(url, timeout=timeout).send(**message)
    except UNREACHABLE as error:
        raise Undelivered(url, error) from error
    return delivered(url, response)


def answer_middleware(req: BoltRequest) -> None:
    """A global middleware (``bot.dispatch.Before``): the listeners' ``respond`` is an
    ``Answer``."""
    context = req.context
    if context.response_url:
        context["respond"] = Answer(
            response_url=context.response_url,
            proxy=context.client.proxy if context.client else None,
            ssl=context.client.ssl if context.client else None,
        )


class _WebhookFailureLines(logging.Filter):
    """slack_sdk's own lines about a failed post (``Undelivered`` says it once, instead)."""

    DROPPED = (
        "Failed to send a request to Slack API server",
        "A retry handler found",
        "Going to retry the same request",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.DROPPED)


logging.getLogger("slack_sdk.webhook.client").addFilter(_WebhookFailureLines())
