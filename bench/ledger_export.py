"""``stockpot ledger export`` of a year of a 20-location group: peak memory stays flat.

A group of 20 locations, each posting 80 movements a day for 365 days (584,000 movements,
written by SQL straight into the ledger), is exported as CSV and as JSON lines by the real
command in a child process; its peak RSS is compared with exporting one month and one day.
Flat memory means the year costs about what a day costs (the rows stream in batches).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.common import arguments, fresh_database, report
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import libpq_url, make_engine, make_session_factory

LOCATIONS = 20
DAYS = 365
PER_DAY = 80
STOCKPOT = str(Path(sys.executable).with_name("stockpot"))


def group_catalog() -> str:
    ingredients = "\n".join(f"  - {{name: Ingredient {n:03d}, base_unit: g}}" for n in range(120))
    locations = "\n".join(
        f"      - {{name: Branch {n:02d}, storage_unit: Kitchen {n % 4}, timezone: Europe/Berlin}}"
        for n in range(LOCATIONS)
    )
    units = "\n".join(f"  - {{name: Kitchen {n}}}" for n in range(4))
    return f"""
company: Export Group
storage_units:
{units}
ingredients:
{ingredients}
csv_connections:
  - name: Tills
    locations:
{locations}
"""


def fill(url: str) -> int:
    """A run per location and day, and ``PER_DAY`` movements per run, by SQL."""
    with psycopg.connect(libpq_url(url)) as connection:
        connection.execute(
            """
            INSERT INTO transfer_run (company_id, location_id, business_date, kind, status,
                outcome, generation, started_at, finished_at, triggered_by, stats, errors,
                unmapped, skipped, snapshot)
            SELECT l.company_id, l.id, DATE '2025-01-01' + d, 'automatic', 'succeeded',
                'posted', 1, now(), now(), 'bench', '{}', '[]', '[]', '[]', '{}'
            FROM external_location l, generate_series(0, %s - 1) AS d
            """,
            (DAYS,),
        )
        connection.execute(
            """
            INSERT INTO ledger_movement (company_id, storage_unit_id, ingredient_id, type,
                quantity, business_date, run_id, created_at)
            SELECT r.company_id, l.storage_unit_id, i.id, 'ISSUE',
                -((r.id * 7 + i.id) %% 997) / 1000.0, r.business_date, r.id, now()
            FROM transfer_run r
            JOIN external_location l ON l.id = r.location_id
            JOIN LATERAL (
                SELECT id FROM ingredient WHERE company_id = r.company_id
                ORDER BY (id * 31 + r.id) %% 120 LIMIT %s
            ) i ON true
            """,
            (PER_DAY,),
        )
        return connection.execute("SELECT count(*) FROM ledger_movement").fetchone()[0]


def export(url: str, first: str, last: str, kind: str, out: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS of the child in MiB, and bytes written."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(
        [
            STOCKPOT,
            "ledger",
            "export",
            "--company",
            "Export Group",
            "--from",
            first,
            "--to",
            last,
            "--format",
            kind,
            "--output",
            str(out),
        ],
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: run the small exports first.
    return seconds, max(peak, before) / 1024, out.stat().st_size


def main() -> None:
    args = arguments(__doc__)
    url = args.database_url
    fresh_database(url)
    engine = make_engine(url)
    import_catalog(make_session_factory(engine), group_catalog(), source="bench.yaml")
    engine.dispose()
    movements = fill(url)
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "stockpot-ledger-export.out"
    figures: dict[str, float | int] = {"movements": movements}
    rows = []
    for label, first, last in (
        ("one day", "2025-06-01", "2025-06-01"),
        ("one month", "2025-06-01", "2025-06-30"),
        ("one year", "2025-01-01", "2025-12-31"),
    ):
        for kind in ("csv", "jsonl"):
            seconds, peak, size = export(url, first, last, kind, out)
            key = f"{label.replace(' ', '_')}_{kind}"
            figures[f"{key}_seconds"], figures[f"{key}_peak_mib"] = seconds, peak
            figures[f"{key}_mb"] = size / 1e6
            rows.append(
                (f"{label} {kind}: time / peak RSS", f"{seconds:.1f} s / {peak:.0f} MiB", "")
            )
    growth = figures["one_year_csv_peak_mib"] - figures["one_day_csv_peak_mib"]
    rows.append(("peak RSS, year minus day (csv)", f"{growth:.1f} MiB", "flat: < 20 MiB"))
    figures["year_minus_day_peak_mib"] = growth
    out.unlink(missing_ok=True)
    report("ledger_export", rows, figures)


if __name__ == "__main__":
    main()
