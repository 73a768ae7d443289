"""Checking a pooled PostgreSQL connection before it is lent, without a round trip each time.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: about 5 % of the
worker time of a ``/ledger <day>`` answer, which checks out a connection several times.
A connection is pinged here only when the ping can find something: it rested for a while
(``IDLE_BEFORE_PING``), or its socket has something to read while no query is running.
A server that ends a session (a restart, ``pg_terminate_backend``, PgBouncer going away)
sends its notice and closes the socket, which a zero-timeout ``select`` sees at no cost;
the ping then fails, the pool's connections older than now are dropped (as pre-ping
does) and a fresh one is lent, so the request that comes next does not fail.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, exc

IDLE_BEFORE_PING = 5.0
"""Seconds a connection rests in the pool before its checkout pings it whatever its socket
says: a connection a busy process lends again within milliseconds is not pinged."""

_CHECKED_IN = "stockpot_checked_in"


def ping_on_checkout(
    engine: Engine, *, idle: float = IDLE_BEFORE_PING, clock: Callable[[], float] = time.monotonic
) -> None:
    """Ping ``engine``'s connections on checkout when they rested ``idle`` seconds or more,
    or when the server sent something since (``idle=0``: every time, as pre-ping)."""

    @event.listens_for(engine, "checkin")
    def _rests(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = clock()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested_since = record.info.get(_CHECKED_IN)
        if rested_since is None:  # new from connect (an invalidated one's info is cleared)
            return
        if clock() - rested_since < idle and not _server_spoke(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # As pre-ping: this and every older pooled connection is replaced.
                raise exc.InvalidatePoolError() from error
            raise


def _server_spoke(dbapi_connection: Any) -> bool:
    """Whether the idle connection's socket is readable: between queries the server only
    writes when it ends the session (or for a notice), and a closed socket reads as ready."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # a closed connection has no socket: the ping says why
        return True
    return bool(readable)
