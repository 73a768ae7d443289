"""Test databases: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the local server, database
``stockpot_test``, created if missing). Where no server answers, the PostgreSQL variants
skip with the reason (CI sets ``TEST_REQUIRE_POSTGRESQL`` so they fail instead); the SQLite
ones always run. Under pytest-xdist each worker process has a database of its own, the
URL's name with the worker's (``stockpot_test_gw0``), created at its start and dropped at
its end, so one worker's reset never empties another's tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.models import Base
from stockpot.core.settings import get_settings
from stockpot.migrations import schema

pytest_plugins = ["tests.plugin"]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/stockpot_test"


@dataclass
class Database:
    url: str
    engine: Engine
    factory: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.factory()


def _admin_conninfo(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database or ""


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "stockpot.db"
    schema.upgrade(f"sqlite:///{path}")
    return path


def worker_database_url(url: str) -> str:
    """``url`` for this process: under pytest-xdist, with the worker's id appended to the
    database name (``stockpot_ci_123`` → ``stockpot_ci_123_gw0``); else ``url`` itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = worker_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))
    admin, name = _admin_conninfo(url)
    safe = make_url(url).render_as_string(hide_password=True)
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        reason = (
            f"PostgreSQL not reachable at {safe} ({str(error).strip()}); start a server or "
            "set TEST_DATABASE_URL to run the PostgreSQL variants"
        )
        if os.environ.get("TEST_REQUIRE_POSTGRESQL"):
            pytest.fail(reason)
        pytest.skip(reason)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    schema.upgrade(url)
    yield url
    if url != os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL):  # a worker's own
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(engine: Engine) -> None:
    """Every table empty and every id restarted, as ``TRUNCATE … RESTART IDENTITY`` leaves
    them. A test leaves a handful of small tables with rows: deleting those rows (children
    first) and restarting the sequences that were used takes a few milliseconds, where one
    TRUNCATE of all the tables took ~0.13 s (a new file for each), before every test."""
    tables = Base.metadata.sorted_tables
    with engine.begin() as connection:
        with_rows = set(
            connection.execute(
                text(
                    " UNION ALL ".join(
                        f"SELECT '{table.name}' WHERE EXISTS (SELECT FROM \"{table.name}\")"
                        for table in tables
                    )
                )
            ).scalars()
        )
        for table in reversed(tables):
            if table.name in with_rows:
                connection.execute(text(f'DELETE FROM "{table.name}"'))
        used = connection.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences "
                "WHERE last_value IS NOT NULL"
            )
        ).scalars()
        for sequence in list(used):
            connection.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


def _open(url: str) -> Iterator[Database]:
    engine = make_engine(url)
    try:
        yield Database(url, engine, make_session_factory(engine))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database; each test runs once per kind."""
    if request.param == "sqlite":
        path = tmp_path / "stockpot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield from _open(f"sqlite:///{path}")
    else:
        yield from _postgres(request)


def _postgres(request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue("postgres_url")
    for database in _open(url):
        _truncate_all(database.engine)
        yield database


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test reads settings anew, from a clean environment and its own data directory."""
    for name in ("DATABASE_URL", "STOCKPOT_SECRET_KEY", "STOCKPOT_ENV", "STOCKPOT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STOCKPOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgresql_only`` (worker processes, killed workers, outages) are not
    collected for SQLite at all, rather than skipped there. Those marked ``slow`` (20-35 s
    each) come first: with one test process per core, none is left for the end, run by one
    process while the other has nothing left to do."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        sqlite = params is not None and params.params.get("database") == "sqlite"
        (dropped if sqlite and item.get_closest_marker("postgresql_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = sorted(kept, key=lambda item: item.get_closest_marker("slow") is None)
