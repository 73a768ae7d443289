"""A pooled PostgreSQL connection whose session the server ended (a restart,
``pg_terminate_backend``) is replaced before it is lent: the next operation succeeds, as
with SQLAlchemy's pre-ping, without a ping at every checkout (``core.pool_ping``)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, exc, text

from stockpot.core.db import libpq_url, make_engine

pytestmark = pytest.mark.postgresql_only

BACKEND = text("SELECT pg_backend_pid()")


def _backends(engine: Engine, count: int) -> set[int]:
    """``count`` connections opened at once and returned to the pool: their server pids."""
    connections = [engine.connect() for _ in range(count)]
    try:
        return {connection.scalar(BACKEND) for connection in connections}
    finally:
        for connection in connections:
            connection.close()


def _end_sessions(url: str, pids: set[int]) -> None:
    """The server ends these sessions, as a restart does; returns once they have exited."""
    with psycopg.connect(libpq_url(url), autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


@pytest.mark.parametrize("idle", [0, 3600], ids=["rested, pinged", "lent again at once"])
def test_the_next_operation_after_the_server_ended_the_pools_sessions_succeeds(postgres_url, idle):
    engine = make_engine(postgres_url, ping_idle=idle)
    try:
        before = _backends(engine, 3)
        _end_sessions(postgres_url, before)
        after = _backends(engine, 3)
        assert len(after) == 3 and not after & before
    finally:
        engine.dispose()


def test_without_a_check_the_next_operation_fails(postgres_url):
    """What the checks are for: a pool that lends a connection unchecked fails the request
    that gets it (so the test above does end the sessions)."""
    engine = create_engine(postgres_url)
    try:
        before = _backends(engine, 1)
        _end_sessions(postgres_url, before)
        with pytest.raises(exc.OperationalError), engine.connect() as connection:
            connection.scalar(BACKEND)
    finally:
        engine.dispose()


@pytest.mark.parametrize(("idle", "pings"), [(0, 9), (3600, 0)])
def test_a_connection_lent_again_at_once_is_not_pinged(postgres_url, monkeypatch, idle, pings):
    engine = make_engine(postgres_url, ping_idle=idle, pool_size=1)
    pinged = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pinged.append(c) or ping(c))
    try:
        for _ in range(10):
            with engine.connect() as connection:
                connection.scalar(text("SELECT 1"))
        assert len(pinged) == pings  # the first checkout is of a new connection
    finally:
        engine.dispose()
