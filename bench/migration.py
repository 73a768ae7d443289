"""Benchmark 2: a historical migration against the rate-limited Lightspeed sandbox.

90 business days of about 3,000 sales lines each, for one location, fetched from the sandbox
Lightspeed with 50 ms of latency per request and a limit of 5 requests per second per client
(answered with 429 and ``Retry-After`` beyond it). The migration runs as a job in a worker,
exactly as in production. Its wall time is compared with the lower bound the rate limit sets:
the requests it needed (those answered 429 are not needed: they are the cost of going over
the limit, not of the work) divided by 5 per second; the worker's CPU per day is printed. The
ledger is then checked against 90 manual transfers of the same days.

Then 200 locations (200 companies, each with its own connection and token) × 30 days migrate
on 4 worker processes, against the larger of the rate-limit bound and the CPU bound (all CPU
spent, workers and sandbox, over the cores), with the CPU per location-day: what one worker
host sustains.

    python -m bench.migration            # PostgreSQL at --database-url (recreated)
    python -m bench.migration --days 30 --locations 8 --workers 4   # a quicker run

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bench.common import database_url_argument, fresh_database, load_average, report
from stockpot.bot.jobs.handlers import job_handlers
from stockpot.bot.jobs.slack import Notifier
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.crypto import generate_key
from stockpot.core.db import make_engine, make_session_factory, unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.jobs.worker import Worker
from stockpot.core.locations import link_storage_unit, set_active
from stockpot.core.mapping import IngredientChoice, set_mapping
from stockpot.core.migration import last_complete_day
from stockpot.core.models import (
    Company,
    ExternalLocation,
    Ingredient,
    Job,
    LedgerMovement,
    PosItem,
    RunKind,
    TransferDay,
    TransferRun,
    TransferRunLines,
)
from stockpot.core.pos import connections
from stockpot.core.settings import Settings
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, LightspeedSandbox

LATENCY = 0.05
RATE = 5.0
VOLUME = 11.5
"""Scales the sandbox's days to about 3,000 lines on average at the benchmark's location."""
LOCATION = 45454565682155
REDIRECT = "http://127.0.0.1:9/lightspeed/oauth/callback"
SETUP_PACE = 1000.0


class RemoteSandbox:
    """The sandbox in a process of its own, as a real POS would be (in this process it would
    share the interpreter lock with the worker being measured). ``configure`` sets its latency
    and rate limit between phases; ``counts`` reads its request log."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._commands: Any = context.Queue()
        self._answers: Any = context.Queue()
        self._process = context.Process(
            target=_serve, args=(self._commands, self._answers), daemon=True
        )
        self._process.start()
        self.url: str = self._answers.get(timeout=60)

    def _ask(self, *command: Any) -> Any:
        self._commands.put(command)
        return self._answers.get(timeout=60)

    def configure(self, latency: float, rate_limit: float | None) -> None:
        self._ask("configure", latency, rate_limit)

    def counts(self) -> tuple[int, int]:
        """(requests so far, of which answered 429)"""
        return self._ask("counts")

    def arrivals(self, since: int) -> list[tuple[float, int | None]]:
        """When each request from the ``since``-th on arrived (``time.monotonic()``, the same
        clock in every process of this machine) and its status."""
        return self._ask("arrivals", since)

    def warm(self, days: list[date]) -> None:
        """Generate the location's days before they are asked for. The sandbox is not the POS:
        its generating a 3,000-line day holds its interpreter lock for tens of milliseconds,
        which delays when it sees the next request and so its rate limit's clock."""
        self._ask("warm", days)

    def cpu_seconds(self) -> float:
        return self._ask("cpu")

    def stop(self) -> None:
        self._ask("stop")
        self._process.join(timeout=30)


def _serve(commands: Any, answers: Any) -> None:
    sandbox = LightspeedSandbox(volume=VOLUME, plain_http_loopback=True).start()
    answers.put(sandbox.url)
    while True:
        command, *args = commands.get()
        if command == "configure":
            sandbox.latency, sandbox.rate_limit = args
            answers.put(None)
        elif command == "counts":
            answers.put((len(sandbox.requests), sandbox.throttled))
        elif command == "warm":
            for day in args[0]:
                sandbox.data.day(LOCATION, day)
            answers.put(None)
        elif command == "arrivals":
            answers.put([(r.arrived, r.status) for r in sandbox.requests[args[0] :]])
        elif command == "cpu":
            times = os.times()
            answers.put(times.user + times.system)
        else:
            sandbox.stop()
            answers.put(None)
            return


