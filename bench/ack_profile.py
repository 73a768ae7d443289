"""Where a Slack request's time goes in the web process, by phase, one request at a time.

``stockpot serve``'s WSGI application is called in this process (no socket, no other load:
each request's listener is waited for before the next is sent), with timers around its
phases, then once more under ``cProfile``. The phases:

* ``gate``: ``bot.gate`` (size, timestamp, signature, shape);
* ``to ack``: the WSGI call as a whole: what Slack waits for (the gate included);
* ``replay record``: ``core.deliveries.first_delivery`` (a request the web process answers
  itself), when it runs before the listener;
* ``after ack``: what the listener thread still does once Slack has its ack (queueing the
  answer: ``handlers.answers``).

Then a burst, as ``bench.slack_ack`` sends it: the same requests ``CONCURRENCY`` at a time
(each in a thread of its own, as waitress's threads call the application): the time to
each ack, the CPU the whole process spent per request until the listeners are idle again
(the senders' signing and parsing included: the same in every version, so a difference is
the web process's own), and how many statements it sent the database per request.

    python -m bench.ack_profile [--database-url URL] [--profile]

Prints a table and one JSON line; with ``--profile`` the top of a cProfile of the requests
(every thread's share that runs in the request's own thread).
"""

from __future__ import annotations

import cProfile
import functools
import io
import logging
import pstats
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from bench.bot import ADMIN, SECRET, link_bench_workspace, stockpot_env
from bench.common import arguments, catalog, fresh_database, load_average, median, percentile
from bench.common import report as print_report
from stockpot.bot import gate, replays
from stockpot.bot.bootstrap import running
from stockpot.bot.ids import ActionId
from stockpot.bot.server import StockpotWsgi
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.settings import Settings
from stockpot.handlers import answers
from stockpot.sandbox.slack import SlackStandIn
from stockpot.sandbox.slack_sender import SlackSender

REQUESTS, WARM_UP, CONCURRENCY = 400, 40, 20
PHASES = ("gate", "to ack", "replay record", "after ack")

spent: dict[str, list[float]] = defaultdict(list)
listener_done = threading.Event()


