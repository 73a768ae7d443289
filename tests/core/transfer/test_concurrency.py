"""Two transfers of one location-date never post concurrently.

Threads start together on a barrier and each posts a different version of the same day.
Without the day lock they would all reverse the same live run and double the ledger; with
it they queue, and the ledger equals exactly one run: the last one.
"""

from __future__ import annotations

import itertools
import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from stockpot.core.models import LedgerMovement, RunOutcome, RunStatus, TransferDay, TransferRun
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import TransferReport, run_transfer
from tests.catalogs import ids, setup_trattoria

DAY = date(2026, 11, 27)
THREADS = 6
ROUNDS = 4


def _race(database, location_id: int, round_number: int) -> list[TransferReport]:
    barrier = threading.Barrier(THREADS)
    reports: list[TransferReport] = []
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        lines = [
            SaleLine("S1", "1", "101", "Margherita", Decimal(round_number * THREADS + index + 1)),
            SaleLine("S1", "2", "300", "Espresso", Decimal(index + 2)),
        ]
        barrier.wait()
        try:
            reports.append(
                run_transfer(database.factory, location_id, DAY, lines, RawInput("t", "[]"))
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return reports


def _check_day(database, location_id: int, posted: int) -> None:
    with database.session() as session:
        runs = session.scalars(select(TransferRun).order_by(TransferRun.generation)).all()
        generations = [run.generation for run in runs]
        assert generations == list(range(1, posted + 1)), "each post takes the next generation"
        day = session.get_one(TransferDay, (location_id, DAY))
        live = runs[-1]
        assert (day.generation, day.live_run_id) == (posted, live.id)
        assert [run.status for run in runs] == [RunStatus.SUPERSEDED] * (posted - 1) + [
            RunStatus.SUCCEEDED
        ]
        for older, newer in itertools.pairwise(runs):
            assert older.superseded_by_id == newer.id
        net = dict(
            session.execute(
                select(LedgerMovement.ingredient_id, func.sum(LedgerMovement.quantity))
                .group_by(LedgerMovement.ingredient_id)
                .having(func.sum(LedgerMovement.quantity) != 0)
            )
            .tuples()
            .all()
        )
        live_movements = dict(
            session.execute(
                select(LedgerMovement.ingredient_id, LedgerMovement.quantity).where(
                    LedgerMovement.run_id == live.id, LedgerMovement.reverses_id.is_(None)
                )
            )
            .tuples()
            .all()
        )
        assert net == live_movements


def test_concurrent_runs_of_one_day_queue(database):
    setup_trattoria(database)
    with database.session() as session:
        location_id = ids(session)["location:Main room"]
    for round_number in range(ROUNDS):
        reports = _race(database, location_id, round_number)
        assert {report.outcome for report in reports} == {RunOutcome.POSTED}
        _check_day(database, location_id, posted=(round_number + 1) * THREADS)
