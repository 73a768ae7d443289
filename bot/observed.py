"""Slack traffic made visible: Web API calls counted by method and outcome, and each request's
log context (request id, workspace) carried into the listener threads.

Bolt builds a fresh ``WebClient`` for every request (``App._init_context``), copying only the
settings of ``app.client``, so a subclass given to the app does not reach the listeners. The
``metered_clients`` middleware turns each request's client into a ``MeteredWebClient`` (same
attributes, only ``api_call`` differs) before any listener sees it.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from slack_bolt import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from stockpot.core import metrics

_METHOD = re.compile(r"[a-z]+(?:\.[a-zA-Z]+){1,3}")


def _method_label(method: str) -> str:
    return method if _METHOD.fullmatch(method) else "other"


class MeteredWebClient(WebClient):
    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        method = _method_label(api_method)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            limited = error.response.status_code == 429 or error.response.get("error") == (
                "ratelimited"
            )
            metrics.slack_call(method, "ratelimited" if limited else "error")
            raise
        except Exception:
            metrics.slack_call(method, "exception")
            raise
        metrics.slack_call(method, "ok")
        return response


def metered(client: WebClient) -> MeteredWebClient:
    """The same client, its calls counted (no copy: everything it holds stays shared)."""
    if not isinstance(client, MeteredWebClient):
        client.__class__ = MeteredWebClient
    return client  # type: ignore[return-value]


def metered_clients(req: BoltRequest) -> None:
    """A global middleware (``bot.dispatch.Before``): the request's client counts its calls."""
    if req.context.client is not None:
        metered(req.context.client)


class ContextCarryingExecutor(ThreadPoolExecutor):
    """A pool whose tasks run in a copy of the submitter's context variables: Bolt runs
    listeners on its executor after the ack, and their log lines keep the request's id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running: set[Future[Any]] = set()
        self._guard = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        copied = contextvars.copy_context()
        future = super().submit(copied.run, fn, *args, **kwargs)
        with self._guard:
            self._running.add(future)
        future.add_done_callback(self._finished)
        return future

    def join(self, timeout: float = 60.0) -> None:
        """Wait until every listener submitted so far has finished (the tests' drain: a click
        is acked before its listener queues the click's job)."""
        with self._guard:
            running = list(self._running)
        wait(running, timeout=timeout)

    def _finished(self, future: Future[Any]) -> None:
        with self._guard:
            self._running.discard(future)
