"""Benchmark 4: how fast Slack gets its acknowledgement from ``stockpot serve``.

1,000 signed slash commands and button clicks (``/transfer status``, ``/pos help``,
``/ledger DATE``, ``/ledger balances``, a Map button), 20 at a time, against ``stockpot serve``
(its own process, waitress on loopback, Slack = the local stand-in), and the same against a
bare Bolt app that only acknowledges, served the same way (``bench.bare_app``). Then once more
against ``stockpot serve`` while another process transfers 20,000-line days back to back on the
same database. Three passes alternate the bare app and ``stockpot serve`` (medians reported,
the ratio taken within each pass). Slack shows an error when the answer takes over 3 s; the
target is p99 within 1.5 × the bare app's.

    python -m bench.slack_ack [--database-url URL]

Prints a table and one JSON line.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from collections.abc import Callable
from datetime import timedelta
from multiprocessing.synchronize import Event
from typing import Any

import httpx
from sqlalchemy import select

from bench.bot import ADMIN, Request, bare_serve, latencies, link_bench_workspace, stockpot_serve
from bench.common import arguments, catalog, fresh_database, mappings, median, percentile, report
from bench.transfer import FIRST_DAY, INGREDIENTS, ITEMS, RECIPES, day
from stockpot.bot.ids import ActionId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.lookup import location_by_name
from stockpot.core.mapping import import_mappings
from stockpot.core.models import PosItem, PosMapping
from stockpot.core.transfer.lines import RawInput
from stockpot.core.transfer.runner import run_transfer
from stockpot.sandbox.slack import SlackStandIn
from stockpot.sandbox.slack_sender import SlackSender

REQUESTS, CONCURRENCY, WARM_UP = 1_000, 20, 40
PASSES, SETTLE_S = 3, 3.0
TARGET_RATIO = 1.5


def command(name: str, text: str) -> Request:
    def send(sender: SlackSender) -> httpx.Response:
        return sender.command(name, text, user=ADMIN)

    return send


def button(action_id: str, value: str) -> Request:
    def send(sender: SlackSender) -> httpx.Response:
        return sender.block_action(action_id, value, user=ADMIN)

    return send


def workload(rng: random.Random, unmapped_item_id: int) -> list[Request]:
    kinds: list[Callable[[], Request]] = [
        lambda: command("/transfer", "status"),
        lambda: command("/pos", "help"),
        lambda: command("/ledger", FIRST_DAY.isoformat()),
        lambda: command("/ledger", "balances"),
        lambda: button(ActionId.MAP_OPEN, str(unmapped_item_id)),
    ]
    return [rng.choice(kinds)() for _ in range(REQUESTS)]


def transfer_days(url: str, started: Event, stop: Event, done: multiprocessing.Value) -> None:  # type: ignore[valid-type]
    """Background load: transfer 20,000-line days, one after another, until told to stop."""
    logging.disable(logging.WARNING)
    factory = make_session_factory(make_engine(url))
    with factory() as session:
        location = location_by_name(session, "L").id
    lines = day(random.Random(7))
    business_date = FIRST_DAY
    while not stop.is_set():
        business_date += timedelta(days=1)
        run_transfer(factory, location, business_date, lines, RawInput("bench", "[]"))
        done.value += 1  # type: ignore[attr-defined]
        started.set()


def main() -> None:
    options = arguments(__doc__)
    url = options.database_url
    logging.disable(logging.WARNING)
    rng = random.Random(20261128)
    fresh_database(url)
    factory = make_session_factory(make_engine(url))
    import_catalog(factory, catalog(rng, ingredients=INGREDIENTS, recipes=RECIPES), source="c")
    import_mappings(
        factory, mappings(rng, items=ITEMS, ingredients=INGREDIENTS, recipes=RECIPES), source="m"
    )
    link_bench_workspace(factory, "Bench")
    with factory() as session:
        location = location_by_name(session, "L").id
    run_transfer(factory, location, FIRST_DAY, day(rng), RawInput("bench", "[]"))
    with factory() as session:
        unmapped_item = session.scalars(
            select(PosItem.id)
            .outerjoin(PosMapping, PosMapping.pos_item_id == PosItem.id)
            .where(PosMapping.id.is_(None))
            .limit(1)
        ).one()
    requests = workload(rng, unmapped_item)
    passes: list[dict[str, list[float]]] = []
    context = multiprocessing.get_context("spawn")
    with (
        SlackStandIn().running() as slack,
        bare_serve(slack) as bare,
        stockpot_serve(url, slack) as stockpot,
    ):
        for events in (bare, stockpot):
            latencies(events, slack, requests[:WARM_UP], CONCURRENCY)
        for _ in range(PASSES):  # alternated, so the machine's noise falls on both
            timings = {}
            for name, events in (("bare", bare), ("stockpot", stockpot)):
                timings[name] = latencies(events, slack, requests, CONCURRENCY)
                time.sleep(SETTLE_S)  # the answers still being worked out finish
            passes.append(timings)
        started, stop, done = context.Event(), context.Event(), context.Value("i", 0)
        worker = context.Process(target=transfer_days, args=(url, started, stop, done))
        worker.start()
        started.wait(timeout=120)
        passes[-1]["transferring"] = latencies(stockpot, slack, requests, CONCURRENCY)
        stop.set()
        worker.join(timeout=120)
    figures: dict[str, Any] = {
        "requests": REQUESTS,
        "concurrency": CONCURRENCY,
        "passes": PASSES,
    }
    for name in ("bare", "stockpot", "transferring"):
        runs = [timings[name] for timings in passes if name in timings]
        figures[f"{name}_p50_ms"] = median([median(values) for values in runs]) * 1000
        figures[f"{name}_p99_ms"] = median([percentile(values, 0.99) for values in runs]) * 1000
        figures[f"{name}_max_ms"] = max(max(values) for values in runs) * 1000
    figures["background_transfers"] = done.value
    figures["p99_ratio"] = median(
        [percentile(t["stockpot"], 0.99) / percentile(t["bare"], 0.99) for t in passes]
    )
    figures["p99_ratios"] = [
        round(percentile(t["stockpot"], 0.99) / percentile(t["bare"], 0.99), 2) for t in passes
    ]
    figures["p99_ratio_transferring"] = figures["transferring_p99_ms"] / figures["bare_p99_ms"]
    rows = []
    for name, label in (
        ("bare", "bare Bolt app"),
        ("stockpot", "stockpot serve"),
        ("transferring", "stockpot serve + transfers"),
    ):
        rows.append((f"{label} p50 (ms)", f"{figures[f'{name}_p50_ms']:.1f}", ""))
        target = "< 3000" if name == "transferring" else ""
        rows.append((f"{label} p99 (ms)", f"{figures[f'{name}_p99_ms']:.1f}", target))
    rows.append(("p99 stockpot / bare", f"{figures['p99_ratio']:.2f}", f"<= {TARGET_RATIO}"))
    rows.append(("  per pass", " ".join(map(str, figures["p99_ratios"])), ""))
    rows.append(("p99 transferring / bare", f"{figures['p99_ratio_transferring']:.2f}", ""))
    rows.append(("transfers in the background", str(figures["background_transfers"]), ""))
    report("slack_ack", rows, figures)


if __name__ == "__main__":
    main()
