"""Acknowledge in the web process, answer in a worker.

Working out an answer (queries, rows, blocks) holds the GIL: done in the web process it
delayed the acks of every other request (bench.slack_ack, issue 17). Listeners wrapped here
are marked; in the web process ``bot.acks`` acks them at once, in the request's own thread,
and queues the request as an ``answer`` job after the ack; a worker, woken at once
(PostgreSQL LISTEN/NOTIFY, or the in-process worker of ``stockpot run`` on SQLite),
dispatches the same request through its own answering app, where the wrapper runs the
listener (its own ``ack()`` does nothing, and any error is reported as Bolt's error handler
would). A request whose workspace speaks for no company yet (``/pos setup``) is answered in
the web process, on a small pool.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Args

from stockpot.bot.errors import handle_error
from stockpot.handlers.context import services

ANSWER_THREADS = 2
"""Answers worked out in the web process: only requests no worker can take (a workspace that
speaks for no company yet). Few: they hold the GIL the acks need."""

ANSWERED_BY_JOB = "stockpot_answered_by_job"
"""The mark ``ack_first`` leaves on a listener (``bot.acks`` looks for it)."""


def answer_pool() -> ThreadPoolExecutor:
    """The pool answers run on: one per app, shut down with it (``stockpot.bot.bootstrap``)."""
    return ThreadPoolExecutor(max_workers=ANSWER_THREADS, thread_name_prefix="stockpot-answer")


def _already_acknowledged(*_: Any, **__: Any) -> None:
    """The request was acked before the listener ran."""


def ack_first(listener: Callable[..., None]) -> Callable[[Args], None]:
    """``listener`` (taking Bolt's usual named arguments) answered after an empty ack,
    in a worker. Only for listeners that ack with nothing (not options or view submissions
    that answer in the ack). Responses go to the response URL (valid 30 minutes). A modal
    must open within 3 s of the click: behind a long queue of answers it may not (Slack then
    ignores it), but the click itself never fails for want of an ack."""
    names = list(inspect.signature(listener).parameters)

    def answer(args: Args) -> None:
        args.ack()
        kwargs = {name: getattr(args, name) for name in names}
        if "ack" in kwargs:
            kwargs["ack"] = _already_acknowledged
        try:
            listener(**kwargs)
        except Exception as error:
            hosts = services(args.context).settings.slack.response_hosts
            handle_error(error, args.body, args.client, args.request, hosts)

    setattr(answer, ANSWERED_BY_JOB, True)
    return answer


def answered_by_job(listener: Callable[..., Any]) -> bool:
    return bool(getattr(listener, ANSWERED_BY_JOB, False))
