"""How processes reach the job system: listeners enqueue, workers run.

``stockpot serve`` only enqueues; ``stockpot worker`` runs jobs and the scheduler; ``stockpot
run`` does all three in one process (the SQLite default), where enqueueing wakes the worker at
once instead of at its next poll. Handlers hold one of these and know nothing of the worker's
Slack side (``stockpot.bot.jobs.runtime.build_worker``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.access import company_for
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import effects, specs
from stockpot.core.jobs.queue import (
    ACKING,
    Enqueued,
    JobSpec,
    enqueue,
    enqueue_answers,
    enqueue_many,
)
from stockpot.core.jobs.worker import Worker


class Answer(Enum):
    """What became of a Slack request handed to ``JobRuntime.answer_later``."""

    QUEUED = "queued"
    NO_COMPANY = "no_company"
    DELIVERED_BEFORE = "delivered_before"


@dataclass(frozen=True)
class AnswerWanted:
    """A Slack request to be answered by a worker (``JobRuntime.answer_all_later``):
    ``delivery`` is its key (the answer job is the replay record)."""

    body: dict[str, Any]
    team_id: str
    channel_id: str | None
    delivery: str | None

    def spec(self) -> JobSpec:
        key = f"{self.team_id}:{self.delivery}" if self.delivery else None
        return specs.answer(0, self.body, key)  # the company is looked up by the insert itself


def _batches(wanted: Sequence[AnswerWanted]) -> Iterator[list[AnswerWanted]]:
    """``wanted`` in order, in batches of a power of two (few statements to compile: a batch
    of 50 is one of 32, one of 16 and one of 2), of which at most one request has no
    delivery key (``enqueue_answers`` tells a batch's jobs apart by their keys)."""
    rest = list(wanted)
    while rest:
        size = 1 << (len(rest).bit_length() - 1)
        batch = rest[:size]
        keyless = [number for number, one in enumerate(batch) if one.delivery is None]
        if len(keyless) > 1:
            batch = batch[: 1 << (keyless[1].bit_length() - 1)]  # the second key-less: next
        yield batch
        rest = rest[len(batch) :]


class JobRuntime:
    def __init__(
        self,
        factory: sessionmaker[Session],
        worker: Worker | None = None,
        keys: Callable[[], str] | None = None,
    ) -> None:
        self.factory = factory
        self.worker = worker
        self.keys = keys
        """The idempotency key of each job queued through this runtime, in order (``keyed``)."""

    def keyed(self, keys: Callable[[], str]) -> JobRuntime:
        """This runtime, each job it queues keyed by the next of ``keys``: a Slack answer's
        listener run again by a takeover (its first worker died after queueing) gets the job
        the first attempt queued, and its answer, instead of queueing the work twice (a
        second report of the same day was posted)."""
        return JobRuntime(self.factory, self.worker, keys)

    def enqueue(self, spec: JobSpec) -> Enqueued:
        key = self.keys() if self.keys is not None and spec.company_id is not None else None
        with unit_of_work(self.factory) as session:
            earlier = effects.take(session, key, spec.company_id) if key else None
            if earlier:
                return Enqueued(int(earlier["job_id"]), bool(earlier["created"]))
            queued = enqueue(session, spec)
            if key:
                effects.record(session, key, {"job_id": queued.job_id, "created": queued.created})
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
        return self.answer_all_later([AnswerWanted(body, team_id, channel_id, delivery)])[0]

    def answer_all_later(
        self, wanted: Sequence[AnswerWanted], *, burst: bool = False
    ) -> list[Answer]:
        """``answer_later`` for many requests at once (a burst's, in the web process): a
        statement per batch (``_batches``), not per request, and one wake-up of this process's
        worker; each request's outcome in the order given. ``burst``: they came faster than
        they were queued; the workers hold their claims a moment (``queue.ACKING``)."""
        engine = self.factory.kw["bind"]
        notice = ACKING if burst else ""
        queued: list[int | None] = []
        for batch in _batches(wanted):
            jobs = [(one.spec(), one.team_id, one.channel_id) for one in batch]
            queued += enqueue_answers(engine, jobs, notice)
        if any(job is not None for job in queued):
            self.wake(notice)
        if all(job is not None for job in queued):
            return [Answer.QUEUED] * len(queued)
        answers = []
        with self.factory() as session:
            for one, job in zip(wanted, queued, strict=True):
                if job is not None:
                    answers.append(Answer.QUEUED)
                elif company_for(session, one.team_id, one.channel_id) is None:
                    answers.append(Answer.NO_COMPANY)
                else:
                    answers.append(Answer.DELIVERED_BEFORE)
        return answers

    def wake(self, notice: str = "") -> None:
        """Tell this process's worker (if it has one) that a job is waiting (``notice`` as a
        notification's payload would)."""
        if self.worker is not None:
            self.worker.wake(notice)
