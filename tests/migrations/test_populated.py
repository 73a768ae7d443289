"""A database with rows in it (runs and their movements, a superseded run, a CSV import, stock
postings with a correction, queued jobs) goes down to every earlier revision and back up to
the head, on SQLite and PostgreSQL: no migration fails on rows, and every value a revision
keeps is the same before the downgrade, at that revision and after the upgrade back.

A downgrade drops what its revision added: below 0014 the stock postings and count lines
(their movements stay, without a posting), below 0009 the CSV imports, below 0007 the jobs;
those are not compared once dropped. ``test_run_storage.py`` checks the run storage that
0010/0011 restructure (a table at 0009 that the head does not have) in detail."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from alembic import command
from sqlalchemy import Engine, inspect, select, text

from stockpot.core.csv_import.importer import import_csv
from stockpot.core.db import make_engine, make_session_factory, unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue_many
from stockpot.core.models import Company, Connection, RunKind
from stockpot.core.stock.services import LineInput, StockKind, StockRequest, correct, post_stock
from stockpot.migrations import schema
from tests.catalogs import ids
from tests.conftest import Database
from tests.core.csv_import.files import GERMAN, setup_csv
from tests.core.transfer.test_runner import SALES, remap_espresso, sold, transfer
from tests.migrations.test_run_storage import empty  # noqa: F401 - the fixture

EARLIER = [f"{n:04d}" for n in range(int(schema.head_revision()) - 1, 0, -1)]
"""Every revision before the head, newest first."""

Rows = dict[str, tuple[list[str], list[tuple[str, ...]]]]


def populate(database: Database) -> None:
    setup_csv(database)
    with database.session() as session:
        database.ids = ids(session)
        company = session.scalars(select(Company.id)).one()
        kasse = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))
    transfer(database, SALES)
    remap_espresso(database, "0.018")
    transfer(database, [*SALES, sold("300", 1, sale="S4")])  # supersedes the first run
    import_csv(database.factory, kasse, io.BytesIO(GERMAN), file_name="k.csv", max_bytes=10**6)
    day = date(2026, 11, 28)
    posted = [
        post_stock(
            database.factory, StockRequest(kind, company, "Kitchen", day, "test", lines)
        ).posting_id
        for kind, lines in [
            (StockKind.RECEIPT, [LineInput("Flour", Decimal(25), "kg", Decimal("0.9"))]),
            (StockKind.COUNT, [LineInput("Flour", Decimal(20), "kg")]),
            (StockKind.WASTE, [LineInput("Flour", Decimal("0.5"), "kg")]),
        ]
    ]
    assert posted[-1] is not None
    correct(database.factory, company, posted[-1], "test", reason="counted twice")
    with unit_of_work(database.factory) as session:
        location = database.ids["location:Main room"]
        enqueue_many(
            session,
            [
                specs.transfer(
                    company, location, day, run_kind=RunKind.AUTOMATIC, triggered_by="test"
                ),
                specs.migration(company, location, 30, triggered_by="test"),
            ],
        )


def rows(engine: Engine) -> Rows:
    """Every table's columns and rows (each value as its ``repr``), in a stable order."""
    found: Rows = {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            columns = sorted(column["name"] for column in inspector.get_columns(table))
            selected = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
            found[table] = (columns, sorted(tuple(map(repr, row)) for row in selected))
    return found


def kept(rows_of: Rows, table: str, columns: list[str]) -> list[tuple[str, ...]]:
    """``table``'s rows in ``columns`` only (the ones a revision has)."""
    have, values = rows_of[table]
    where = [have.index(column) for column in columns]
    return sorted(tuple(row[i] for i in where) for row in values)


def test_a_populated_database_goes_down_to_every_revision_and_back_up(empty):
    schema.upgrade(empty)
    engine = make_engine(empty)
    populate(Database(empty, engine, make_session_factory(engine)))
    head = rows(engine)
    assert all(head[table][1] for table in ("transfer_run", "ledger_movement", "job"))
    assert all(head[table][1] for table in ("csv_import", "stock_posting", "stock_count_line"))
    for revision in EARLIER:
        command.downgrade(schema.alembic_config(empty), revision)
        at = rows(engine)
        schema.upgrade(empty)
        again = rows(engine)
        for table, (columns, _) in at.items():
            shared = [c for c in columns if c in head.get(table, ([], []))[0]]
            if table in head:
                assert kept(head, table, shared) == kept(at, table, shared), (
                    f"the downgrade to {revision} changed {table}"
                )
            if table in again:
                shared = [c for c in columns if c in again[table][0]]
                assert kept(again, table, shared) == kept(at, table, shared), (
                    f"the upgrade from {revision} changed {table}"
                )
        if revision >= "0014":
            assert again == head, f"down to {revision} and up again changed the database"
    engine.dispose()