@dataclass
class Bench:
    """The sandbox, the settings pointing Stockpot at it (as environment variables too, for
    worker processes), and a fresh database."""

    sandbox: RemoteSandbox
    variables: dict[str, str]
    factory: sessionmaker[Session]

    @property
    def settings(self) -> Settings:
        return Settings.from_variables(**self.variables)


@contextmanager
def prepared(url: str) -> Iterator[Bench]:
    sandbox = RemoteSandbox()
    try:
        variables = {
            "DATABASE_URL": url,
            "STOCKPOT_SECRET_KEY": generate_key(),
            "LIGHTSPEED_API_URL": sandbox.url,
            "LIGHTSPEED_AUTH_URL": sandbox.url,
            "LIGHTSPEED_CLIENT_ID": DEFAULT_CLIENT_ID,
            "LIGHTSPEED_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
            "LIGHTSPEED_REDIRECT_URI": REDIRECT,
            "STOCKPOT_WORKER_POLL_SECONDS": "0.05",
        }
        fresh_database(url)
        engine = make_engine(url)
        try:
            yield Bench(sandbox, variables, make_session_factory(engine))
        finally:
            engine.dispose()
    finally:
        sandbox.stop()


def set_up_company(
    factory: sessionmaker[Session], settings: Settings, name: str, location_id: int
) -> int:
    """A company with one Lightspeed location, every item mapped to one ingredient; returns
    the location's id."""
    import_catalog(
        factory,
        f"company: {name}\nstorage_units: [{{name: Kitchen, address: x}}]\n"
        "ingredients: [{name: Stock, base_unit: pcs}]",
        source="bench.yaml",
    )
    with factory() as session:
        company_id = session.scalars(select(Company.id).where(Company.name == name)).one()
    url = connections.start_lightspeed(factory, settings, company_id=company_id, started_by="b")
    redirect = httpx.get(url, follow_redirects=False).headers["location"]
    query = parse_qs(urlsplit(redirect).query)
    info = connections.complete_lightspeed(
        factory, settings, state=query["state"][0], code=query["code"][0], cookie=None
    )
    # Set-up is not measured (the sandbox has no rate limit meanwhile): paced at the
    # documented 5 a second, the 20 requests of a sync would take most of a company's set-up.
    connections.set_pace(factory, settings, info.id, SETUP_PACE)
    connections.sync_locations(factory, settings, info.id)
    connections.sync_items(factory, settings, info.id)
    connections.set_pace(factory, settings, info.id, None)
    with unit_of_work(factory) as session:
        location = session.scalars(
            select(ExternalLocation).where(
                ExternalLocation.connection_id == info.id,
                ExternalLocation.external_id == str(location_id),
            )
        ).one()
        link_storage_unit(session, location, "Kitchen")
        set_active(session, location, True)
        # The ingredient entity itself, held: the session's identity map holds it only weakly,
        # and each mapping's ownership check would load it again.
        stock = session.scalars(select(Ingredient).where(Ingredient.company_id == company_id)).one()
        items = select(PosItem).where(PosItem.connection_id == info.id)
        for item in session.scalars(items.options(selectinload(PosItem.mapping))):
            set_mapping(session, item, IngredientChoice(stock.id, Decimal(1)))
        return location.id


def migrated_days(factory: sessionmaker[Session], location_id: int, days: int) -> list[date]:
    with factory() as session:
        last = last_complete_day(session.get_one(ExternalLocation, location_id))
    return [last - timedelta(days=back) for back in range(days)]


def ledger_by_day(factory: sessionmaker[Session]) -> dict[tuple[object, int], Decimal]:
    with factory() as session:
        rows = session.execute(
            select(
                LedgerMovement.business_date,
                LedgerMovement.ingredient_id,
                func.sum(LedgerMovement.quantity),
            ).group_by(LedgerMovement.business_date, LedgerMovement.ingredient_id)
        )
        return {(day, ingredient): total for day, ingredient, total in rows if total}


