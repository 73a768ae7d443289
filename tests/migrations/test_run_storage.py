"""Migrations 0010 and 0011 move a run's lines and snapshot to compact storage: a database
with runs goes down to 0009 and up again with every run, movement, trace and figure intact, on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from stockpot.core import ledger
from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.lookup import company_by_name
from stockpot.core.models import LedgerMovement, TransferRun
from stockpot.core.transfer import trace
from stockpot.core.transfer.live import live_lines, run_dispositions
from stockpot.core.unmapped import coverage
from stockpot.migrations import schema
from tests.catalogs import ids, setup_trattoria
from tests.conftest import Database
from tests.core.transfer.test_runner import DAY, SALES, remap_espresso, sold, transfer


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request, tmp_path) -> Iterator[str]:
    """A URL of a database of its own (the migrations run on it from nothing)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    # skips (or fails in CI) without a server; under xdist, the worker's database's URL
    url = make_url(request.getfixturevalue("postgres_url"))
    name = f"{url.database}_migrations"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(database: Database) -> dict:
    with database.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        runs = session.scalars(select(TransferRun.id).order_by(TransferRun.id)).all()
        movements = session.scalars(select(LedgerMovement.id).order_by(LedgerMovement.id)).all()
        return {
            "balances": [row.to_json() for row in ledger.balances(session, company)],
            "traces": {m: [t.to_json() for t in trace.trace(session, m)] for m in movements},
            "dispositions": {
                run: [(e.line, e.disposition) for e in run_dispositions(session, run)]
                for run in runs
            },
            "live": live_lines(session, database.ids["location:Main room"], DAY),
            "coverage": coverage(session, company.id),
        }


def test_runs_survive_a_downgrade_to_0009_and_the_upgrade_back(empty):
    schema.upgrade(empty)
    engine = make_engine(empty)
    database = Database(empty, engine, make_session_factory(engine))
    setup_trattoria(database)
    with database.session() as session:
        database.ids = ids(session)
    transfer(database, SALES)
    remap_espresso(database, "0.018")
    transfer(database, [*SALES, sold("300", 1, sale="S4")])  # supersedes the first run
    transfer(database, SALES, dry_run=True)
    before = _state(database)
    assert any(before["traces"].values()) and before["coverage"] is not None

    command.downgrade(schema.alembic_config(empty), "0009")
    with engine.connect() as connection:
        lines = connection.scalar(text("SELECT count(*) FROM raw_sale_line"))
        kept = (
            connection.execute(
                text("SELECT disposition FROM raw_sale_line WHERE run_id = 1 ORDER BY position")
            )
            .scalars()
            .all()
        )
        assert connection.scalar(select(func.count()).select_from(LedgerMovement)) == len(
            before["traces"]
        )
    assert lines == len(SALES) * 2 + 1  # the lines of the two runs that posted
    assert kept == [disposition for _, disposition in before["dispositions"][1]]

    schema.upgrade(empty)
    assert _state(database) == before
    engine.dispose()
