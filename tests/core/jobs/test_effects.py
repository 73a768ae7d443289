"""Effects under a job's key: the second attempt with the same key reports the first one's
result and posts nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from stockpot.core.csv_import.importer import import_csv, undo_import
from stockpot.core.models import Connection, CsvImport, JobEffect, LedgerMovement, TransferRun
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from tests.catalogs import ids, setup_trattoria
from tests.core.csv_import.files import GERMAN, setup_csv

DAY = date(2026, 11, 27)


def _count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_transfer_under_a_key_it_already_posted_reports_that_run(database):
    setup_trattoria(database)
    with database.session() as session:
        location = ids(session)["location:Main room"]

    def transfer(quantity: int):
        lines = [SaleLine("S", "1", "300", "Espresso", Decimal(quantity))]
        return run_transfer(
            database.factory, location, DAY, lines, RawInput("t", "[]"), effect_key="job:7"
        )

    first = transfer(2)
    movements = _count(database, LedgerMovement)
    again = transfer(5)
    assert again == first
    assert _count(database, TransferRun) == 1 and _count(database, LedgerMovement) == movements


def test_a_report_kept_without_its_movements_says_the_same_outcome(database):
    """A migration keeps each day's outcome under its key, not the day's named movements:
    the retry reports the same run and outcome, with no movements listed."""
    setup_trattoria(database)
    with database.session() as session:
        location = ids(session)["location:Main room"]
    lines = [SaleLine("S", "1", "300", "Espresso", Decimal(2))]

    def transfer():
        return run_transfer(
            database.factory,
            location,
            DAY,
            lines,
            RawInput("t", "[]"),
            effect_key="job:8:day",
            keep_movements=False,
        )

    first = transfer()
    assert len(first.movements) > 0
    with database.session() as session:
        kept = session.scalar(select(JobEffect.result).where(JobEffect.key == "job:8:day"))
    assert kept["movements"] == [] and kept["run_id"] == first.run_id
    again = transfer()
    assert (again.run_id, again.outcome, again.movements) == (first.run_id, first.outcome, [])


def test_a_csv_import_and_undo_under_their_keys_happen_once(database):
    setup_csv(database)
    with database.session() as session:
        kasse = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))

    def load():
        return import_csv(
            database.factory,
            kasse,
            io.BytesIO(GERMAN),
            file_name="kasse.csv",
            max_bytes=10**6,
            force=True,
            effect_key="job:1",
        )

    first = load()
    assert load() == first and _count(database, CsvImport) == 1
    undone = undo_import(database.factory, first.import_id, effect_key="job:2")
    assert undo_import(database.factory, first.import_id, effect_key="job:2") == undone
    with database.session() as session:
        assert session.scalar(select(func.sum(LedgerMovement.quantity))) == 0
