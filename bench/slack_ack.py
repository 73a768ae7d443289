"""Benchmark 4: how fast Slack gets its acknowledgement from ``stockpot serve``, and how fast
the answer follows.

1,000 signed slash commands and button clicks (``/transfer status``, ``/pos help``,
``/ledger DATE``, ``/ledger balances``, a Map button), 20 at a time, against ``stockpot serve``
(its own process, waitress on loopback, Slack = the local stand-in; a ``stockpot worker``
beside it works out the answers, woken by LISTEN/NOTIFY) and against a bare Bolt app that only
acknowledges, served the same way (``bench.bare_app``). Each of ``PASSES`` stockpot passes is
paired with its own bare pass run just before it; ratios are taken within each pair. Then one
more pair while the worker migrates a year from the Lightspeed sandbox (no rate limit: the
worker's CPU is busy). Reported: ack p50, p95 and p99 (Slack shows an error after 3 s; target
p99 within 1.2 × the bare app's), and the answer latency of the commands, from the ack to the
answer arriving at the response_url (target: under 1 s at p99). Slack's stand-in runs in a
process of its own (as Slack does: in this one it would share the interpreter lock with the
client timing the acks), and every pass starts once the worker has worked off the answers of
the pass before (else the next pass, bare or not, paid for that backlog).

A burst of 1,000 is a throughput test: its answer latency is the queue behind it. So first,
paced passes: the same mix of requests sent at a steady rate (``RATES`` a second, for about
``PACED_SECONDS`` s or ``PACED_MAX`` requests each), as users send them, reporting ack and
answer p50/p95/p99 per rate and the highest rate whose answers stay under 1 s at p99 without
growing through the pass (``GROWTH_LIMIT_S``: else they are queueing).

    python -m bench.slack_ack [--database-url URL] [--paced-only | --burst-only]
                              [--nice-worker | --idle-worker]

``--nice-worker`` runs the worker at ``nice 10``, below the web process, as a host that runs
both should (acks have 3 seconds, answers 30 minutes); ``--idle-worker`` under Linux's
``SCHED_IDLE``; ``--burst-only`` skips the paced passes. The timing client's own collector is
off during a pass (``bench.bot.client_collector_off``).

Prints a table and one JSON line.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.bot import (
    ADMIN,
    RemoteSlack,
    acked,
    bare_serve,
    link_bench_workspace,
    paced,
    stockpot_env,
    stockpot_serve,
    stockpot_worker,
)
from bench.common import (
    arguments,
    catalog,
    fresh_database,
    load_average,
    mappings,
    median,
    percentile,
    report,
)
from bench.migration import LOCATION, REDIRECT, RemoteSandbox, set_up_company
from bench.transfer import FIRST_DAY, INGREDIENTS, ITEMS, RECIPES, day
from bench.wrk import available as wrk_available
from bench.wrk import wrk_acked
from stockpot.bot.ids import ActionId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory, unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.lookup import location_by_name
from stockpot.core.mapping import import_mappings
from stockpot.core.models import ExternalLocation, Job, JobKind, JobState, PosItem, PosMapping
from stockpot.core.settings import Settings
from stockpot.core.transfer.lines import RawInput
from stockpot.core.transfer.runner import run_transfer
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from stockpot.sandbox.slack_sender import SlackSender

REQUESTS, CONCURRENCY, WARM_UP = 1_000, 20, 40
PASSES, SETTLE_S, DRAIN_S = 3, 3.0, 120.0
MIGRATION_DAYS = 365
"""Long enough to outlast both passes of its pair with a wide margin (a year took 45 s on a
2-core host; the two passes' acks take about 3 s)."""
RATES, PACED_SECONDS, PACED_MAX = (2, 5, 10, 20, 30, 40, 60, 80), 30, 200
ANSWER_TARGET_S = 1.0
GROWTH_LIMIT_S = 0.1
"""A rate is sustained when the last quarter's median answer is within this of the first
quarter's: beyond, the answers queue and a longer pass would pass 1 s."""
BURST_ANSWERS = "(1 s: the paced rows)"
"""A burst's answers wait in a queue 1,000 long, worked off at the worker's throughput: the
1 s target is for the paced rates above (``highest rate ...``), which people send at."""


@dataclass(frozen=True)
class Ask:
    """One request of the workload: a slash command (its answers go to its own response key)
    or a click on a button."""

    command: str = ""
    text: str = ""
    action: str | None = None
    value: str = ""
    key: str | None = None

    def keyed(self, key: str) -> Ask:
        return self if self.action else replace(self, key=key)

    def __call__(self, sender: SlackSender) -> httpx.Response:
        if self.action:
            return sender.block_action(self.action, self.value, user=ADMIN)
        return sender.command(self.command, self.text, user=ADMIN, response_key=self.key)


@dataclass
class Timings:
    acks: list[float]
    answers: list[float]
    """Seconds from each command's ack to its answer reaching the response_url."""
    missing: int
    replies: list[float]
    """Seconds from sending each command to its answer reaching the response_url: what the
    user waits for (an earlier ack alone does not shorten it)."""


def command(name: str, text: str) -> Ask:
    return Ask(name, text)


def button(action_id: str, value: str) -> Ask:
    return Ask(action=action_id, value=value)


def workload(rng: random.Random, unmapped_item_id: int) -> list[Ask]:
    kinds: list[Callable[[], Ask]] = [
        lambda: command("/transfer", "status"),
        lambda: command("/pos", "help"),
        lambda: command("/ledger", FIRST_DAY.isoformat()),
        lambda: command("/ledger", "balances"),
        lambda: button(ActionId.MAP_OPEN, str(unmapped_item_id)),
    ]
    return [rng.choice(kinds)() for _ in range(REQUESTS)]


def start_migration(url: str, env: dict[str, str], sandbox: RemoteSandbox, days: int) -> int:
    """A company with a Lightspeed location (the sandbox's), and its migration queued; the
    worker picks it up at once. Returns the job's id."""
    factory = make_session_factory(make_engine(url))
    settings = Settings.from_variables(**env)
    location_id = set_up_company(factory, settings, "Migrating", LOCATION)
    with unit_of_work(factory) as session:
        company = session.get_one(ExternalLocation, location_id).company_id
        job_id = enqueue(session, specs.migration(company, location_id, days, triggered_by="b"))
    factory.kw["bind"].dispose()
    return job_id.job_id


def settle(factory: Any) -> None:
    """Let the worker finish the answers a burst queued (up to ``DRAIN_S``), then pause: each
    pass starts from an idle worker. Without it the next pass, bare or not, was measured
    while the worker still worked off the previous burst's backlog."""
    deadline = time.perf_counter() + DRAIN_S
    while time.perf_counter() < deadline:
        with factory() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(
                    Job.kind == JobKind.ANSWER, Job.state.in_((JobState.QUEUED, JobState.RUNNING))
                )
            )
        if not pending:
            break
        time.sleep(0.2)
    time.sleep(SETTLE_S)


