"""Each request Slack delivers is acted on once.

Slack signs a request with a timestamp and refuses nothing signed in the last five minutes, so
the same signed bytes sent again (a replay, or Slack's own retry of an event) verify again. Each
delivery's identity is recorded under a unique key before anything acts on it; the second
delivery of one key finds it and does nothing. Keys are kept a day: far longer than the five
minutes after which the gate refuses a replayed signature anyway.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, delete, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import one_statement, utcnow
from stockpot.core.models import SlackDelivery

KEEP = timedelta(days=1)
PRUNE_EVERY = 500
"""Deliveries between two prunes of old keys (per process)."""

_seen = 0


def first_delivery(factory: sessionmaker[Session], team_id: str, key: str) -> bool:
    """Record the delivery; ``False`` when its key was recorded before (a replay). The unique
    key decides, so two copies racing each other cannot both win. One statement that
    commits by itself (a request the web process answers itself waits for it before its
    listener runs): Core's ``INSERT … SELECT … WHERE NOT EXISTS``, which SQLAlchemy compiles
    once, not the dialects' ``ON CONFLICT``, which it compiles for every execution."""
    global _seen
    _seen += 1
    table = SlackDelivery.__table__
    team, key = bindparam("team", team_id[:32]), bindparam("key", key[:200])
    seen = exists().where(table.c.team_id == team, table.c.key == key)
    statement = (
        insert(table)
        .from_select(
            ["team_id", "key", "created_at"],
            select(team, key, bindparam("at", utcnow())).where(~seen),
        )
        .returning(table.c.id)
    )
    try:
        with one_statement(factory.kw["bind"]) as connection:
            inserted = connection.execute(statement).first() is not None
            if _seen % PRUNE_EVERY == 0:
                connection.execute(delete(table).where(table.c.created_at < utcnow() - KEEP))
    except IntegrityError:
        return False  # its racing copy recorded it a moment before
    return inserted
