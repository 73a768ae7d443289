"""How the bot's processes reach the job system: listeners enqueue, workers run.

``stockpot serve`` only enqueues; ``stockpot worker`` runs jobs and the scheduler; ``stockpot
run`` does all three in one process (the SQLite default), where enqueueing wakes the worker at
once instead of at its next poll.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.jobs.answers import answer_spec
from stockpot.bot.jobs.handlers import job_handlers
from stockpot.bot.jobs.slack import Notifier
from stockpot.core.access import company_for
from stockpot.core.db import unit_of_work
from stockpot.core.jobs.queue import Enqueued, JobSpec, enqueue, enqueue_many
from stockpot.core.jobs.worker import JobHandler, Worker
from stockpot.core.models import JobKind
from stockpot.core.settings import Settings


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
        """Queue a Slack request for a worker to answer (``bot.jobs.answers``); ``False``
        when the workspace speaks for no company yet (the caller answers it itself)."""
        with unit_of_work(self.factory) as session:
            company = company_for(session, team_id, channel_id)
            if company is None:
                return False
            enqueue(session, answer_spec(company.id, body))
        self.wake()
        return True

    def wake(self) -> None:
        """Tell this process's worker (if it has one) that a job is waiting."""
        if self.worker is not None:
            self.worker.wake()


def build_worker(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    client: WebClient | None,
    installations: Any = None,
    answers: JobHandler | None = None,
) -> Worker:
    """A worker whose jobs report through ``client`` (single workspace) or each workspace's
    installed bot (``installations``); with neither, results are only logged. With
    ``answers`` (``bot.app.answer_job``) it also answers Slack requests, on a lane of its
    own."""
    notifier = Notifier(factory, client=client, installations=installations)
    handlers = job_handlers(notifier)
    if answers is None:
        return Worker(factory, settings, handlers)
    handlers[JobKind.ANSWER] = answers
    return Worker(factory, settings, handlers, interactive=[JobKind.ANSWER])