def one_location(url: str, days: int) -> dict[str, object]:
    with prepared(url) as bench:
        sandbox, settings, factory = bench.sandbox, bench.settings, bench.factory
        location_id = set_up_company(factory, settings, "Bench", LOCATION)
        with unit_of_work(factory) as session:
            location = session.get_one(ExternalLocation, location_id)
            enqueue(
                session, specs.migration(location.company_id, location_id, days, triggered_by="b")
            )
        worker = Worker(factory, settings, job_handlers(Notifier(factory)))
        sandbox.warm(migrated_days(factory, location_id, days))
        sandbox.configure(LATENCY, RATE)
        before, throttled_before = sandbox.counts()
        started, cpu_started = time.monotonic(), time.process_time()
        worker.run_until_idle()
        ended = time.monotonic()
        wall = ended - started
        worker_cpu = time.process_time() - cpu_started
        after, throttled = sandbox.counts()
        timeline = phases(sandbox.arrivals(before), started, ended)
        throttled -= throttled_before
        requests = after - before
        with factory() as session:
            job = session.scalars(select(Job)).one()
            lines = session.scalar(select(func.sum(TransferRunLines.count))) or 0
        migrated = ledger_by_day(factory)
        sandbox.configure(0.0, None)
        with unit_of_work(factory) as session:
            session.execute(delete(LedgerMovement))
            session.execute(delete(TransferDay))
            session.execute(delete(TransferRun))
        with factory() as session:
            last = last_complete_day(session.get_one(ExternalLocation, location_id))
        for offset in range(days):
            connections.transfer_day(
                factory,
                settings,
                location_id,
                last - timedelta(days=days - 1 - offset),
                kind=RunKind.MANUAL,
            )
        identical = ledger_by_day(factory) == migrated
    bound = (requests - throttled) / RATE
    return {
        "days": days,
        "job": job.state.value,
        "lines": lines,
        "lines_per_day": round(lines / days),
        "requests": requests,
        "throttled": throttled,
        "worker_cpu_s": round(worker_cpu, 2),
        "worker_cpu_per_day_ms": round(worker_cpu / days * 1000, 1),
        "wall_s": round(wall, 2),
        "bound_s": round(bound, 2),
        "ratio": round(wall / bound, 3),
        "ledger_identical": identical,
        **timeline,
    }


def phases(
    arrivals: list[tuple[float, int | None]], started: float, ended: float
) -> dict[str, float]:
    """Where the wall time went, from when the requests arrived at the sandbox: before the
    first, between the first and the last (against the ideal spacing of the rate), after the
    last; and the gaps between answered requests."""
    times = sorted(at for at, _ in arrivals)
    if not times:
        return {}
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    window = int(RATE)
    spans = [times[i + window] - times[i] for i in range(len(times) - window)]
    return {
        "to_first_request_s": round(times[0] - started, 3),
        "first_to_last_s": round(times[-1] - times[0], 3),
        "paced_ideal_s": round((len(times) - 1) / RATE, 3),
        "after_last_request_s": round(ended - times[-1], 3),
        "gap_min_ms": round(gaps[0] * 1000, 1) if gaps else 0.0,
        "gap_median_ms": round(statistics.median(gaps) * 1000, 1) if gaps else 0.0,
        "gap_max_ms": round(gaps[-1] * 1000, 1) if gaps else 0.0,
        # The sandbox allows RATE requests in any second: how close the pacing came to that.
        "tightest_window_ms": round(min(spans) * 1000, 1) if spans else 0.0,
    }