def timed(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[phase].append(time.perf_counter() - started)

    return wrapper


@contextmanager
def instrumented() -> Iterator[None]:
    """Timers around the phases (put back afterwards)."""
    saved = (gate.SlackGate._check, replays.first_delivery, answers.ack_first)
    gate.SlackGate._check = timed("gate", gate.SlackGate._check)  # type: ignore[method-assign]
    replays.first_delivery = timed("replay record", replays.first_delivery)
    try:
        yield
    finally:
        gate.SlackGate._check, replays.first_delivery, _ = saved  # type: ignore[method-assign]


def after_ack(listener_pool: Any) -> None:
    """Wait for the listener that a request started (its work after the ack) to end."""
    listener_pool.submit(listener_done.set).result()


def requests_of(sender: SlackSender) -> list[Callable[[], httpx.Response]]:
    kinds = [
        lambda: sender.command("/transfer", "status", user=ADMIN),
        lambda: sender.command("/pos", "help", user=ADMIN),
        lambda: sender.command("/ledger", "balances", user=ADMIN),
        lambda: sender.block_action(ActionId.MAP_OPEN, "1", user=ADMIN),
    ]
    rng = random.Random(17)
    return [rng.choice(kinds) for _ in range(REQUESTS)]


def main() -> None:
    options = arguments(__doc__, profile=True)
    url = options.database_url
    logging.disable(logging.WARNING)
    fresh_database(url)
    factory = make_session_factory(make_engine(url))
    import_catalog(factory, catalog(random.Random(1), ingredients=20, recipes=8), source="c")
    link_bench_workspace(factory, "Bench")
    with SlackStandIn().running() as slack:
        settings = Settings.from_variables(**stockpot_env(url, slack))
        with running(settings, factory) as stockpot:
            assert stockpot.app is not None
            wsgi = StockpotWsgi(stockpot.app, factory, settings)
            pool = stockpot.app.listener_runner.listener_executor
            sender = SlackSender("http://bot/slack/events", SECRET, slack)
            sender._http = httpx.Client(transport=httpx.WSGITransport(app=timed("to ack", wsgi)))
            send = requests_of(sender)
            for request in send[:WARM_UP]:
                request()
                pool.submit(lambda: None).result()
            spent.clear()
            with instrumented():
                for request in send:
                    started = time.perf_counter()
                    request()
                    acked = time.perf_counter()
                    # the listener thread's work after the ack: until the pool is idle again
                    _idle(pool)
                    spent["after ack"].append(time.perf_counter() - acked)
                    spent["request"].append(acked - started)
            burst = _burst(send, pool, factory)
            profile_text = _profiled(send[:200], pool) if options.profile else ""
    rows = []
    figures: dict[str, Any] = {"requests": REQUESTS, "load": load_average()}
    for phase in (*PHASES, "request"):
        values = spent.get(phase, [])
        if not values:
            rows.append((f"{phase} (ms)", "not run", ""))
            continue
        p50, p99 = median(values) * 1000, percentile(values, 0.99) * 1000
        figures[phase] = {"count": len(values), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
        rows.append((f"{phase}: p50 / p99 (ms), {len(values)} calls", f"{p50:.2f} / {p99:.2f}", ""))
    figures["burst"] = burst
    rows.append(
        (
            f"burst of {REQUESTS}, {CONCURRENCY} at a time: to ack p50 / p99 (ms)",
            f"{burst['ack_p50_ms']:.2f} / {burst['ack_p99_ms']:.2f}",
            "",
        )
    )
    rows.append(
        (
            "  CPU per request (ms)",
            f"{burst['cpu_ms_per_request']:.2f}",
            "",
        )
    )
    rows.append(
        (
            "  statements sent to the database per request",
            f"{burst['statements_per_request']:.2f}",
            "",
        )
    )
    print_report("ack_profile", rows, figures)
    if profile_text:
        print(profile_text)


def _idle(pool: Any) -> None:
    """Until every listener started so far has finished (Bolt's pool runs them after the
    ack; a no-op task queued behind them on every thread marks the end)."""
    barrier = threading.Barrier(pool._max_workers + 1)
    for _ in range(pool._max_workers):
        pool.submit(barrier.wait)
    barrier.wait()


def _burst(send: list[Callable[[], httpx.Response]], pool: Any, factory: Any) -> dict[str, float]:
    """The requests ``CONCURRENCY`` at a time: their time to the ack, the process's CPU per
    request until the listeners are idle, and the statements it sent the database per
    request."""
    statements = [0]

    def counted(*_: Any) -> None:
        statements[0] += 1

    engine = factory.kw["bind"]
    _idle(pool)
    alone = len(spent["to ack"])
    event.listen(engine, "before_cursor_execute", counted)
    started = time.process_time()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as senders:
        answered = list(senders.map(lambda request: request(), send))
    _idle(pool)
    cpu = time.process_time() - started
    event.remove(engine, "before_cursor_execute", counted)
    assert all(answer.status_code == 200 for answer in answered)
    acks = spent["to ack"][alone:]
    del spent["to ack"][alone:]
    return {
        "ack_p50_ms": round(median(acks) * 1000, 2),
        "ack_p99_ms": round(percentile(acks, 0.99) * 1000, 2),
        "cpu_ms_per_request": round(cpu / len(send) * 1000, 3),
        "statements_per_request": round(statements[0] / len(send), 3),
    }


def _profiled(send: list[Callable[[], httpx.Response]], pool: Any) -> str:
    """cProfile of the request threads' own work (the WSGI call, in this thread)."""
    profile = cProfile.Profile()
    for request in send:
        profile.enable()
        request()
        profile.disable()
        _idle(pool)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(35)
    return out.getvalue()


if __name__ == "__main__":
    main()
