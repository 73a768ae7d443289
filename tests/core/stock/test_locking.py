"""A count and a POS day rerun racing on PostgreSQL: whichever commits first, the count still
fixes its balance (the rerun waits for the count's lock, then sees the count and is absorbed
by it). SQLite serialises writers at BEGIN, so the race cannot happen there."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from stockpot.core import ledger
from stockpot.core.db import unit_of_work
from stockpot.core.lookup import company_by_name
from stockpot.core.models import StockKind
from stockpot.core.stock.services import LineInput, StockRequest, post_in_session
from stockpot.core.transfer.lines import SaleLine
from stockpot.core.transfer.runner import RawInput, run_transfer
from tests.catalogs import ids, setup_trattoria

pytestmark = pytest.mark.postgresql_only
DAY, COUNTED = date(2026, 11, 2), date(2026, 11, 3)


def espressos(database, location: int, sold: int) -> None:
    line = SaleLine("S", "1", "300", "Espresso", Decimal(sold))
    run_transfer(database.factory, location, DAY, [line], RawInput("t", str(sold)))


def waiting_for_a_lock(database) -> bool:
    with database.engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar()
        )


def test_a_rerun_during_an_uncommitted_count_is_absorbed_by_it(database):
    setup_trattoria(database)
    with database.session() as session:
        found = ids(session)
    location = found["location:Main room"]
    espressos(database, location, 100)  # 0.9 kg
    go_on, rerun_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def rerun() -> None:
        try:
            espressos(database, location, 50)  # the POS corrected the day: 0.45 kg
        except BaseException as error:
            errors.append(error)
        finally:
            rerun_done.set()

    with unit_of_work(database.factory) as session:
        request = StockRequest(
            StockKind.COUNT,
            found["company"],
            "Kitchen",
            COUNTED,
            "test",
            [LineInput("Espresso beans", Decimal(2))],
        )
        post_in_session(session, request, dry_run=False)  # holds the Kitchen's row lock
        worker = threading.Thread(target=rerun)
        worker.start()
        for _ in range(10_000):  # until the rerun waits for the count's lock
            if waiting_for_a_lock(database) or rerun_done.is_set():
                break
        assert not rerun_done.is_set(), "the rerun did not wait for the count"
        go_on.set()
    worker.join()
    assert not errors
    with database.session() as session:
        rows = ledger.balances(session, company_by_name(session, "Trattoria Esempio"))
    beans = {(r.storage_unit, r.ingredient): r.quantity for r in rows}[
        ("Kitchen", "Espresso beans")
    ]
    assert beans == Decimal(2)  # the count's balance stands; the rerun went to its adjustment


def test_a_move_out_of_a_unit_archived_meanwhile_is_refused(database):
    """Two managers: one archives the Cellar while the other moves its flour to the Kitchen.
    The move read the Cellar as in use before the archive committed, and posted into an
    archived unit (a balance nobody can count or correct again). It now reads the unit under
    its row lock: it waits for the archive, then refuses, nothing posted."""
    from stockpot.core.errors import InvalidDocument
    from stockpot.core.models import LedgerMovement
    from stockpot.core.stock.services import post_stock
    from stockpot.core.storage import archive_storage_unit, create_storage_unit

    setup_trattoria(database)
    with database.session() as session:
        found = ids(session)
    with unit_of_work(database.factory) as session:
        create_storage_unit(session, found["company"], "Cellar", "Via Roma 1")
    done = threading.Event()
    outcome: list[BaseException | object] = []

    def move() -> None:
        request = StockRequest(
            StockKind.MOVE,
            found["company"],
            "Cellar",
            DAY,
            "test",
            [LineInput("Flour", Decimal(5))],
            to_storage_unit="Kitchen",
        )
        try:
            outcome.append(post_stock(database.factory, request))
        except BaseException as error:
            outcome.append(error)
        finally:
            done.set()

    with unit_of_work(database.factory) as session:
        archive_storage_unit(session, found["company"], "Cellar")
        session.flush()  # the archive holds the Cellar's row, uncommitted
        worker = threading.Thread(target=move)
        worker.start()
        for _ in range(10_000):  # until the move waits for the archive's lock
            if waiting_for_a_lock(database) or done.is_set():
                break
    worker.join()
    assert isinstance(outcome[0], InvalidDocument), outcome
    assert "storage unit 'Cellar' is archived" in str(outcome[0])
    with database.session() as session:
        assert session.query(LedgerMovement).count() == 0
