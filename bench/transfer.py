"""Benchmark 1: transfer throughput against a plain COPY of the same lines.

A synthetic company (2,000 ingredients, 800 recipes nested up to 3 levels, 3,000 POS items of
which 90 % are mapped, modifiers included) and location-days of 20,000 sales lines. Each round
transfers a new day (store raw, expand, aggregate, post, log), reruns it unchanged and changed,
and COPYs the same raw lines into two scratch tables: a temporary one (no WAL, no index) and
one shaped like ``raw_sale_line`` (same columns and primary key, logged, committed). Medians of
the rounds are reported; the ratios are taken within each round, so they hold on a noisy
machine.

    python -m bench.transfer [--database-url URL] [--profile]

Prints a table and one JSON line.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import random
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

import psycopg
from sqlalchemy.orm import Session, sessionmaker

from bench.common import arguments, catalog, fresh_database, libpq_url, mappings, median, report
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory, quantize
from stockpot.core.lookup import location_by_name
from stockpot.core.mapping import import_mappings
from stockpot.core.transfer.lines import LineKind, SaleLine
from stockpot.core.transfer.runner import RAW_LINE_COLUMNS, RawInput, run_transfer

INGREDIENTS, RECIPES, ITEMS, LINES = 2000, 800, 3000, 20_000
ROUNDS = 5
FIRST_DAY = date(2026, 11, 1)


def day(rng: random.Random) -> list[SaleLine]:
    """Sales of one to three lines: an item and up to two modifiers of it; some refunds."""
    lines = []
    sale = 0
    while len(lines) < LINES:
        sale += 1
        parent = f"{sale}.0"
        quantity = Decimal(rng.choice([1, 1, 1, 2, -1]))
        lines.append(SaleLine(f"S{sale}", parent, f"P{rng.randrange(ITEMS)}", "x", quantity))
        for extra in range(rng.choice([0, 0, 1, 2])):
            lines.append(
                SaleLine(
                    f"S{sale}",
                    f"{sale}.{extra + 1}",
                    f"P{rng.randrange(ITEMS)}",
                    "x",
                    Decimal(1),
                    parent_line_id=parent,
                    kind=LineKind.MODIFIER,
                )
            )
    return lines[:LINES]


def copy_seconds(url: str, lines: Sequence[SaleLine], *, like_raw_lines: bool) -> float:
    """Seconds to COPY the raw lines (the same tuples the runner writes) and commit."""
    table = "bench_scratch"
    with psycopg.connect(libpq_url(url)) as connection:
        if like_raw_lines:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            connection.execute(f"CREATE TABLE {table} (LIKE raw_sale_line INCLUDING ALL)")
        else:
            connection.execute(f"CREATE TEMP TABLE {table} (LIKE raw_sale_line)")
        connection.commit()
        columns = ", ".join(RAW_LINE_COLUMNS)
        started = time.perf_counter()
        with connection.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for position, line in enumerate(lines):
                copy.write_row(
                    (
                        1,
                        position,
                        line.sale_id,
                        line.line_id,
                        line.parent_line_id,
                        line.pos_code,
                        line.name,
                        line.kind.value,
                        quantize(line.quantity),
                        line.voided,
                        line.cancelled,
                        line.key,
                        "mapped",
                    )
                )
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.execute(f"DROP TABLE {table}")
        connection.commit()
        return elapsed


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def one_round(
    factory: sessionmaker[Session], url: str, location: int, business_date: date, lines: list
) -> dict[str, float]:
    changed = [*lines[:-1], SaleLine("S0", "0", "P1", "x", Decimal(7))]

    def transfer(batch: list[SaleLine]) -> Callable[[], object]:
        raw = RawInput("bench", "[]")
        return lambda: run_transfer(factory, location, business_date, batch, raw)

    figures = {"first_s": timed(transfer(lines))}
    figures["copy_temp_s"] = copy_seconds(url, lines, like_raw_lines=False)
    figures["copy_table_s"] = copy_seconds(url, lines, like_raw_lines=True)
    figures["unchanged_s"] = timed(transfer(lines))
    figures["changed_s"] = timed(transfer(changed))
    figures["ratio_temp"] = figures["copy_temp_s"] / figures["first_s"]
    figures["ratio_table"] = figures["copy_table_s"] / figures["first_s"]
    figures["unchanged_share"] = figures["unchanged_s"] / figures["first_s"]
    return figures


def profile_first_run(
    factory: sessionmaker[Session], location: int, business_date: date, lines: list
) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run_transfer(factory, location, business_date, lines, RawInput("bench", "[]"))
    profiler.disable()
    print("cProfile of a first transfer (cumulative, top 25):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    options = arguments(__doc__, profile=True)
    logging.disable(logging.WARNING)
    rng = random.Random(20261128)
    fresh_database(options.database_url)
    factory = make_session_factory(make_engine(options.database_url))
    import_catalog(
        factory, catalog(rng, ingredients=INGREDIENTS, recipes=RECIPES), source="bench-catalog"
    )
    import_mappings(
        factory,
        mappings(rng, items=ITEMS, ingredients=INGREDIENTS, recipes=RECIPES),
        source="bench-mappings",
    )
    lines = day(rng)
    with factory() as session:
        location = location_by_name(session, "L").id
    rounds = [
        one_round(factory, options.database_url, location, FIRST_DAY + timedelta(days=n), lines)
        for n in range(ROUNDS)
    ]
    figures = {key: median([r[key] for r in rounds]) for key in rounds[0]}
    figures["transfer_lines_per_s"] = LINES / figures["first_s"]
    figures["copy_temp_lines_per_s"] = LINES / figures["copy_temp_s"]
    figures["copy_table_lines_per_s"] = LINES / figures["copy_table_s"]
    report(
        "transfer",
        [
            ("first transfer (s)", f"{figures['first_s']:.3f}", ""),
            ("transfer lines/s", f"{figures['transfer_lines_per_s']:,.0f}", ""),
            ("COPY to temp table lines/s", f"{figures['copy_temp_lines_per_s']:,.0f}", ""),
            ("COPY to raw_sale_line-like", f"{figures['copy_table_lines_per_s']:,.0f}", ""),
            ("transfer / COPY temp", f"{figures['ratio_temp']:.3f}", ">= 0.5"),
            ("transfer / COPY like-table", f"{figures['ratio_table']:.3f}", ">= 0.5"),
            ("unchanged rerun (s)", f"{figures['unchanged_s']:.3f}", ""),
            ("unchanged / first", f"{figures['unchanged_share']:.3f}", "<= 0.10"),
            ("changed rerun (s)", f"{figures['changed_s']:.3f}", ""),
        ],
        {"lines": LINES, "rounds": ROUNDS, **figures},
    )
    if options.profile:
        profile_first_run(factory, location, FIRST_DAY + timedelta(days=ROUNDS), lines)


if __name__ == "__main__":
    main()
