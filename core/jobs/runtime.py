"""How processes reach the job system: listeners enqueue, workers run.

``stockpot serve`` only enqueues; ``stockpot worker`` runs jobs and the scheduler; ``stockpot
run`` does all three in one process (the SQLite default), where enqueueing wakes the worker at
once instead of at its next poll. Handlers hold one of these and know nothing of the worker's
Slack side (``stockpot.bot.jobs.runtime.build_worker``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.access import company_for, company_id_for
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import Enqueued, JobSpec, enqueue, enqueue_answer, enqueue_many
from stockpot.core.jobs.worker import Worker


class Answer(Enum):
    """What became of a Slack request handed to ``JobRuntime.answer_later``."""

    QUEUED = "queued"
    NO_COMPANY = "no_company"
    DELIVERED_BEFORE = "delivered_before"


class JobRuntime:
    def __init__(self, factory: sessionmaker[Session], worker: Worker | None = None) -> None:
        self.factory = factory
        self.worker = worker

    def enqueue(self, spec: JobSpec) -> Enqueued:
        with unit_of_work(self.factory) as session:
            queued = enqueue(session, spec)
        self.wake()
        return queued

    def enqueue_many(self, specs: Iterable[JobSpec]) -> int:
        with unit_of_work(self.factory) as session:
            count = enqueue_many(session, specs)
        self.wake()
        return count

    def answer_later(
        self, body: dict[str, Any], team_id: str, channel_id: str | None, delivery: str | None
    ) -> Answer:
        """Queue a Slack request for a worker to answer (``stockpot.bot.jobs.answers``), in
        one statement that also finds the company and records the delivery (``delivery``, its
        key: the answer job is the replay record). ``NO_COMPANY`` when the workspace speaks
        for no company yet (the caller answers it); ``DELIVERED_BEFORE`` when the same
        delivery was queued before (a replay: nothing is done)."""
        key = f"{team_id}:{delivery}" if delivery else None
        spec = specs.answer(0, body, key)  # the company is looked up by the insert itself
        queued = enqueue_answer(self.factory.kw["bind"], spec, company_id_for(team_id, channel_id))
        if queued is not None:
            self.wake()
            return Answer.QUEUED
        with self.factory() as session:
            if company_for(session, team_id, channel_id) is None:
                return Answer.NO_COMPANY
        return Answer.DELIVERED_BEFORE

    def wake(self) -> None:
        """Tell this process's worker (if it has one) that a job is waiting."""
        if self.worker is not None:
            self.worker.wake()
