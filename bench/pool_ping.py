"""What checking pooled connections costs: a checkout and a small query with SQLAlchemy's
``pool_pre_ping`` (a ``SELECT 1`` round trip at every checkout) against ``core.pool_ping``
(a ping only after a rest or when the server spoke), alternated in one process so that the
machine's load falls on both alike. The database is only read.

    python -m bench.pool_ping [--database-url URL] [--checkouts 200] [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from sqlalchemy import Engine, create_engine, text

from bench.common import DEFAULT_URL, report
from stockpot.core.db import make_engine

QUERY = text("SELECT 1")


def _per_checkout(engine: Engine, checkouts: int) -> tuple[float, float]:
    """Wall time and this process's CPU time per checkout: on a loaded machine the wall
    time is mostly waiting for a CPU, the CPU time is what the checks cost here."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(checkouts):
        with engine.connect() as connection:
            connection.execute(QUERY).scalar()
    return (
        (time.perf_counter() - started) / checkouts,
        (time.process_time() - cpu) / checkouts,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--checkouts", type=int, default=200, help="per pass")
    parser.add_argument("--rounds", type=int, default=21, help="passes of each, alternated")
    args = parser.parse_args()
    connect_args = {"prepare_threshold": None}
    engines = {
        "pre-ping": create_engine(args.database_url, pool_pre_ping=True, connect_args=connect_args),
        "ping when rested": make_engine(args.database_url),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    for engine in engines.values():
        _per_checkout(engine, args.checkouts)  # connected and warm before any pass counts
    for round_ in range(args.rounds):
        order = list(engines) if round_ % 2 == 0 else list(reversed(engines))
        for name in order:
            times[name].append(_per_checkout(engines[name], args.checkouts))
    figures: dict[str, float] = {}
    rows = []
    for index, measure in enumerate(("wall", "cpu")):
        before, after = (statistics.median(t[index] for t in times[name]) for name in engines)
        figures |= {f"pre_ping_{measure}_s": before, f"ping_when_rested_{measure}_s": after}
        rows += [
            (f"{measure}: checkout + SELECT 1, pre-ping", f"{before * 1e6:.0f} µs", "median"),
            (f"{measure}: checkout + SELECT 1, ping when rested", f"{after * 1e6:.0f} µs", ""),
            (f"{measure}: saved a checkout", f"{(before - after) * 1e6:.0f} µs", ""),
            (f"{measure}: ping when rested / pre-ping", f"{after / before:.2f}", ""),
        ]
    report("pool_ping", rows, {"checkouts": args.checkouts, "rounds": args.rounds, **figures})


if __name__ == "__main__":
    main()
