"""How fast the CLI starts: ``stockpot --help`` and ``stockpot ledger balances`` on a small
SQLite database, against ``python -c "import sqlalchemy, click"`` (the floor any command of
ours pays) in the same run, each the median of ``--runs`` fresh processes.

    python -m bench.cli [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import report
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory
from stockpot.migrations import schema
from stockpot.sandbox import demo as data


def _seconds(command: list[str], env: dict[str, str], runs: int) -> float:
    """The median wall time of ``runs`` fresh processes (one unmeasured run first, so the
    file cache is warm for all three commands alike)."""
    subprocess.run(command, env=env, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per command (median)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'small.db'}"
        schema.upgrade(url)
        import_catalog(
            make_session_factory(make_engine(url)),
            data.text("catalog.yaml"),
            source="catalog.yaml",
        )
        env = {**os.environ, "DATABASE_URL": url, "STOCKPOT_DATA_DIR": work}
        env.pop("LOG_LEVEL", None)
        stockpot = [sys.executable, "-m", "stockpot"]
        floor = _seconds([sys.executable, "-c", "import sqlalchemy, click"], env, runs)
        helped = _seconds([*stockpot, "--help"], env, runs)
        balances = _seconds([*stockpot, "ledger", "balances", "--company", data.COMPANY], env, runs)
    report(
        "cli",
        [
            ('python -c "import sqlalchemy, click"', f"{floor * 1000:.0f} ms", "the floor"),
            ("stockpot --help", f"{helped * 1000:.0f} ms", f"{helped / floor:.1f}x the floor"),
            (
                "stockpot ledger balances",
                f"{balances * 1000:.0f} ms",
                f"{balances / floor:.1f}x the floor",
            ),
        ],
        {
            "runs": runs,
            "import_sqlalchemy_click_s": floor,
            "help_s": helped,
            "ledger_balances_s": balances,
        },
    )


if __name__ == "__main__":
    main()
