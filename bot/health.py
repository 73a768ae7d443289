"""Is this process fit to serve? The checks behind ``/readyz`` and ``stockpot check``.

Each check says what is wrong and how to fix it, like every other error in Stockpot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import missing_sqlite_file, utcnow
from stockpot.core.jobs import heartbeat
from stockpot.core.settings import UNENCODED_AT, UNENCODED_AT_FIX, password_in_host
from stockpot.migrations import schema

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True
    """Whether readiness waits for it; one that is not is reported all the same."""
    warning: bool = False
    """A setting to change, not a failure: shown with its fix, never a reason to refuse
    (``stockpot check`` exits 0, readiness does not wait for it)."""

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "fix": self.fix,
            "needed": self.needed,
            "warning": self.warning,
        }


AUTOVACUUM_SETTINGS = ("autovacuum", "track_counts")
"""What PostgreSQL's autovacuum needs on: itself, and the row counts it decides by."""


def autovacuum(readings: Mapping[str, str]) -> Check:
    """Whether the server vacuums and analyses tables by itself, from its settings
    (``AUTOVACUUM_SETTINGS`` → ``on``/``off``): a warning when not, with why and the fix."""
    off = [name for name in AUTOVACUUM_SETTINGS if readings.get(name) != "on"]
    if not off:
        return Check(
            "autovacuum",
            True,
            "on: PostgreSQL vacuums and analyses each table as it changes",
            needed=False,
        )
    settings = " and ".join(f"{name} = {readings.get(name, 'unknown')}" for name in off)
    return Check(
        "autovacuum",
        False,
        f"the PostgreSQL server runs with {settings}: no table is vacuumed or analysed "
        "unless someone runs VACUUM, so the planner's statistics go stale (slow plans after "
        "an import or a migration of 90 days), dead rows of reruns and undos bloat the "
        "tables and their indexes, and BRIN ranges are never summarised",
        "; ".join(f"ALTER SYSTEM SET {name} = on" for name in off)
        + "; SELECT pg_reload_conf(); (or set it in postgresql.conf); until then run "
        "VACUUM (ANALYZE) after large imports",
        needed=False,
        warning=True,
    )


def server_settings(engine: Engine) -> list[Check]:
    """PostgreSQL's settings a host should know about (autovacuum); none on SQLite, and
    none when they cannot be read (the database check says why)."""
    if engine.dialect.name != "postgresql":
        return []
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                {"names": list(AUTOVACUUM_SETTINGS)},
            )
            readings = {str(name): str(setting) for name, setting in rows}
    except SQLAlchemyError:
        return []
    return [autovacuum(readings)]


def safe_url(url: str) -> str:
    """The URL for people, its password hidden. A host holding an ``@`` is part of a
    password whose ``@`` was not written ``%40`` (everything after it is read as the host):
    the URL is not shown at all."""
    parsed = make_url(url)
    if password_in_host(parsed):
        return f"{parsed.drivername}://… (not shown: {UNENCODED_AT})"
    return parsed.render_as_string(hide_password=True)


def schema_problem(engine: Engine, *, shown: str | None = None) -> str | None:
    """Why this database cannot be used by this release, or ``None`` (it is current).
    Raises ``SQLAlchemyError`` when the database cannot be reached. ``shown``: how the
    database is named (its URL, password hidden, unless given)."""
    with engine.connect() as connection:
        current, head = schema.revisions(connection)
    if current == head:
        return None
    state = "is not initialised" if current is None else f"is at revision {current}, not {head}"
    return f"{shown or 'the database ' + safe_url(str(engine.url))} {state}"


PUBLIC_NAME = "the database"
"""How ``/readyz`` names the database: it answers anyone who can reach the port Slack
reaches, and its URL (host, port, user, database) and driver errors are the host's business
(``stockpot check`` and the process's log show them)."""


def database(engine: Engine, *, public: bool = False) -> list[Check]:
    """Reachable, and its schema is this release's. ``public``: for ``/readyz``, without the
    database's URL or the driver's error (logged instead)."""
    url = PUBLIC_NAME if public else safe_url(engine.url.render_as_string(hide_password=False))
    if password_in_host(engine.url):
        # Settings refuse such a DATABASE_URL (core.settings); an engine made from another
        # URL is not tried either: the driver's error would name the "host", a piece of the
        # password.
        return [
            Check(
                "database", False, f"DATABASE_URL cannot be read: {UNENCODED_AT}", UNENCODED_AT_FIX
            )
        ]
    missing = missing_sqlite_file(engine.url)
    if missing is not None:  # connecting would create it, empty
        return [
            Check(
                "database",
                False,
                f"there is no database at {PUBLIC_NAME if public else missing}",
                "run `stockpot db upgrade` to create it, or set DATABASE_URL",
            )
        ]
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        problem = schema_problem(engine, shown=PUBLIC_NAME if public else None)
    except SQLAlchemyError as error:
        reason = str(error.orig if hasattr(error, "orig") else error).strip().splitlines()[0]
        if public:
            log.warning("not ready: the database cannot be reached: %s", reason)
            reason = "its error is in this process's log"
        return [
            Check(
                "database",
                False,
                f"{url} cannot be reached: {reason}",
                "check DATABASE_URL, that the server runs and accepts this user",
            )
        ]
    checks = [Check("database", True, f"{url} answers")]
    if problem is None:
        checks.append(Check("schema", True, "the schema is current"))
    else:
        checks.append(Check("schema", False, problem, "run `stockpot db upgrade`"))
    return checks


def workers(factory: sessionmaker[Session], max_age: timedelta) -> Check:
    try:
        with factory() as session:
            beat = heartbeat.latest(session)
    except SQLAlchemyError:
        return Check("worker", False, "the heartbeats cannot be read", "see the database check")
    if beat is None:
        return Check(
            "worker",
            False,
            "no worker is running: none has a heartbeat (each removes its own when it stops)",
            "start `stockpot worker` (or `stockpot run`) against this database",
        )
    age = utcnow() - beat
    if age > max_age:
        return Check(
            "worker",
            False,
            f"the last worker heartbeat is {int(age.total_seconds())} s old",
            "a worker is down or cannot reach the database: start one, read its log",
        )
    return Check("worker", True, f"a worker beat {int(age.total_seconds())} s ago")


def readiness(
    factory: sessionmaker[Session], max_age: timedelta, *, workers_needed: bool
) -> list[Check]:
    """The database and its schema, then the workers' heartbeats: needed for a worker's own
    readiness, reported beside a web process's (``ops_http.OpsRoutes``); then the server's
    settings, never needed (``server_settings``)."""
    engine = factory.kw["bind"]
    checks = database(engine, public=True)
    if all(check.ok for check in checks):
        checks.append(replace(workers(factory, max_age), needed=workers_needed))
        checks += server_settings(engine)
    return checks
