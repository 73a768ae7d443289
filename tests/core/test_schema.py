"""The schema comes from the migrations, and the migrations agree with the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from stockpot.core.db import make_engine
from stockpot.core.models import Base
from stockpot.migrations import schema


def test_migrations_and_models_agree(database):
    with database.engine.connect() as connection:
        include = schema.include_object(connection.dialect.name)
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_every_model_table_is_created_by_the_migrations(database):
    tables = set(inspect(database.engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_downgrade_to_nothing_and_back_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    schema.upgrade(url)
    command.downgrade(schema.alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    schema.upgrade(url)
    assert "ledger_movement" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_quick_head_is_alembics_head(database):
    """The revision check reads the head from the scripts' names (no Alembic environment);
    it is the head Alembic finds, and a migrated database is at it."""
    assert schema.head_revision() == schema.alembic_head()
    with database.engine.connect() as connection:
        assert schema.revisions(connection) == (schema.head_revision(), schema.head_revision())


@pytest.mark.postgresql_only
def test_a_runs_large_values_are_compressed_with_lz4_where_the_server_offers_it(database):
    """Migration 0020: the snapshot and raw payload of a run (hundreds of KB to MB) are
    compressed with LZ4, several times faster to write than PostgreSQL's default pglz."""
    with database.engine.connect() as connection:
        offered = connection.scalar(
            text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        )
        if "lz4" not in offered:
            pytest.skip("this PostgreSQL server is built without LZ4")
        methods = dict(
            connection.execute(
                text(
                    "SELECT c.relname || '.' || a.attname, a.attcompression FROM pg_attribute a"
                    " JOIN pg_class c ON c.oid = a.attrelid WHERE (c.relname, a.attname) IN"
                    " (('raw_payload', 'body'), ('transfer_snapshot', 'body'),"
                    " ('job_effect', 'result'), ('job', 'result'), ('job', 'payload'))"
                )
            ).all()
        )
    assert methods == {
        "raw_payload.body": "l",
        "transfer_snapshot.body": "l",
        "job_effect.result": "l",
        "job.result": "l",
        "job.payload": "",
    }


@pytest.mark.postgresql_only
def test_postgresql_stamps_a_movements_time(database):
    """Migration 0022: a transfer's COPY sends no timestamp per row to parse."""
    with database.engine.connect() as connection:
        default = connection.scalar(
            text(
                "SELECT column_default FROM information_schema.columns"
                " WHERE table_name = 'ledger_movement' AND column_name = 'created_at'"
            )
        )
    assert default == "now()"