def job_state(factory: Any, job_id: int) -> str:
    with factory() as session:
        return str(session.get_one(Job, job_id).state)


def timed_pass(
    events: str,
    slack: RemoteSlack,
    requests: list[Ask],
    tag: str,
    rate: float | None = None,
    *,
    answered: bool = True,
    after_acks: Callable[[], object] = lambda: None,
    wrk: bool = False,
) -> Timings:
    """One pass (``CONCURRENCY`` at a time, or ``rate`` a second): each request's ack time;
    commands carry a response key of the pass, so the time their answer reached the stand-in
    gives the answer latency. ``answered=False`` for the bare app, which answers nothing:
    waiting for its answers only let the next pass start 30 s later (and a migration meant
    to run under that pass end before it). ``after_acks`` runs once the last ack is in.
    ``wrk``: the burst sent by wrk (``bench.wrk``), which times the acks only: the answers are
    awaited but not timed."""
    keyed = [request.keyed(f"{tag}x{number}") for number, request in enumerate(requests)]
    acked_at: list[float] | None = None
    if rate is None and wrk:
        acks = wrk_acked(events, slack, keyed, CONCURRENCY)
    elif rate is None:
        acks, acked_at = acked(events, slack, keyed, CONCURRENCY)
    else:
        acks, acked_at = paced(events, slack, keyed, rate)
    after_acks()
    if not answered:
        return Timings(acks, [], 0, [])
    expected = {request.key for request in keyed if request.key is not None}
    deadline = time.perf_counter() + DRAIN_S  # missing: never arrived, not late
    arrivals = slack.arrivals()
    while not expected <= arrivals.keys() and time.perf_counter() < deadline:
        time.sleep(0.1)
        arrivals = slack.arrivals()
    missing = len(expected - arrivals.keys())
    if acked_at is None:
        return Timings(acks, [], missing, [])
    answered = [
        (arrivals[request.key], at, took)
        for request, at, took in zip(keyed, acked_at, acks, strict=True)
        if request.key in arrivals
    ]
    answers = [arrived - at for arrived, at, _ in answered]
    replies = [arrived - at + took for arrived, at, took in answered]
    return Timings(acks, answers, missing, replies)


