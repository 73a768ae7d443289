"""The schema comes from the migrations, and the migrations agree with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
