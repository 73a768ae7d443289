"""Alembic runtime: migrates the database named by the caller's config or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from stockpot.core.db import make_engine
from stockpot.core.models import Base
from stockpot.core.settings import get_settings
from stockpot.migrations.schema import include_object

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database.url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run_with(connection)
    engine.dispose()


def _run_with(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, enforced=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_object=include_object(connection.dialect.name),
            user_module_prefix="stockpot.core.db.",
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            # With nothing to migrate, reading the version table autobegins a transaction
            # that Alembic's (empty) migration transaction does not end.
            connection.commit()
        if sqlite:
            _check_sqlite_foreign_keys(connection)
    finally:
        if connection.in_transaction():
            connection.rollback()
        if sqlite:
            _sqlite_foreign_keys(connection, enforced=True)


def _sqlite_foreign_keys(connection: Connection, *, enforced: bool) -> None:
    """SQLite rebuilds a table to alter it (Alembic's batch mode): it drops the old table,
    which with foreign keys enforced deletes, or nulls, every row that references it. They
    are off while migrating (the pragma only takes effect outside a transaction, so it goes
    to the driver's connection, which is in autocommit mode) and checked afterwards."""
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations need a connection outside a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    broken = driver.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows with broken references: {broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