def main() -> None:
    options = arguments(
        __doc__,
        flags=[
            ("--paced-only", "only the paced passes (no burst)"),
            ("--nice-worker", "run the worker at nice 10, below the web process"),
            ("--idle-worker", "run the worker under SCHED_IDLE, below everything else"),
            ("--burst-only", "only the bursts (no paced passes)"),
            ("--python-client", "send the bursts from the Python client, not wrk"),
        ],
    )
    url = options.database_url
    use_wrk = not options.python_client
    if use_wrk and not wrk_available():
        raise SystemExit("wrk is not installed (apt-get install wrk), or pass --python-client")
    burst = functools.partial(timed_pass, wrk=use_wrk)
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
    run_transfer(factory, location, FIRST_DAY, day(rng, 20_000), RawInput("bench", "[]"))
    with factory() as session:
        unmapped_item = session.scalars(
            select(PosItem.id)
            .outerjoin(PosMapping, PosMapping.pos_item_id == PosItem.id)
            .where(PosMapping.id.is_(None))
            .limit(1)
        ).one()
    requests = workload(rng, unmapped_item)
    pairs: list[dict[str, Timings]] = []
    sandbox = RemoteSandbox()
    try:
        with RemoteSlack.running() as slack:
            env = stockpot_env(
                url,
                slack,
                {
                    "LIGHTSPEED_API_URL": sandbox.url,
                    "LIGHTSPEED_AUTH_URL": sandbox.url,
                    "LIGHTSPEED_CLIENT_ID": DEFAULT_CLIENT_ID,
                    "LIGHTSPEED_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
                    "LIGHTSPEED_REDIRECT_URI": REDIRECT,
                    "STOCKPOT_POS_REQUESTS_PER_SECOND": "1000",
                },
            )
            with (
                bare_serve(slack) as bare,
                stockpot_serve(url, slack, env) as ours,
                stockpot_worker(
                    env, nice=10 if options.nice_worker else 0, idle=options.idle_worker
                ),
            ):
                burst(bare, slack, requests[:WARM_UP], "warm", answered=False)
                burst(ours, slack, requests[:WARM_UP], "warm")
                steady = {} if options.burst_only else paced_passes(ours, slack, requests, factory)
                if options.paced_only:
                    report("slack_ack", paced_rows(steady), {"paced": steady})
                    return
                for number in range(PASSES):  # each stockpot pass paired with a bare one
                    pair = {"bare": burst(bare, slack, requests, f"b{number}", answered=False)}
                    pair["stockpot"] = burst(ours, slack, requests, f"s{number}")
                    pair["load"] = load_average()  # type: ignore[assignment]
                    pairs.append(pair)
                    print(describe(f"pass {number + 1}", pair), flush=True)
                    settle(factory)
                sandbox.configure(0.0, None)
                job_id = start_migration(url, env, sandbox, MIGRATION_DAYS)
                while job_state(factory, job_id) == "queued":
                    time.sleep(0.05)
                time.sleep(1.0)  # past the first day's fetch: transfers are running
                migrating = {"bare": burst(bare, slack, requests, "bm", answered=False)}
                states: list[str] = []  # "running" once the acks are in: both passes ran under it
                migrating["stockpot"] = burst(
                    ours,
                    slack,
                    requests,
                    "sm",
                    after_acks=lambda: states.append(job_state(factory, job_id)),
                )
                migrating["load"] = load_average()  # type: ignore[assignment]
                migration_state = states[0]
                print(describe("during the migration", migrating), flush=True)
    finally:
        sandbox.stop()
    figures = summarise(pairs, migrating, migration_state)
    figures["client"] = "wrk" if use_wrk else "python"
    figures["paced"] = steady
    rows = (paced_rows(steady) if steady else []) + [
        (f"{label} {measure} (ms)", f"{figures[f'{key}_{measure}_ms']:.1f}", target)
        for key, label in (("bare", "bare Bolt"), ("stockpot", "stockpot serve"))
        for measure, target in (("p50", ""), ("p95", ""), ("p99", ""))
    ]
    rows += [
        ("ack p50 ratio (median of pairs)", f"{figures['p50_ratio']:.2f}", "<= 1.2"),
        ("ack p99 ratio (median of pairs)", f"{figures['p99_ratio']:.2f}", "<= 1.5, goal 1.2"),
        ("  p99 ratio of each pair", " ".join(map(str, figures["p99_ratios"])), ""),
        (
            "burst: answer p50 / p99 (ms), a queue",
            f"{figures['answer_p50_ms']} / {figures['answer_p99_ms']}",
            BURST_ANSWERS,
        ),
        ("during migration: ack p99 ratio", f"{figures['migrating_p99_ratio']:.2f}", "goal <= 1.2"),
        (
            "during migration: answer p50 / p99 (ms)",
            f"{figures['migrating_answer_p50_ms']} / {figures['migrating_answer_p99_ms']}",
            BURST_ANSWERS,
        ),
        ("migration job when the stockpot pass's acks were in", migration_state, "running"),
    ]
    report("slack_ack", rows, figures)