def many_locations(url: str, days: int, locations: int, workers: int) -> dict[str, object]:
    """``locations`` companies migrating the same sandbox location through their own
    connections, on ``workers`` worker processes of one thread each."""
    with prepared(url) as bench:
        sandbox, settings, factory = bench.sandbox, bench.settings, bench.factory
        ids = []
        setting_up = time.perf_counter()
        for n in range(locations):
            ids.append(set_up_company(factory, settings, f"Bench {n}", LOCATION))
            if (n + 1) % 50 == 0 or n + 1 == locations:
                took = time.perf_counter() - setting_up
                print(f"set up {n + 1} of {locations} companies ({took:.0f} s)", flush=True)
        with unit_of_work(factory) as session:
            for location_id in ids:
                company = session.get_one(ExternalLocation, location_id).company_id
                enqueue(session, specs.migration(company, location_id, days, triggered_by="b"))
        sandbox.warm(migrated_days(factory, ids[0], days))
        sandbox.configure(LATENCY, RATE)
        before, throttled_before = sandbox.counts()
        sandbox_cpu = sandbox.cpu_seconds()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        children_cpu = children.ru_utime + children.ru_stime
        environment = {
            **os.environ,
            **bench.variables,
            "STOCKPOT_WORKER_THREADS": "1",
            "LOG_LEVEL": "WARNING",
        }
        stockpot = str(Path(sys.executable).with_name("stockpot"))
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [stockpot, "worker", "--no-scheduler", "--until-idle"], env=environment
            )
            for _ in range(workers)
        ]
        for process in processes:
            process.wait()
        wall = time.perf_counter() - started
        after, throttled = sandbox.counts()
        throttled -= throttled_before
        requests = after - before
        sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = children.ru_utime + children.ru_stime - children_cpu
        with factory() as session:
            done = session.scalar(
                select(func.count()).select_from(Job).where(Job.state == "succeeded")
            )
    # Each connection has its own limit: a worker's locations queue one after another.
    per_location = (requests - throttled) / locations / RATE
    ideal = per_location * -(-locations // workers)
    cores = os.cpu_count() or 1
    cpu_bound = (workers_cpu + sandbox_cpu) / cores
    location_days = locations * days
    return {
        "locations": locations,
        "workers": workers,
        "days": days,
        "succeeded": done,
        "requests": requests,
        "throttled": throttled,
        "wall_s": round(wall, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(wall / ideal, 3),
        "workers_cpu_s": round(workers_cpu, 1),
        "sandbox_cpu_s": round(sandbox_cpu, 1),
        "cores": cores,
        "cpu_bound_s": round(cpu_bound, 1),
        "ratio_to_cpu_bound": round(wall / max(cpu_bound, ideal), 3),
        "bound": "cpu" if cpu_bound > ideal else "rate limit",
        "worker_cpu_per_location_day_ms": round(workers_cpu / location_days * 1000, 1),
        "sandbox_cpu_per_location_day_ms": round(sandbox_cpu / location_days * 1000, 1),
        "location_days_per_hour": round(location_days / wall * 3600),
        "location_days_per_hour_per_core_cpu": round(3600 / (workers_cpu / location_days)),
    }


def one_rows(one: dict[str, Any]) -> list[tuple[str, str, str]]:
    days = one["days"]
    return [
        (f"1 location, {days} days, lines/day", str(one["lines_per_day"]), "about 3,000"),
        ("requests (429 answered)", f"{one['requests']} ({one['throttled']})", "(0)"),
        ("wall time", f"{one['wall_s']} s", ""),
        (f"rate-limit bound (needed / {RATE:g}/s)", f"{one['bound_s']} s", ""),
        ("wall / bound", f"{one['ratio']}", "<= 1.15 (goal 1.05)"),
        ("  job start to first request", f"{one.get('to_first_request_s')} s", ""),
        (
            "  first to last request (paced ideal)",
            f"{one.get('first_to_last_s')} s ({one.get('paced_ideal_s')} s)",
            "",
        ),
        ("  last request to job done", f"{one.get('after_last_request_s')} s", ""),
        (
            "  gaps between requests min / median / max",
            f"{one.get('gap_min_ms')} / {one.get('gap_median_ms')} / {one.get('gap_max_ms')} ms",
            "",
        ),
        (
            f"  shortest span of {RATE + 1:g} requests",
            f"{one.get('tightest_window_ms')} ms",
            "> 1000 (the limit's window)",
        ),
        ("worker CPU per day", f"{one['worker_cpu_per_day_ms']} ms", ""),
        (f"ledger = {days} manual transfers", str(one["ledger_identical"]), "True"),
    ]


def many_rows(many: dict[str, Any]) -> list[tuple[str, str, str]]:
    n, w = many["locations"], many["workers"]
    return [
        (f"{n} locations x {many['days']} days, {w} workers", f"{many['wall_s']} s", ""),
        ("requests (429 answered)", f"{many['requests']} ({many['throttled']})", "(0)"),
        ("rate-limit ideal", f"{many['ideal_s']} s", ""),
        ("CPU bound (all CPU / cores)", f"{many['cpu_bound_s']} s", ""),
        ("wall / larger bound", f"{many['ratio_to_cpu_bound']} ({many['bound']})", ""),
        ("worker CPU per location-day", f"{many['worker_cpu_per_location_day_ms']} ms", ""),
        ("sandbox CPU per location-day", f"{many['sandbox_cpu_per_location_day_ms']} ms", ""),
        ("location-days per hour (this host)", f"{many['location_days_per_hour']:,}", ""),
        (
            "location-days per hour per core of worker CPU",
            f"{many['location_days_per_hour_per_core_cpu']:,}",
            "",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    database_url_argument(parser)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scaling-days", type=int, default=30)
    skip = parser.add_mutually_exclusive_group()
    skip.add_argument("--skip-one", action="store_true", help="only the many-location run")
    skip.add_argument("--skip-many", action="store_true", help="only the one-location run")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"load average before: {load_average()}", flush=True)
    rows: list[tuple[str, str, str]] = []
    figures: dict[str, Any] = {"latency_s": LATENCY, "rate": RATE}
    if not options.skip_one:
        figures["one"] = one = one_location(options.database_url, options.days)
        rows += one_rows(one)
        print(f"load average after one location: {load_average()}", flush=True)
    if not options.skip_many:
        figures["many"] = many = many_locations(
            options.database_url, options.scaling_days, options.locations, options.workers
        )
        rows += many_rows(many)
    report("migration", rows, figures)


if __name__ == "__main__":
    main()
