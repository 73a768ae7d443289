"""Benchmark: peak memory of previewing four 20 MB CSV files of many distinct codes at once,
as four files shared into a channel one after another.

Each scenario runs in a child process of its own (its max RSS is its own), on a SQLite file:

* ``before``: what ``stockpot serve`` did until now, reproduced with today's pieces: the
  download held as bytes (its chunks, then their join), a copy per profile tried, every
  (date, location, code) total kept (``scan.MAX_TOTALS`` lifted), four previews at once.
* ``after``: the ``csv_preview`` job's path: the download spooled (1 MB in memory, the rest
  on disk), one stream re-read per profile, at most ``MAX_TOTALS`` totals (beyond: a clear
  refusal), two previews at a time per process.

    python -m bench.csv_preview [--files 4] [--megabytes 20]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from bench.common import report
from bench.csv_import import CATALOG
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.csv_import import scan as scan_module
from stockpot.core.csv_import.dialect import UnreadableFile
from stockpot.core.csv_import.importer import preview_csv, preview_with_profiles
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.lookup import company_by_name
from stockpot.migrations import schema

DAY = date(2026, 11, 27)


def write_file(path: Path, megabytes: int, offset: int) -> int:
    """A till export of ``megabytes`` whose every row sells another article."""
    size, rows = 0, 0
    with path.open("wb") as out:
        out.write(b"Datum;Artikelnummer;Menge\n")
        while size < megabytes * 1_000_000:
            line = b"27.11.2026;A%09d;1\n" % (offset + rows)
            out.write(line)
            size += len(line)
            rows += 1
    return rows


def child(scenario: str, database: str, files: list[str]) -> None:
    engine = make_engine(f"sqlite:///{database}")
    factory = make_session_factory(engine)
    with factory() as session:
        company = company_by_name(session, "Bench CSV").id
    outcomes: list[str] = []
    at_once = threading.BoundedSemaphore(4 if scenario == "before" else 2)
    if scenario == "before":
        scan_module.MAX_TOTALS = 10**12

    def before(path: str) -> None:
        whole = Path(path).read_bytes()
        chunks = [whole[i : i + 65536] for i in range(0, len(whole), 65536)]
        del whole
        data = b"".join(chunks)
        preview = preview_csv(
            factory, 1, io.BytesIO(data), file_name=path, max_bytes=10**9, default_date=DAY
        )
        outcomes.append(f"{preview.scan.rows} rows, {len(preview.unmapped)} unmapped")

    def after(path: str) -> None:
        with at_once, tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, spool)
            spool.seek(0)
            try:
                found = preview_with_profiles(
                    factory, company, spool, file_name=path, max_bytes=10**9, default_date=DAY
                )
                outcomes.append(f"{found.preview.scan.rows} rows")
            except UnreadableFile as error:
                outcomes.append(f"refused: {str(error)[:60]}")

    work = before if scenario == "before" else after
    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": round(peak), "seconds": round(seconds, 1), "outcomes": outcomes}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--megabytes", type=int, default=20)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child[2:])
        return
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        schema.upgrade(f"sqlite:///{database}")
        engine = make_engine(f"sqlite:///{database}")
        import_catalog(make_session_factory(engine), CATALOG, source="bench.yaml")
        engine.dispose()
        files = []
        for n in range(args.files):
            path = Path(folder) / f"export-{n}.csv"
            write_file(path, args.megabytes, n * 10_000_000)
            files.append(str(path))
        results = {}
        for scenario in ("before", "after"):
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.csv_preview",
                    "--child",
                    scenario,
                    str(database),
                    *files,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[scenario] = json.loads(run.stdout.strip().splitlines()[-1])
    rows = [
        (f"peak RSS {name}", f"{r['peak_mb']} MB", "after < 300 MB" if name == "after" else "")
        for name, r in results.items()
    ] + [(f"wall {name}", f"{r['seconds']} s", "") for name, r in results.items()]
    for name, r in results.items():
        print(f"{name}: {'; '.join(sorted(set(r['outcomes'])))}")
    report(
        f"csv_preview: {args.files} files of {args.megabytes} MB, one new code per row",
        rows,
        {f"peak_mb_{name}": r["peak_mb"] for name, r in results.items()},
    )


if __name__ == "__main__":
    main()