def paced_passes(
    events: str, slack: RemoteSlack, requests: list[Ask], factory: Any
) -> dict[str, Any]:
    """The same mix at each of ``RATES`` a second against ``stockpot serve``: per rate, ack
    and answer p50/p95/p99 (ms), how many answers are missing, and the load."""
    figures: dict[str, Any] = {}
    for rate in RATES:
        count = min(PACED_MAX, rate * PACED_SECONDS)
        timings = timed_pass(events, slack, requests[:count], f"p{rate}", rate)
        row: dict[str, Any] = {"requests": count, "answers": len(timings.answers)}
        measured = (("ack", timings.acks), ("answer", timings.answers), ("reply", timings.replies))
        for name, values in measured:
            for measure, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
                row[f"{name}_{measure}_ms"] = round(percentile(values, share) * 1000, 1)
        quarter = max(1, len(timings.answers) // 4)
        growth = median(timings.answers[-quarter:]) - median(timings.answers[:quarter])
        row["answer_growth_ms"] = round(growth * 1000, 1)
        row["missing"], row["load"] = timings.missing, load_average()
        figures[str(rate)] = row
        print(
            f"paced {rate}/s ({count} requests): ack p50/p95/p99 {row['ack_p50_ms']:.0f}/"
            f"{row['ack_p95_ms']:.0f}/{row['ack_p99_ms']:.0f} ms; answers p50/p95/p99 "
            f"{row['answer_p50_ms']:.0f}/{row['answer_p95_ms']:.0f}/"
            f"{row['answer_p99_ms']:.0f} ms (from the request {row['reply_p50_ms']:.0f}/"
            f"{row['reply_p95_ms']:.0f}/{row['reply_p99_ms']:.0f} ms), last quarter "
            f"{row['answer_growth_ms']:+.0f} ms on the "
            f"first ({timings.missing} missing); load {row['load']}",
            flush=True,
        )
        settle(factory)
    within = [
        rate
        for rate in RATES
        if figures[str(rate)]["missing"] == 0
        and figures[str(rate)]["answer_p99_ms"] < ANSWER_TARGET_S * 1000
        and figures[str(rate)]["answer_growth_ms"] < GROWTH_LIMIT_S * 1000
    ]
    figures["highest_rate_within_target"] = max(within, default=0)
    return figures


def paced_rows(steady: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for rate in RATES:
        row = steady[str(rate)]
        rows.append(
            (
                f"paced {rate}/s: ack p50/p95/p99 (ms)",
                f"{row['ack_p50_ms']:.0f}/{row['ack_p95_ms']:.0f}/{row['ack_p99_ms']:.0f}",
                "",
            )
        )
        rows.append(
            (
                f"paced {rate}/s: answer p50/p95/p99 (ms)",
                f"{row['answer_p50_ms']:.0f}/{row['answer_p95_ms']:.0f}/{row['answer_p99_ms']:.0f}",
                "p99 < 1000",
            )
        )
        rows.append(
            (
                f"paced {rate}/s: request to answer p50/p95/p99 (ms)",
                f"{row['reply_p50_ms']:.0f}/{row['reply_p95_ms']:.0f}/{row['reply_p99_ms']:.0f}",
                "",
            )
        )
    rows.append(
        (
            "highest rate with answer p99 < 1 s, sustained (/s)",
            str(steady["highest_rate_within_target"]),
            "",
        )
    )
    return rows


def describe(label: str, pair: dict[str, Any]) -> str:
    ours, theirs = pair["stockpot"], pair["bare"]
    return (
        f"{label}: ack p50/p95/p99 {ms(median(ours.acks))}/{ms(percentile(ours.acks, 0.95))}/"
        f"{ms(percentile(ours.acks, 0.99))} ms, bare {ms(median(theirs.acks))}/"
        f"{ms(percentile(theirs.acks, 0.95))}/{ms(percentile(theirs.acks, 0.99))} ms; answers "
        f"p50/p99 {answer_ms(ours.answers, 0.5)}/{answer_ms(ours.answers, 0.99)} "
        f"({ours.missing} missing); load {pair['load']}"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def answer_ms(answers: list[float], share: float) -> str:
    """A percentile of the answers' latencies, in ms, or why there is none: a burst sent by
    wrk is awaited but its answers are not timed (the paced passes time them)."""
    return ms(percentile(answers, share)) if answers else "untimed (wrk)"


def summarise(
    pairs: list[dict[str, Timings]], migrating: dict[str, Timings], state: str
) -> dict[str, Any]:
    figures: dict[str, Any] = {"requests": REQUESTS, "concurrency": CONCURRENCY, "passes": PASSES}
    for name in ("bare", "stockpot"):
        for measure, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            figures[f"{name}_{measure}_ms"] = (
                median([percentile(pair[name].acks, share) for pair in pairs]) * 1000
            )
    for measure, share in (("p50", 0.5), ("p99", 0.99)):
        ratios = [
            percentile(pair["stockpot"].acks, share) / percentile(pair["bare"].acks, share)
            for pair in pairs
        ]
        figures[f"{measure}_ratio"] = median(ratios)
        figures[f"{measure}_ratios"] = [round(ratio, 2) for ratio in ratios]
    answers = [value for pair in pairs for value in pair["stockpot"].answers]
    figures["answer_p50_ms"] = answer_ms(answers, 0.5)
    figures["answer_p99_ms"] = answer_ms(answers, 0.99)
    figures["answers_missing"] = sum(pair["stockpot"].missing for pair in pairs)
    ours, theirs = migrating["stockpot"], migrating["bare"]
    figures["migrating_p99_ratio"] = percentile(ours.acks, 0.99) / percentile(theirs.acks, 0.99)
    figures["migrating_p99_ms"] = percentile(ours.acks, 0.99) * 1000
    figures["migrating_answer_p50_ms"] = answer_ms(ours.answers, 0.5)
    figures["migrating_answer_p99_ms"] = answer_ms(ours.answers, 0.99)
    figures["migration_state"] = state
    figures["loads"] = [pair["load"] for pair in pairs] + [migrating["load"]]
    return figures


if __name__ == "__main__":
    main()
