"""Benchmark 1: transfer throughput against a plain COPY of the same lines.

A synthetic company (2,000 ingredients, 800 recipes nested up to 3 levels, 3,000 POS items of
which 90 % are mapped, modifiers included) and one location-day of 20,000 sales lines. Times
the full transfer (store raw, expand, aggregate, post, log), the rerun of the unchanged day and
of a changed day, and, in the same run, a COPY of the raw lines into a scratch table.

    python -m bench.transfer            # PostgreSQL at BENCH_DATABASE_URL (created afresh)

Prints a table and one JSON line.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from datetime import date
from decimal import Decimal

import psycopg
from sqlalchemy.engine import make_url

from core import schema
from core.catalog.importer import import_catalog
from core.db import make_engine, make_session_factory
from core.lookup import location_by_name
from core.mapping import import_mappings
from core.transfer.lines import LineKind, SaleLine
from core.transfer.runner import RawInput, run_transfer

URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/stockpot_bench"
)
INGREDIENTS, RECIPES, ITEMS, LINES = 2000, 800, 3000, 20_000
SMALL = {"kg": "g", "l": "ml", "pcs": "pcs"}


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}"')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')
    schema.upgrade(url)


def catalog(rng: random.Random) -> str:
    units = [rng.choice(["kg", "l", "pcs"]) for _ in range(INGREDIENTS)]
    out = ["company: Bench", "storage_units: [{name: K, address: x}, {name: B, address: y}]"]
    out.append("ingredients:")
    out += [f"  - {{name: I{i}, base_unit: {u}}}" for i, u in enumerate(units)]
    out.append("recipes:")
    # levels: 0-199 plain, 200-499 use level 0, 500-799 use level 1 (three levels deep)
    for r in range(RECIPES):
        out.append(f"  - name: R{r}\n    portions: {rng.choice([1, 2, 4, 10])}\n    lines:")
        for _ in range(rng.randint(2, 6)):
            if r >= 200 and rng.random() < 0.25:
                sub = rng.randrange(0, 200) if r < 500 else rng.randrange(200, 500)
                out.append(f"      - {{recipe: R{sub}, quantity: 1}}")
            else:
                i = rng.randrange(INGREDIENTS)
                out.append(
                    f"      - {{ingredient: I{i}, quantity: {rng.randint(1, 300)}, "
                    f"unit: {SMALL[units[i]]}, trim: 0.0{rng.randint(0, 9)}, "
                    f"issue_storage: {rng.choice(['K', 'B'])}}}"
                )
    out.append("csv_connections:\n  - name: T\n    locations: [{name: L, storage_unit: K}]")
    return "\n".join(out)


def mappings(rng: random.Random) -> str:
    out = ["company: Bench", "connection: csv:T", "mappings:"]
    for k in range(int(ITEMS * 0.9)):
        if rng.random() < 0.5:
            out.append(f'  - {{pos_code: "P{k}", recipe: R{rng.randrange(RECIPES)}, quantity: 1}}')
        else:
            factor = f"0.{rng.randint(1, 999):03d}"
            ingredient = f"I{rng.randrange(INGREDIENTS)}"
            out.append(f'  - {{pos_code: "P{k}", ingredient: {ingredient}, quantity: {factor}}}')
    return "\n".join(out)


def day(rng: random.Random) -> list[SaleLine]:
    lines = []
    sale = 0
    while len(lines) < LINES:
        sale += 1
        parent = f"{sale}.0"
        lines.append(
            SaleLine(
                f"S{sale}",
                parent,
                f"P{rng.randrange(ITEMS)}",
                "x",
                Decimal(rng.choice([1, 1, 1, 2, -1])),
            )
        )
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


def copy_rate(url: str, lines: list[SaleLine]) -> float:
    """Lines per second of a plain COPY of the same raw lines (the physical reference)."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "CREATE TEMP TABLE scratch (run_id int, position int, sale_id text, line_id text, "
            "parent_line_id text, pos_code text, name text, kind text, quantity numeric(30,9), "
            "voided bool, cancelled bool, item_key text, disposition text)"
        )
        started = time.perf_counter()
        with connection.cursor().copy("COPY scratch FROM STDIN") as copy:
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
                        line.quantity,
                        line.voided,
                        line.cancelled,
                        line.key,
                        "mapped",
                    )
                )
        connection.commit()
        return len(lines) / (time.perf_counter() - started)


def main() -> None:
    logging.disable(logging.WARNING)
    rng = random.Random(20261128)
    fresh_database(URL)
    factory = make_session_factory(make_engine(URL))
    import_catalog(factory, catalog(rng), source="bench-catalog")
    import_mappings(factory, mappings(rng), source="bench-mappings")
    lines = day(rng)
    with factory() as session:
        location = location_by_name(session, "L").id
    figures: dict[str, float] = {}
    for label, batch in (
        ("first", lines),
        ("unchanged", lines),
        ("changed", [*lines[:-1], SaleLine("S0", "0", "P1", "x", Decimal(7))]),
    ):
        started = time.perf_counter()
        run_transfer(factory, location, date(2026, 11, 27), batch, RawInput("bench", "[]"))
        figures[f"{label}_s"] = time.perf_counter() - started
    figures["transfer_lines_per_s"] = LINES / figures["first_s"]
    figures["copy_lines_per_s"] = copy_rate(URL, lines)
    figures["ratio"] = figures["transfer_lines_per_s"] / figures["copy_lines_per_s"]
    figures["unchanged_share"] = figures["unchanged_s"] / figures["first_s"]
    print(f"{'measure':<28}{'value':>14}  target")
    print(f"{'first transfer (s)':<28}{figures['first_s']:>14.3f}")
    print(f"{'transfer lines/s':<28}{figures['transfer_lines_per_s']:>14,.0f}")
    print(f"{'COPY lines/s':<28}{figures['copy_lines_per_s']:>14,.0f}")
    print(f"{'transfer / COPY':<28}{figures['ratio']:>14.3f}  >= 0.5")
    print(f"{'unchanged rerun (s)':<28}{figures['unchanged_s']:>14.3f}")
    print(f"{'unchanged / first':<28}{figures['unchanged_share']:>14.3f}  <= 0.10")
    print(f"{'changed rerun (s)':<28}{figures['changed_s']:>14.3f}")
    print(
        json.dumps(
            {
                "benchmark": "transfer",
                "lines": LINES,
                **{k: round(v, 4) for k, v in figures.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
