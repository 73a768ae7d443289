"""Variance of a month and of a year, against reading the same movements with one SELECT.

A company of 2,000 ingredients in 5 storage units (400 each) with a year of daily POS days
(every ingredient issued every day: 730,000 ISSUE movements, written by SQL), weekly receipts
(104,000), an opening count and a count at the end of every month, posted by the real count
service (13 counts per unit, each of its 400 ingredients). Then, for one storage unit:

- the variance of one month (between two monthly counts) and of the whole year (first to last
  count), by ``core.stock.variance.period_variance`` (one grouped query per period);
- reading the same movements (the unit's movements of the period) with one plain SELECT,
  fetched into Python: the floor any variance report pays.

The ratio compares the two in the same run. Best of five runs each.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.common import arguments, fresh_database, libpq_url, report
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.models import Company, StockKind, StorageUnit
from stockpot.core.stock.ledger import balances_at
from stockpot.core.stock.services import LineInput, StockRequest, post_stock
from stockpot.core.stock.variance import Variance, period_variance

INGREDIENTS = 2000
UNITS = 5
START = date(2025, 1, 1)
DAYS = 365
REPEAT = 5


def catalog() -> str:
    units = "\n".join(f"  - {{name: Unit {n}}}" for n in range(UNITS))
    ingredients = "\n".join(
        f"  - {{name: Ingredient {n:04d}, base_unit: kg, cost: {1 + n % 17}.25}}"
        for n in range(INGREDIENTS)
    )
    return f"company: Variance Bench\nstorage_units:\n{units}\ningredients:\n{ingredients}\n"


def fill(url: str, company_id: int) -> int:
    """Daily issues and weekly receipts of every ingredient in its unit, by SQL."""
    assignment = """
        SELECT i.id AS ingredient_id, u.id AS unit_id
        FROM ingredient i
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM storage_unit
              WHERE company_id = %(c)s) u ON u.n = i.id %% %(units)s
        WHERE i.company_id = %(c)s
    """
    with psycopg.connect(libpq_url(url)) as connection:
        connection.execute(
            f"""
            INSERT INTO ledger_movement (company_id, storage_unit_id, ingredient_id, type,
                quantity, business_date, created_at)
            SELECT %(c)s, a.unit_id, a.ingredient_id, 'ISSUE',
                -(1 + (a.ingredient_id * 7 + d) %% 5),
                %(start)s::date + d, now()
            FROM ({assignment}) a, generate_series(1, %(days)s - 1) AS d
            """,
            {"c": company_id, "units": UNITS, "start": START, "days": DAYS},
        )
        connection.execute(
            f"""
            INSERT INTO ledger_movement (company_id, storage_unit_id, ingredient_id, type,
                quantity, business_date, unit_cost, created_at)
            SELECT %(c)s, a.unit_id, a.ingredient_id, 'RECEIPT', 24, %(start)s::date + d, 1.25,
                now()
            FROM ({assignment}) a, generate_series(1, %(days)s - 1, 7) AS d
            """,
            {"c": company_id, "units": UNITS, "start": START, "days": DAYS},
        )
        connection.execute("ANALYZE ledger_movement")
        (count,) = connection.execute("SELECT count(*) FROM ledger_movement").fetchone()
    return int(count)


def count_days() -> list[date]:
    """The opening count, then the last day of every month."""
    days = [START]
    for month in range(2, 13):
        days.append(date(2025, month, 1) - timedelta(days=1))
    days.append(date(2025, 12, 31))
    return days


def post_counts(factory: sessionmaker[Session], company_id: int, rng: random.Random) -> float:
    started = time.perf_counter()
    with factory() as session:
        units = session.execute(
            select(StorageUnit.id, StorageUnit.name).where(StorageUnit.company_id == company_id)
        ).all()
        names = dict(session.execute(text("SELECT id, name FROM ingredient")).tuples().all())
    for day in count_days():
        for unit_id, unit_name in units:
            with factory() as session:
                held = [
                    row[0]
                    for row in session.execute(
                        text(
                            "SELECT DISTINCT ingredient_id FROM ledger_movement "
                            "WHERE storage_unit_id = :u"
                        ),
                        {"u": unit_id},
                    )
                ]
                before = balances_at(session, company_id, unit_id, held, day)
            lines = [
                LineInput(
                    names[i],
                    (
                        Decimal(100)
                        if day == START
                        else max(before.get(i, Decimal(0)), Decimal(0))
                        * Decimal(f"{rng.uniform(0.96, 1.0):.3f}")
                    ).quantize(Decimal("0.001")),
                )
                for i in held
            ]
            post_stock(
                factory,
                StockRequest(StockKind.COUNT, company_id, unit_name, day, "bench", lines),
            )
    return time.perf_counter() - started


def best(action: Callable[[], Any]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - started)
    return min(timings), result


def main() -> None:
    args = arguments(__doc__)
    fresh_database(args.database_url)
    engine = make_engine(args.database_url)
    factory = make_session_factory(engine)
    import_catalog(factory, catalog(), source="bench.yaml")
    with factory() as session:
        company = session.scalars(select(Company)).one()
        unit = session.scalars(select(StorageUnit).where(StorageUnit.name == "Unit 0")).one()
    movements = fill(args.database_url, company.id)
    counts_seconds = post_counts(factory, company.id, random.Random(5))
    with psycopg.connect(libpq_url(args.database_url)) as connection:
        connection.execute("ANALYZE")
        (total,) = connection.execute("SELECT count(*) FROM ledger_movement").fetchone()
    days = count_days()
    periods = {"month": (days[6], days[7]), "year": (days[0], days[-1])}
    rows, figures = [], {"movements": int(total), "filled_by_sql": movements}
    rows.append(("movements in the ledger", f"{total:,}", ""))
    rows.append(("65 counts of 400 lines posted", f"{counts_seconds:.1f} s", ""))
    figures["counts_seconds"] = counts_seconds
    for name, (opening, closing) in periods.items():

        def variance_of(opening: date = opening, closing: date = closing) -> Variance:
            with factory() as session:
                return period_variance(session, company, unit, opening, closing)

        def plain_select(opening: date = opening, closing: date = closing) -> list[Any]:
            with factory() as session:
                return session.execute(
                    text(
                        "SELECT ingredient_id, type, quantity FROM ledger_movement "
                        "WHERE company_id = :c AND storage_unit_id = :u "
                        "AND business_date > :a AND business_date <= :b"
                    ),
                    {"c": company.id, "u": unit.id, "a": opening, "b": closing},
                ).all()  # type: ignore[return-value]

        seconds, found = best(variance_of)
        baseline, read = best(plain_select)
        assert len(found.lines) == INGREDIENTS // UNITS  # type: ignore[attr-defined]
        rows.append(
            (f"variance of the {name} ({len(read):,} movements)", f"{seconds * 1000:.0f} ms", "")
        )
        rows.append(("one SELECT of the same movements", f"{baseline * 1000:.0f} ms", ""))
        ratio = seconds / baseline
        rows.append((f"ratio variance / SELECT ({name})", f"{ratio:.2f}", "≤ 2: one grouped query"))
        figures.update(
            {
                f"{name}_variance_ms": seconds * 1000,
                f"{name}_select_ms": baseline * 1000,
                f"{name}_ratio": ratio,
                f"{name}_movements": len(read),
            }
        )
    engine.dispose()
    report("variance", rows, figures)


if __name__ == "__main__":
    main()
