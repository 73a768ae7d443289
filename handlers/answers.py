"""Acknowledge on Bolt's listener thread, answer on a pool of our own.

A listener that acks and then works on Bolt's listener thread keeps that thread until its
answer is sent; under load (``bench.slack_ack``: 20 requests at a time) every listener thread
was busy answering and new requests waited for one before they could even ack. Listeners
wrapped here ack and return at once; the listener itself runs on the answer pool, where its
own ``ack()`` does nothing and any error is reported as Bolt's error handler would.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Args

from stockpot.bot.errors import handle_error
from stockpot.handlers.context import services

ANSWER_THREADS = 4
"""Few on purpose: answers hold the GIL while building rows and blocks, and every extra
answering thread delays acks (bench.slack_ack single passes, p99 ack / bare app: 8 threads
2.9-3.3, 4 threads 1.7, 2 threads 1.6 but half the answer throughput)."""


def answer_pool() -> ThreadPoolExecutor:
    """The pool answers run on: one per app, shut down with it (``stockpot.bot.bootstrap``)."""
    return ThreadPoolExecutor(max_workers=ANSWER_THREADS, thread_name_prefix="stockpot-answer")


def _already_acknowledged(*_: Any, **__: Any) -> None:
    """The wrapper acked before the listener ran."""


def ack_first(listener: Callable[..., None]) -> Callable[[Args], None]:
    """``listener`` (taking Bolt's usual named arguments) answered off the listener thread.
    Only for listeners that ack with nothing (not options or view submissions that answer in
    the ack). Responses go to the response URL (valid 30 minutes). A modal must open within
    3 s of the click: behind a long queue of answers it may not (Slack then ignores it), but
    the click itself never fails for want of an ack."""
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        kwargs = {name: getattr(args, name) for name in names}
        if "ack" in kwargs:
            kwargs["ack"] = _already_acknowledged
        try:
            listener(**kwargs)
        except Exception as error:
            hosts = services(args.context).settings.slack_response_hosts
            handle_error(error, args.body, args.client, args.request, hosts)

    def acking(args: Args) -> None:
        args.ack()
        services(args.context).answers.submit(run, args)

    return acking
