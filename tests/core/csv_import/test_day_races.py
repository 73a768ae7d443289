"""Imports, undos and reruns of one CSV day from several processes at once (PostgreSQL):
each takes the connection's turn before it reads the day's stored lines, so the ledger ends
equal to the imports that are live, none lost and none undone coming back."""

from __future__ import annotations

import io
import multiprocessing
import random
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from stockpot.core.csv_import.importer import import_csv, undo_import
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.errors import StockpotError
from stockpot.core.models import (
    Connection,
    CsvImport,
    ExternalLocation,
    ImportStatus,
    Ingredient,
    LedgerMovement,
    TransferDay,
)
from stockpot.core.pos.connections import transfer_day
from stockpot.core.settings import Settings
from stockpot.core.transfer.live import run_lines
from tests.core.csv_import.files import setup_csv

pytestmark = pytest.mark.postgresql_only

DAY = date(2026, 11, 27)
PROCESSES = 4
STEPS = 16


FILLER = "".join(f"27.11.2026;x{n};1\n" for n in range(50))
"""Unmapped lines that make each import's transaction long enough for the others to race it."""


def _file(process: int, step: int) -> tuple[bytes, Decimal]:
    quantity = Decimal(process * 100 + step + 1)
    return f"Datum;Artikelnummer;Menge\n27.11.2026;231;{quantity}\n{FILLER}".encode(), quantity


def _work(url: str, connection_id: int, location_id: int, process: int, start) -> list[str]:
    """One process's turn of random imports, undos of its own imports and reruns of the day."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    settings = Settings()
    chooser = random.Random(process)
    mine: list[int] = []
    done: list[str] = []
    start.wait()
    for step in range(STEPS):
        action = chooser.choice(("import", "import", "undo", "rerun", "rerun"))
        try:
            if action == "undo" and mine:
                undo_import(factory, mine.pop(chooser.randrange(len(mine))))
            elif action == "rerun":
                transfer_day(factory, settings, location_id, DAY)
            else:
                data, _ = _file(process, step)
                result = import_csv(
                    factory,
                    connection_id,
                    io.BytesIO(data),
                    file_name=f"p{process}-{step}.csv",
                    max_bytes=10**6,
                )
                mine.append(result.import_id)
            done.append(action)
        except StockpotError as error:  # a rerun before the first import: nothing to rerun
            done.append(f"{action} refused: {error}")
    engine.dispose()
    return done


def test_imports_undos_and_reruns_of_one_day_from_several_processes(database):
    setup_csv(database)
    with database.session() as session:
        connection_id = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))
        location_id = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == "Filiale Mitte")
        )
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    start = manager.Barrier(PROCESSES)
    with context.Pool(PROCESSES) as pool:
        outcomes = pool.starmap(
            _work,
            [(database.url, connection_id, location_id, p, start) for p in range(PROCESSES)],
        )
    manager.shutdown()
    actions = [action for outcome in outcomes for action in outcome]
    assert sum(a == "rerun" for a in actions) >= 5 and sum(a == "undo" for a in actions) >= 5

    with database.session() as session:
        live_imports = session.scalars(
            select(CsvImport).where(CsvImport.status == ImportStatus.IMPORTED)
        ).all()
        expected = sum(
            (_file(int(i.file_name[1]), int(i.file_name[3:-4]))[1] for i in live_imports),
            Decimal(0),
        )
        red = session.scalar(select(Ingredient.id).where(Ingredient.name == "House red"))
        balance = session.scalar(
            select(func.coalesce(func.sum(LedgerMovement.quantity), 0)).where(
                LedgerMovement.ingredient_id == red
            )
        )
        assert balance == -expected, "the ledger equals the imports that are live"
        live_run = session.scalar(
            select(TransferDay.live_run_id).where(TransferDay.location_id == location_id)
        )
        tags = {line.sale_id for line in run_lines(session, live_run)}
        assert tags == {f"csv:{i.id}" for i in live_imports}


def _import(database, connection_id: int, process: int, step: int) -> None:
    data, _ = _file(process, step)
    import_csv(
        database.factory,
        connection_id,
        io.BytesIO(data),
        file_name=f"p{process}-{step}.csv",
        max_bytes=10**6,
    )


def _waiting_for_locks(database, count: int) -> None:
    """Until ``count`` sessions of this database wait for a lock (a condition, polled)."""
    deadline = time.monotonic() + 60
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with database.engine.connect() as connection:
        while connection.execute(query).scalar_one() < count:
            assert time.monotonic() < deadline, f"{count} sessions never waited for a lock"
            connection.rollback()  # pg_stat_activity is a snapshot per transaction
            time.sleep(0.01)


def test_a_rerun_started_while_an_import_is_in_flight_keeps_that_import(database):
    """The interleaving the random test looks for, forced: an import is inside its
    transaction when a rerun of its day starts. Reading the day before taking the turn, the
    rerun posted the lines from before the import, and the import that said "imported" was
    gone from the ledger."""
    setup_csv(database)
    with database.session() as session:
        connection_id = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))
        location_id = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == "Filiale Mitte")
        )
    _import(database, connection_id, 0, 0)
    errors: list[BaseException] = []

    def run(work) -> threading.Thread:
        def target() -> None:
            try:
                work()
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    with database.engine.connect() as holder, holder.begin() as held:
        holder.execute(
            select(TransferDay.location_id)
            .where(TransferDay.location_id == location_id, TransferDay.business_date == DAY)
            .with_for_update()
        )
        importing = run(lambda: _import(database, connection_id, 0, 1))
        _waiting_for_locks(database, 1)
        rerunning = run(lambda: transfer_day(database.factory, Settings(), location_id, DAY))
        _waiting_for_locks(database, 2)
        held.rollback()
    importing.join()
    rerunning.join()
    assert errors == []
    with database.session() as session:
        red = session.scalar(select(Ingredient.id).where(Ingredient.name == "House red"))
        balance = session.scalar(
            select(func.sum(LedgerMovement.quantity)).where(LedgerMovement.ingredient_id == red)
        )
    assert balance == -(_file(0, 0)[1] + _file(0, 1)[1])
