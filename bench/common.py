"""What every benchmark shares: the database it runs on, a synthetic company, percentiles and
the printed table with its JSON line."""

from __future__ import annotations

import argparse
import json
import os
import random
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from stockpot.migrations import schema

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/stockpot_bench"
SMALL = {"kg": "g", "l": "ml", "pcs": "pcs"}


def arguments(
    doc: str | None,
    *,
    profile: bool = False,
    sizes: Sequence[int] = (),
    flags: Sequence[tuple[str, str]] = (),
) -> argparse.Namespace:
    """``--database-url`` (else ``BENCH_DATABASE_URL``, else ``DEFAULT_URL``): a PostgreSQL
    database that the benchmark drops and creates afresh; ``--profile`` if it offers one;
    ``--sizes`` if it measures several (default ``sizes``); any other on/off ``flags``
    (name, help)."""
    parser = argparse.ArgumentParser(description=" ".join((doc or "").split("\n\n")[0].split()))
    database_url_argument(parser)
    if profile:
        parser.add_argument("--profile", action="store_true", help="print a cProfile as well")
    if sizes:
        parser.add_argument(
            "--sizes",
            type=lambda text: [int(part) for part in text.split(",")],
            default=list(sizes),
            help=f"comma-separated sizes (default {','.join(map(str, sizes))})",
        )
    for name, text in flags:
        parser.add_argument(name, action="store_true", help=text)
    return parser.parse_args()


def database_url_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"PostgreSQL database to recreate (env BENCH_DATABASE_URL, default {DEFAULT_URL})",
    )


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')
    schema.upgrade(url)


def catalog(
    rng: random.Random,
    *,
    ingredients: int,
    recipes: int,
    company: str = "Bench",
    location: str = "L",
) -> str:
    """A catalog YAML: ingredients in kg, l or pcs; recipes three levels deep (the first
    quarter plain, the next three eighths using the first, the rest using the second), with
    trims and issue storages; one CSV connection with one location."""
    units = [rng.choice(["kg", "l", "pcs"]) for _ in range(ingredients)]
    out = [f"company: {company}", "storage_units: [{name: K, address: x}, {name: B, address: y}]"]
    out.append("ingredients:")
    out += [f"  - {{name: I{i}, base_unit: {u}}}" for i, u in enumerate(units)]
    out.append("recipes:")
    level1, level2 = recipes // 4, recipes * 5 // 8
    for r in range(recipes):
        out.append(f"  - name: R{r}\n    portions: {rng.choice([1, 2, 4, 10])}\n    lines:")
        for _ in range(rng.randint(2, 6)):
            if r >= level1 and rng.random() < 0.25:
                sub = rng.randrange(0, level1) if r < level2 else rng.randrange(level1, level2)
                out.append(f"      - {{recipe: R{sub}, quantity: 1}}")
            else:
                i = rng.randrange(ingredients)
                out.append(
                    f"      - {{ingredient: I{i}, quantity: {rng.randint(1, 300)}, "
                    f"unit: {SMALL[units[i]]}, trim: 0.0{rng.randint(0, 9)}, "
                    f"issue_storage: {rng.choice(['K', 'B'])}}}"
                )
    out.append("csv_connections:\n  - name: T")
    out.append(f"    locations: [{{name: {location}, storage_unit: K}}]")
    return "\n".join(out)


def mappings(
    rng: random.Random, *, items: int, ingredients: int, recipes: int, company: str = "Bench"
) -> str:
    """Mappings of the first 90 % of ``items`` POS codes (P0, P1, …), half to recipes."""
    out = [f"company: {company}", "connection: csv:T", "mappings:"]
    for k in range(int(items * 0.9)):
        if rng.random() < 0.5:
            out.append(f'  - {{pos_code: "P{k}", recipe: R{rng.randrange(recipes)}, quantity: 1}}')
        else:
            factor = f"0.{rng.randint(1, 999):03d}"
            ingredient = f"I{rng.randrange(ingredients)}"
            out.append(f'  - {{pos_code: "P{k}", ingredient: {ingredient}, quantity: {factor}}}')
    return "\n".join(out)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in [0, 1])."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, printed beside every benchmark's
    figures: a ratio measured on a busy machine says so."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def report(benchmark: str, rows: Sequence[tuple[str, str, str]], figures: dict[str, Any]) -> None:
    """The table (measure, value, target) and one JSON line with every figure, with the load
    average at the end of the run."""
    rows = [*rows, ("load average 1/5/15 min", load_average(), "")]
    width = max(len(row[0]) for row in rows) + 2
    print(f"{'measure':<{width}}{'value':>16}  target")
    for measure, value, target in rows:
        print(f"{measure:<{width}}{value:>16}  {target}")
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}
    print(json.dumps({"benchmark": benchmark, **rounded, "load_average": os.getloadavg()}))
