"""Each request Slack delivers is acted on once.

Slack signs a request with a timestamp and refuses nothing signed in the last five minutes, so
the same signed bytes sent again (a replay, or Slack's own retry of an event) verify again. Each
delivery's identity is recorded under a unique key before anything acts on it; the second
delivery of one key finds it and does nothing. Keys are kept a day: far longer than the five
minutes after which the gate refuses a replayed signature anyway.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import insert_in, one_statement, utcnow
from stockpot.core.models import SlackDelivery

KEEP = timedelta(days=1)
PRUNE_EVERY = 500
"""Deliveries between two prunes of old keys (per process)."""

_seen = 0


def first_delivery(factory: sessionmaker[Session], team_id: str, key: str) -> bool:
    """Record the delivery; ``False`` when its key was recorded before (a replay). The unique
    key decides, so two copies racing each other cannot both win. One statement that
    commits by itself (a request the web process answers itself waits for it before its
    listener runs)."""
    global _seen
    _seen += 1
    table = SlackDelivery.__table__
    engine = factory.kw["bind"]
    statement = (
        insert_in(engine.dialect.name, table)
        .values(team_id=team_id[:32], key=key[:200], created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(table.c.key)
    )
    with one_statement(engine) as connection:
        inserted = connection.execute(statement).first() is not None
        if _seen % PRUNE_EVERY == 0:
            connection.execute(delete(table).where(table.c.created_at < utcnow() - KEEP))
    return inserted
