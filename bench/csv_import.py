"""Benchmark 3: importing a till's CSV export against Python's csv module merely reading it.

A German export (semicolons, decimal commas, dd.mm.yyyy dates, cp1252) of 1,000,000 rows over
30 days and 3,000 article numbers (90 % mapped), imported into PostgreSQL with `stockpot`'s
importer: detect the dialect, validate every row, total per (date, location, code), post one
transfer run per day (the file's days posted as one batch). `csv.reader` reads the same
file. Every measure runs in a child process of its own, so its peak memory (max RSS) is its
own: 100,000 rows against 1,000,000 shows whether memory grows with the file. Reading and
importing alternate, ``--repeat`` times (default 3), and each import is undone (untimed)
before the next, so every repetition imports into the same state: the ratio is taken within
each repetition, and the median and the spread are printed with the load average.

    python -m bench.csv_import            # PostgreSQL at --database-url (recreated)
    python -m bench.csv_import --rows 200000 --repeat 5
    python -m bench.csv_import --names    # the rule names its codes (name_source_column)

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import database_url_argument, fresh_database, load_average, median, report
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.csv_import.importer import import_csv, undo_import
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Connection

CODES = 3000
DAYS = 30
CATALOG = """
company: Bench CSV
storage_units: [{name: Lager, address: x}]
ingredients: [{name: Ware, base_unit: pcs}, {name: Mehl, base_unit: kg}]
csv_connections:
  - name: Kasse
    locations: [{name: Filiale, storage_unit: Lager, timezone: Europe/Berlin}]
    rules:
      - {type: column_values_to_pos_codes, source_column: Artikelnummer,
         quantity_source_column: Menge, date_source_column: Datum}
    decimal_separator: ","
    date_formats: ["%d.%m.%Y"]
"""


def write_export(path: Path, rows: int) -> None:
    rng = random.Random(rows)
    first = date(2026, 10, 29)
    with path.open("w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Datum", "Artikelnummer", "Artikel", "Menge", "Preis"])
        for n in range(rows):
            code = rng.randrange(CODES)
            day = first + timedelta(days=n * DAYS // rows)
            quantity = f"{rng.randint(1, 4)},{rng.choice(['0', '5'])}"
            writer.writerow(
                [f"{day:%d.%m.%Y}", f"A{code}", f"Artikel {code} groß", quantity, "4,50"]
            )


def mappings() -> str:
    out = ["company: Bench CSV", "connection: csv:Kasse", "mappings:"]
    for code in range(int(CODES * 0.9)):
        target = "Ware" if code % 2 else "Mehl"
        out.append(f'  - {{pos_code: "A{code}", ingredient: {target}, quantity: 0.25}}')
    return "\n".join(out)


def child(rows: int, directory: Path, url: str | None) -> dict[str, float]:
    """Runs in its own process: read the file with csv, or import it; report time and RSS."""
    path = directory / f"export-{rows}.csv"
    if url is None:
        started = time.perf_counter()
        with path.open(encoding="cp1252", newline="") as source:
            count = sum(1 for _ in csv.reader(source, delimiter=";")) - 1
        seconds = time.perf_counter() - started
    else:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            connection_id = session.query(Connection.id).filter_by(name="Kasse").scalar()
        started = time.perf_counter()
        with path.open("rb") as source:
            result = import_csv(
                factory,
                connection_id,
                source,
                file_name=path.name,
                max_bytes=1 << 34,
                force=True,
            )
        seconds = time.perf_counter() - started
        count = result.rows
        undo_import(factory, result.import_id)  # untimed: the next repetition starts equal
        engine.dispose()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": count, "seconds": seconds, "peak_mb": peak_kb / 1024}


def run_child(rows: int, directory: Path, url: str | None) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.csv_import", "--child", str(rows), str(directory)]
    if url is not None:
        command += ["--database-url", url, "--database"]
    answer = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="alternated repetitions")
    parser.add_argument(
        "--names", action="store_true", help="the rule names its codes by the Artikel column"
    )
    parser.add_argument("--child", nargs=2, metavar=("ROWS", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--database", action="store_true", help=argparse.SUPPRESS)
    database_url_argument(parser)
    options = parser.parse_args()
    url = options.database_url
    if options.child:
        rows, directory = int(options.child[0]), Path(options.child[1])
        print(json.dumps(child(rows, directory, url if options.database else None)))
        return
    fresh_database(url)
    factory = make_session_factory(make_engine(url))
    catalog = CATALOG.replace(
        "date_source_column: Datum",
        "date_source_column: Datum,\n         name_source_column: Artikel",
    )
    import_catalog(factory, catalog if options.names else CATALOG, source="bench.yaml")
    import_mappings(factory, mappings(), source="bench-mappings.yaml")
    factory.kw["bind"].dispose()
    figures: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for rows in (options.small, options.rows):
            write_export(directory / f"export-{rows}.csv", rows)
            passes = []
            for repetition in range(options.repeat):
                read = run_child(rows, directory, None)
                imported = run_child(rows, directory, url)
                passes.append((read, imported))
                print(
                    f"{rows:>9,} rows, repetition {repetition + 1}: read {read['seconds']:.2f} s, "
                    f"import {imported['seconds']:.2f} s, "
                    f"ratio {read['seconds'] / imported['seconds']:.3f}, "
                    f"peak {imported['peak_mb']:.0f} MB, load {load_average()}",
                    flush=True,
                )
            ratios = [read["seconds"] / imported["seconds"] for read, imported in passes]
            imports = [imported["seconds"] for _, imported in passes]
            reads = [read["seconds"] for read, _ in passes]
            figures[str(rows)] = {
                "ratio": round(median(ratios), 3),
                "ratios": [round(ratio, 3) for ratio in ratios],
                "import_s": round(median(imports), 2),
                "import_s_all": [round(value, 2) for value in imports],
                "read_s": round(median(reads), 3),
                "import_rows_per_s": round(rows / median(imports)),
                "read_rows_per_s": round(rows / median(reads)),
                "import_peak_mb": round(max(i["peak_mb"] for _, i in passes), 1),
                "read_peak_mb": round(max(r["peak_mb"] for r, _ in passes), 1),
            }
    big, small = figures[str(options.rows)], figures[str(options.small)]
    report(
        "csv_import",
        [
            (f"import {options.rows:,} rows (median)", f"{big['import_s']} s", ""),
            ("import rows/s", f"{big['import_rows_per_s']:,}", ""),
            ("csv.reader rows/s (same file)", f"{big['read_rows_per_s']:,}", ""),
            ("import / read rate (median)", str(big["ratio"]), ">= 0.15 (goal 0.3)"),
            ("  each repetition", " ".join(map(str, big["ratios"])), ""),
            (f"peak RSS, {options.small:,} rows", f"{small['import_peak_mb']} MB", "< 150 MB"),
            (f"peak RSS, {options.rows:,} rows", f"{big['import_peak_mb']} MB", "< 150 MB"),
        ],
        {"sizes": figures, "repetitions": options.repeat},
    )


if __name__ == "__main__":
    main()
