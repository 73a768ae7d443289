"""Idempotency keys for work that posts: the key is taken in the transaction that does the
work, and the work's result is kept under it.

``take`` inserts the key first: a second attempt with the same key finds the first one's
result (on PostgreSQL an attempt still in flight is waited for by the unique key, then its
outcome counts), so work that committed is never done twice, however a job was retried.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stockpot.core.db import insert_ignoring_conflicts, utcnow
from stockpot.core.models import JobEffect


def job_key(job_id: int, *parts: object) -> str:
    """The idempotency key of a job's effect (of one of its steps, with ``parts``)."""
    return ":".join(["job", str(job_id), *map(str, parts)])


def take(session: Session, key: str, company_id: int) -> dict[str, Any] | None:
    """Claim ``key`` for the work about to be done in this transaction; ``None`` when it is
    new, else the result an earlier attempt recorded."""
    row = {"key": key, "company_id": company_id, "result": {}, "created_at": utcnow()}
    if insert_ignoring_conflicts(session, JobEffect.__table__, [row], index_elements=["key"]):
        return None
    return dict(session.scalar(select(JobEffect.result).where(JobEffect.key == key)) or {})


def done(session: Session, key: str, company_id: int) -> dict[str, Any] | None:
    """The result kept under ``key`` if the work was done (and committed) for the company,
    else ``None``; claims nothing (a stale Cancel asks whether its offer was taken)."""
    result = session.scalar(
        select(JobEffect.result).where(JobEffect.key == key, JobEffect.company_id == company_id)
    )
    return None if result is None else dict(result)


def record(session: Session, key: str, result: dict[str, Any]) -> None:
    """Keep the result of the work done under ``key`` (same transaction as the work)."""
    session.execute(update(JobEffect).where(JobEffect.key == key).values(result=result))
