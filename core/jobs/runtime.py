"""How processes reach the job system: listeners enqueue, workers run.

``stockpot serve`` only enqueues; ``stockpot worker`` runs jobs and the scheduler; ``stockpot
run`` does all three in one process (the SQLite default), where enqueueing wakes the worker at
once instead of at its next poll. Handlers hold one of these and know nothing of the worker's
Slack side (``stockpot.bot.jobs.runtime.build_worker``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.access import company_for
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import Enqueued, JobSpec, enqueue, enqueue_many
from stockpot.core.jobs.worker import Worker


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

    def answer_later(self, body: dict[str, Any], team_id: str, channel_id: str | None) -> bool:
        """Queue a Slack request for a worker to answer (``stockpot.bot.jobs.answers``);
        ``False`` when the workspace speaks for no company yet (the caller answers it)."""
        with unit_of_work(self.factory) as session:
            company = company_for(session, team_id, channel_id)
            if company is None:
                return False
            enqueue(session, specs.answer(company.id, body))
        self.wake()
        return True

    def wake(self) -> None:
        """Tell this process's worker (if it has one) that a job is waiting."""
        if self.worker is not None:
            self.worker.wake()
