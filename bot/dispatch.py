"""Bolt's dispatch at a small, constant cost per request, with the request's log context.

Bolt calls a middleware or a listener matcher given as a function through its argument
injection (``slack_bolt.kwargs_injection.build_required_kwargs``), which builds every
argument a function could ask for (a ``say``, a ``respond``, the payload seen as each kind of
request, ~30 in all) on every call, ~40 µs each. A request went through five global
middleware and the matchers of every listener registered before its own: about 10 such calls,
0.4 ms of the web process's 1.1 ms of CPU per request (``bench.ack_profile --profile``),
paid again by the worker answering it. Here the global middleware are Bolt ``Middleware``
objects (called directly, as Bolt calls its own), and each matcher Bolt built from a
listener's constraints (a function of ``body`` alone) is called with ``body``.

Bolt runs global middleware one after the other, not nested: a middleware's ``next()`` only
says "go on", so a ``with`` around it ends before any listener starts. The request's log
context is therefore bound around the whole dispatch (``StockpotApp``): every log line of
the request, and of the listener runs it submits (their executor copies the context), has
its ``request_id`` and ``team_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.listener_matcher.listener_matcher import ListenerMatcher
from slack_bolt.middleware import Middleware

from stockpot.core import log_context

Check = Callable[[BoltRequest], BoltResponse | None]


class StockpotApp(App):
    """Bolt's ``App``, dispatching each request inside its log context."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        with log_context.bound(
            request_id=log_context.current().get("request_id") or log_context.new_request_id(),
            team_id=req.context.team_id,
        ):
            return super().dispatch(req)


class Before(Middleware):
    """A global middleware Bolt calls directly: ``check(req)`` answers the request (a
    response) or lets it go on (``None``)."""

    def __init__(self, check: Check) -> None:
        self.check = check

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]
    ) -> BoltResponse | None:
        answer = self.check(req)
        if answer is not None:
            return answer
        next()
        return resp

    @property
    def name(self) -> str:
        return f"Before({self.check.__qualname__})"


class BodyMatcher(ListenerMatcher):
    """One of Bolt's own matchers (``func(body) -> bool``), called with the body alone."""

    def __init__(self, func: Callable[[dict[str, Any]], bool]) -> None:
        self.func = func

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return self.func(req.body)


def direct_matchers(app: App) -> None:
    """Have every listener's matchers that Bolt built from its constraints (``app.command``,
    ``app.action``, ``app.view``…: functions of ``body``) called with ``body`` alone. Any
    other matcher is left as it is."""
    for listener in app._listeners:  # Bolt keeps no public list of them
        listener.matchers = [
            BodyMatcher(matcher.func)
            if type(matcher) is BuiltinListenerMatcher and matcher.arg_names == ["body"]
            else matcher
            for matcher in listener.matchers
        ]
