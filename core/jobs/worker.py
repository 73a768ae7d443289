"""The worker: claims jobs, runs each with a renewed lease, and decides what a failure means.

* A transient failure (the POS timed out or answered 5xx/429 after every retry, the database
  was unreachable) queues the job again with a doubling wait, up to its attempt limit.
* A permanent one (credentials refused, a location without a storage unit) fails at once with
  the error's own message, which says what to do.
* ``NotReadyYet`` (a POS day still open) is neither: the day is asked for again later
  without using an attempt, for up to ``OPEN_DAY_PATIENCE``.
* A job whose worker dies keeps its lease until it expires; then any worker takes it over.
* A job that fails for good (or is cancelled) is recorded so together with what is to be told
  (``core.jobs.telling``), then its handler tells it, then the telling is cleared: a worker
  that dies in between leaves the telling under its lease, and the next worker tells it.
* A worker told to stop (SIGTERM) claims nothing more and finishes what it runs; a job that
  reaches a checkpoint meanwhile (a migration between days) is handed back, queued again at
  once with its progress, for another worker to go on with.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core import log_context, metrics
from stockpot.core.db import utcnow
from stockpot.core.errors import NotReadyYet, StockpotError
from stockpot.core.jobs import queue
from stockpot.core.jobs.heartbeat import HeartbeatThread
from stockpot.core.jobs.listen import PROBE_SECONDS, JobListener, listen_target
from stockpot.core.jobs.queue import ClaimedJob
from stockpot.core.jobs.telling import (
    DATABASE_AWAY,
    ON_REQUEST,
    TRIES,
    Telling,
    Undelivered,
    as_final,
    database_away_at_last,
)
from stockpot.core.models import JobKind
from stockpot.core.outage import DatabaseOutage, database_unreachable
from stockpot.core.settings import Settings

log = logging.getLogger(__name__)

OPEN_DAY_PATIENCE = timedelta(days=3)
"""How long a day the POS keeps reporting open is asked for again before the job fails."""
MAX_RETRY_WAIT = timedelta(hours=1)


class JobCanceled(StockpotError):
    code = "job_canceled"


class LeaseLost(Exception):
    """Another worker took this job over (this one was presumed dead): stop without a word."""


class HandBack(Exception):
    """This worker is stopping: give the job back at its checkpoint."""


class JobContext:
    """What a handler gets: its job, the services, and a checkpoint to call between steps."""

    def __init__(
        self,
        job: ClaimedJob,
        factory: sessionmaker[Session],
        settings: Settings,
        lease: timedelta,
        stopping: threading.Event | None = None,
        bursts: AckBursts | None = None,
    ) -> None:
        self.job = job
        self.factory = factory
        self.settings = settings
        self._lease = lease
        self._stopping = stopping
        self._bursts = bursts
        self.result: dict[str, Any] = dict(job.result)
        self.telling: Telling | None = None
        """Set while the handler tells how the job ended (``Worker._tell``): a message that
        cannot be delivered then raises ``Undelivered`` (the telling stays owed), where a
        message of a run is noted owed (``owe``) or, refused for good, logged and dropped."""
        self.unsaid: dict[str, Any] = {}
        """The messages of this run Slack did not take for a reason that may pass, by key:
        owed with the job's success (``Telling.said``)."""

    def checkpoint(self) -> None:
        """Renew the lease now; raise if the job was cancelled or taken over, or if this
        worker is stopping (the job is handed back). First, while a web process acks a burst
        (``AckBursts``), wait: long work steps aside between its steps as claims do."""
        stopping = self._stopping or threading.Event()
        while self._bursts is not None and (held := self._bursts.hold()) and not stopping.is_set():
            stopping.wait(held)
        if stopping.is_set():
            raise HandBack
        lease = queue.renew(self.factory, self.job, self._lease)
        if not lease.held:
            raise LeaseLost
        if lease.cancel_requested:
            raise JobCanceled(ON_REQUEST)

    def owe(self, key: str, what: dict[str, Any] | None) -> None:
        """Note the message under ``key`` unsaid (``what``: how its handler says it again,
        JSON), or said after all (``None``)."""
        if what is None:
            self.unsaid.pop(key, None)
        else:
            self.unsaid[key] = what

    def save(self, **values: Any) -> bool:
        """Record progress in the job row, so a retry on another worker can go on from it;
        whether this claim still holds the job (else nothing is kept: an intent noted before
        an effect that finds the job claimed again stops there, ``bot.jobs.slack``)."""
        self.result.update(values)
        return queue.save_progress(self.factory, self.job, self.result)


class JobHandler:
    """What a kind of job does, and whom it tells when it fails. Subclasses implement ``run``.

    A failure is told from a ``Telling``, not from the exception: the telling is kept with
    the failure and may be said by another worker, after this one died, that never saw the
    exception. What the telling needs of the error beyond its message, ``facts`` draws."""

    def run(self, context: JobContext) -> dict[str, Any] | None:
        raise NotImplementedError

    def facts(self, error: Exception) -> dict[str, Any]:
        """What ``failed`` needs to know of ``error`` (JSON: e.g. whether reconnecting helps)."""
        return {}

    def failed(self, context: JobContext, telling: Telling) -> None:
        """Tell whoever should know that the job failed for good. Said at least once, so it
        must be idempotent: a worker that died after saying it, before it was recorded said,
        leaves it to be said again (update the same message, never post a second)."""

    def cancelled(self, context: JobContext, telling: Telling) -> None:
        """Say that the job stopped on request (idempotent, as ``failed``)."""

    def resay(self, context: JobContext, telling: Telling) -> None:
        """Say the messages of a job that succeeded that Slack did not take
        (``Telling.said``; idempotent, as ``failed``)."""


class FunctionHandler(JobHandler):
    def __init__(self, run: Callable[[JobContext], dict[str, Any] | None]) -> None:
        self._run = run

    def run(self, context: JobContext) -> dict[str, Any] | None:
        return self._run(context)


class LeaseKeeper:
    """Renews the leases of every job a worker runs, every third of the lease, in one
    statement, from one thread: not a thread per job (an answer takes milliseconds; starting
    and joining a thread for it, and a renewal transaction per job, cost as much as the
    answer). The thread starts with the first job and ends at a tick that finds none; a job
    whose worker died is not renewed, so its lease runs out and another worker takes it
    over."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        worker_id: str,
        lease: timedelta,
        outage: DatabaseOutage | None = None,
    ) -> None:
        self.lease = lease
        self._outage = outage or DatabaseOutage(log, worker_id)
        self._factory = factory
        self._worker_id = worker_id
        self._held: dict[int, int] = {}
        """Job id: the claim this worker holds it by."""
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def held(self) -> list[int]:
        """The jobs this worker's threads run or tell now (none is claimed again by it)."""
        with self._lock:
            return list(self._held)

    def hold(self, job: ClaimedJob) -> None:
        with self._lock:
            self._held[job.id] = job.claim
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._renew, name="stockpot-leases", daemon=True
                )
                self._thread.start()

    def release(self, job: ClaimedJob) -> None:
        with self._lock:
            if self._held.get(job.id) == job.claim:
                del self._held[job.id]

    def _renew(self) -> None:
        while True:
            time.sleep(self.lease.total_seconds() / 3)
            with self._lock:
                held = dict(self._held)
                if not held:
                    self._thread = None
                    return
            try:
                queue.renew_held(self._factory, self._worker_id, held, self.lease)
            except SQLAlchemyError as error:
                self._outage.failed(f"renew the leases of jobs {sorted(held)}", error)
            else:
                self._outage.recovered()


class AckBursts:
    """While a web process acks a burst of Slack requests (its notifications say ``ACKING``:
    requests arrive faster than it queues them), this worker claims nothing: the acks, which
    Slack waits 3 seconds for, keep the CPU, and the answers follow once the burst is over.
    A hold lasts ``HOLD_S`` past the last such notice, and at most ``LONGEST_S`` in a row:
    under a flood that never pauses, answers go on."""

    HOLD_S = 0.1
    LONGEST_S = 2.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self._started = self._last = -float("inf")

    def seen(self) -> None:
        """A notice of a burst arrived."""
        now = self._clock()
        with self._guard:
            if now - self._last > self.HOLD_S:
                self._started = now  # a new burst
            self._last = now

    def hold(self) -> float:
        """Seconds to wait before the next claim (0: claim now)."""
        now = self._clock()
        with self._guard:
            if now - self._started > self.LONGEST_S:
                return 0.0
            return max(0.0, self._last + self.HOLD_S - now)


@dataclass(frozen=True)
class RetryPolicy:
    first_wait: timedelta
    open_day_wait: timedelta

    def wait(self, attempts: int) -> timedelta:
        return min(self.first_wait * (2 ** max(attempts - 1, 0)), MAX_RETRY_WAIT)

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        return cls(
            first_wait=timedelta(seconds=settings.job_retry_seconds),
            open_day_wait=timedelta(seconds=settings.day_open_retry_seconds),
        )


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        handlers: Mapping[JobKind, JobHandler],
        *,
        worker_id: str | None = None,
        kinds: Sequence[JobKind] | None = None,
        interactive: Sequence[JobKind] = (),
    ) -> None:
        """``interactive``: kinds someone waits for in Slack (answers); ``run`` claims them
        on a lane of their own (``settings.answer_threads`` threads), so they never queue
        behind transfers or migrations holding every other thread."""
        self.factory = factory
        self.settings = settings
        self.handlers = handlers
        self.worker_id = worker_id or default_worker_id()
        self.kinds = list(kinds or handlers)
        self.interactive = [kind for kind in interactive if kind in self.kinds]
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self.database_outage = DatabaseOutage(log, self.worker_id)
        """Said once for every thread of this worker that cannot reach the database."""
        self.leases = LeaseKeeper(factory, self.worker_id, self.lease, self.database_outage)
        self.retry = RetryPolicy.of(settings)
        self._wakes: list[threading.Event] = [threading.Event()]
        self.bursts = AckBursts()
        self.listening = threading.Event()
        """Set while this worker LISTENs for new jobs (PostgreSQL)."""
        self.probe_seconds = PROBE_SECONDS
        """How long the listener waits for its probe NOTIFY before it polls instead."""
        self._stopping: threading.Event | None = None
        self._running = 0
        self._running_lock = threading.Lock()
        self.before_done: Callable[[ClaimedJob], None] | None = None
        """A fault hook for tests: runs when a job's work has returned (its effects
        committed) and before the job is recorded done, the window a killed worker leaves."""
        self.before_telling: Callable[[ClaimedJob], None] | None = None
        """A fault hook for tests: runs when a job's failure or cancellation is recorded and
        before its handler tells it, the window a killed worker leaves there."""

    def run_one(self) -> bool:
        """Claim and run one job in this thread; ``False`` when none is due."""
        job = self._claim()
        if job is None:
            return False
        self.execute(job)
        return True

    def _claim(self, kinds: Sequence[JobKind] | None = None) -> ClaimedJob | None:
        jobs = self._claim_many(self.kinds if kinds is None else kinds, 1)
        return jobs[0] if jobs else None

    def _claim_many(self, kinds: Sequence[JobKind], limit: int) -> list[ClaimedJob]:
        return queue.claim_many(
            self.factory,
            self.worker_id,
            self.lease,
            kinds,
            limit=limit,
            max_attempts=self.settings.job_max_attempts,
            running=self.leases.held(),
        )

    def run_until_idle(self, *, wait_for_others: bool = False) -> int:
        """Run due jobs one after another until none is left; returns how many ran.

        With ``wait_for_others`` it also waits while other workers hold jobs, taking each
        over if its lease expires (a worker that died), and stops once nothing is running or
        due (a due job may be in the middle of another worker's claim; a job recorded
        failed or cancelled whose end is not told yet counts as running, ``Job.telling``:
        an attempt's last word to Slack comes before its job is no longer counted). Messages
        Slack did not take that are owed for later (``queue.owed_later``) are not waited
        for: tried again up to 8 times over about 2 hours, they kept it that long.
        """
        ran = 0
        stop = threading.Event()
        while True:
            if self.run_one():
                ran += 1
                continue
            if not wait_for_others:
                return ran
            with self.factory() as session:
                # Counted twice: a retry or a telling put off until "now" by another thread
                # may commit with a time later than the clock the count read, yet before the
                # count's snapshot (it was neither held nor due then); the second count reads
                # the clock after the first saw it, and finds it due.
                if not any(queue.unfinished_count(session, self.kinds) for _ in range(2)):
                    return ran
                wake = queue.next_wake(session)
            stop.wait(self._pause_until(wake))

    def run(self, stop: threading.Event) -> None:
        """Run jobs on ``settings.worker_threads`` threads (and the interactive kinds on
        ``settings.answer_threads`` of their own) until ``stop`` is set; then claim nothing
        more, let the running jobs finish (or hand them back at their next checkpoint) and
        return. On PostgreSQL a LISTEN connection wakes the lanes as soon as a job is
        queued (``core.jobs.listen``); polling stays underneath."""
        self._stopping = stop
        settings = self.settings
        lanes = [
            (
                [kind for kind in self.kinds if kind not in self.interactive],
                settings.worker_threads,
                self._wakes[0],
            )
        ]
        if self.interactive:
            self._wakes.append(threading.Event())
            lanes.append((self.interactive, settings.answer_threads, self._wakes[1]))
        listener = self._listener(stop)
        with HeartbeatThread(
            self.factory,
            self.worker_id,
            settings.heartbeat_seconds,
            threads=sum(threads for _, threads, _ in lanes),
            running=lambda: self._running,
            outage=self.database_outage,
        ):
            others = [
                threading.Thread(target=self._lane, args=(stop, *lane), name="stockpot-answers")
                for lane in lanes[1:]
            ]
            for thread in others:
                thread.start()
            try:
                self._lane(stop, *lanes[0])
            finally:
                for thread in others:
                    thread.join()
                if listener is not None:
                    listener.join(timeout=5)

    def _listener(self, stop: threading.Event) -> JobListener | None:
        target = listen_target(self.settings, self.factory.kw["bind"].url)
        if target is None:
            return None
        return JobListener(
            target, self.wake, stop, self.listening, probe_seconds=self.probe_seconds
        ).start()

    def _lane(
        self,
        stop: threading.Event,
        kinds: Sequence[JobKind],
        threads: int,
        wake: threading.Event,
    ) -> None:
        """Claim ``kinds`` for ``threads`` threads of a pool of their own: as many jobs in one
        claim as threads are free (a burst of answers costs a claim per batch, not per
        answer)."""
        slots = threading.Semaphore(threads)
        poll = self.settings.worker_poll_seconds
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stockpot-job") as pool:
            while not stop.is_set():
                held = self.bursts.hold()
                if held:
                    stop.wait(held)
                    continue
                if not slots.acquire(timeout=poll):
                    continue
                free = 1
                while free < threads and slots.acquire(blocking=False):
                    free += 1
                try:
                    jobs = self._claim_many(kinds, free)
                except SQLAlchemyError as error:
                    _release(slots, free)
                    self.database_outage.failed("claim jobs", error)
                    stop.wait(poll * 5)
                    continue
                self.database_outage.recovered()
                _release(slots, free - len(jobs))
                if not jobs:
                    wake.wait(poll)
                    wake.clear()
                    continue
                if stop.is_set():
                    # Claimed while being told to stop: give them back untouched.
                    for job in jobs:
                        queue.hand_back(self.factory, job, dict(job.result))
                    _release(slots, len(jobs))
                    break
                for job in jobs:
                    pool.submit(self._execute_releasing, job, slots, wake)

    def wake(self, notice: str = "") -> None:
        """Look for work now (a job was just queued, in this process or, on PostgreSQL,
        anywhere; ``notice``: the notification's payload, ``queue.ACKING`` in a burst)."""
        if notice == queue.ACKING:
            self.bursts.seen()
        for event in self._wakes:
            event.set()

    def _execute_releasing(
        self, job: ClaimedJob, slots: threading.Semaphore, wake: threading.Event
    ) -> None:
        try:
            self.execute(job)
        finally:
            slots.release()
            wake.set()

    def _pause_until(self, wake: datetime | None) -> float:
        poll = self.settings.worker_poll_seconds
        if wake is None:
            return poll
        return min(poll, max((wake - utcnow()).total_seconds(), 0.01))

    def execute(self, job: ClaimedJob) -> None:
        kind = str(job.kind)
        started = time.monotonic()
        in_process = metrics.JOBS_IN_PROCESS.labels(kind)
        in_process.inc()
        with self._running_lock:
            self._running += 1
        try:
            with log_context.bound(
                job_id=job.id,
                job_kind=kind,
                company_id=job.company_id,
                location_id=job.location_id,
            ):
                outcome = self._execute(job)
        finally:
            in_process.dec()
            with self._running_lock:
                self._running -= 1
        metrics.job_finished(kind, outcome, time.monotonic() - started)

    def _execute(self, job: ClaimedJob) -> str:
        """Run one attempt; returns how it ended, for the metrics."""
        handler = self.handlers[job.kind]
        self.leases.hold(job)
        try:
            if job.telling is not None:  # a dead worker's telling, or failed at its claim
                return self._tell(handler, self._context(job), Telling.load(job.telling))
            return self._attempt(handler, job)
        finally:
            self.leases.release(job)

    def _context(self, job: ClaimedJob) -> JobContext:
        return JobContext(job, self.factory, self.settings, self.lease, self._stopping, self.bursts)

    def _attempt(self, handler: JobHandler, job: ClaimedJob) -> str:
        context = self._context(job)
        try:
            result = handler.run(context)
        except LeaseLost:
            return self._lost(job)
        except HandBack:
            handed = self._recorded(
                f"hand job {job.id} back (its lease runs out instead)",
                lambda: queue.hand_back(self.factory, job, context.result),
            )
            if handed is False:
                return self._lost(job)
            if handed:
                log.info("job %s handed back: this worker is stopping", job.id)
            return "handed_back"
        except JobCanceled as error:
            telling = Telling(str(error), cancelled=True)
            recorded = self._recorded(
                f"record job {job.id} cancelled",
                lambda: queue.cancelled(self.factory, job, context.result, self.lease, telling),
            )
            if recorded is False:
                return self._lost(job)
            if recorded:
                self._tell(handler, context, telling)
            return "cancelled"
        except Exception as error:
            return self._failed(handler, context, error)
        context.result.update(result or {})
        if self.before_done is not None:
            self.before_done(job)
        unsaid: Telling | None = None
        at: datetime | None = None
        if context.unsaid:
            unsaid = Telling("", said=dict(context.unsaid), tries=1)
            at = utcnow() + self.retry.wait(1)
            log.info(
                "job %s done; its messages %s Slack did not take are said again at %s",
                job.id,
                ", ".join(sorted(unsaid.said)),
                at.isoformat(timespec="seconds"),
            )
        # Not recorded, the work is done all the same: the lease runs out and the job runs
        # again, which finds its progress (a posted message's ts, a transfer already live).
        done = self._recorded(
            f"record job {job.id} done (it runs again when its lease runs out)",
            lambda: queue.succeed(self.factory, job, context.result, unsaid, at),
        )
        return self._lost(job) if done is False else "succeeded"

    def _lost(self, job: ClaimedJob) -> str:
        """The job is no longer this attempt's: its lease ran out (this worker did not renew
        it in time) and a claim took the job, this worker's or another's, to run it again or
        to fail it. Said once, whichever record of this attempt found it gone; the job says
        how it went from its new holder. It was said only at a checkpoint ("taken over by
        another worker", when the claimer may be this very worker or have failed the job),
        and an attempt that ended after the claim was counted as it ended, unsaid."""
        log.warning(
            "job %s: this worker's attempt %s ran past its lease and the job was claimed "
            "again meanwhile; leaving it as its claim recorded it",
            job.id,
            job.attempts,
        )
        return "lost"

    def _recorded(self, doing: str, record: Callable[[], bool]) -> bool | None:
        """Record how an attempt ended: ``record``'s answer (whether this worker still held
        the job), or ``None`` when the database did not take it. The database not answering
        is the worker's outage, said once however many jobs meet it (``DatabaseOutage``);
        any other database error is a bug, logged with its traceback."""
        try:
            done = record()
        except SQLAlchemyError as error:
            if database_unreachable(error) is None:
                log.error("could not %s", doing, exc_info=error)
            else:
                self.database_outage.failed(doing, error)
            return None
        self.database_outage.recovered()
        return done

    def _failed(self, handler: JobHandler, context: JobContext, error: Exception) -> str:
        job = context.job
        unreachable = database_unreachable(error)
        if unreachable is not None:
            self.database_outage.failed(f"run job {job.id} ({job.kind})", unreachable)
        reason = describe(error, job, again=is_transient(error) and not job.last_attempt)
        now = utcnow()
        doing = f"record the failed attempt of job {job.id} (it runs again when its lease runs out)"
        if isinstance(error, NotReadyYet) and now - job.created_at < OPEN_DAY_PATIENCE:
            self._recorded(
                doing,
                lambda: queue.retry_later(
                    self.factory, job, reason, now + self.retry.open_day_wait, count_attempt=False
                ),
            )
            return "day_open"
        if is_transient(error) and not job.last_attempt:
            log.info("job %s attempt %s failed, retrying: %s", job.id, job.attempts, reason)
            at = now + self.retry.wait(job.attempts)
            later = self._recorded(doing, lambda: queue.retry_later(self.factory, job, reason, at))
            return self._lost(job) if later is False else "retried"
        telling = Telling(reason, facts=handler.facts(error))
        failed = self._recorded(doing, lambda: queue.fail(self.factory, job, self.lease, telling))
        if failed is False:
            return self._lost(job)
        if failed:
            self._tell(handler, context, telling)
        return "failed"

    def _tell(self, handler: JobHandler, context: JobContext, telling: Telling) -> str:
        """Have the handler say how the job ended, then record it said; returns ``told``
        only once that record committed. A handler that raises is logged and its telling
        dropped (a bug would raise at every try), unless the database was away, or Slack for
        a reason that may pass (``Undelivered``): then the telling stays owed and is said
        again, once this worker's lease on it runs out or after ``_undelivered``'s wait."""
        job = context.job
        if self.before_telling is not None:
            self.before_telling(job)
        context.telling = telling
        outcome = "untold"
        try:
            if telling.said:
                handler.resay(context, telling)
            elif telling.cancelled:
                handler.cancelled(context, telling)
            else:
                handler.failed(context, telling)
            outcome = "told"
        except LeaseLost:
            return self._lost(job)
        except Undelivered as undelivered:
            if undelivered.may_pass and telling.tries + 1 < TRIES:
                return self._undelivered(job, telling, undelivered)
            log.warning(
                "job %s: how it ended was not told (%s), %s",
                job.id,
                undelivered,
                f"the last of {TRIES} tries" if undelivered.may_pass else "not tried again",
            )
        except Exception as error:
            unreachable = database_unreachable(error)
            if unreachable is not None:
                self.database_outage.failed(f"tell how job {job.id} ended", unreachable)
                return "owed"
            log.error("could not tell how job %s ended", job.id, exc_info=error)
        cleared = self._recorded(
            f"record the end of job {job.id} told (it is told again when its lease runs out)",
            lambda: queue.told(self.factory, job),
        )
        if cleared is None:
            return "owed"
        return outcome if cleared else "lost"

    def _undelivered(self, job: ClaimedJob, telling: Telling, undelivered: Undelivered) -> str:
        """Keep the telling owed, due again after the retry policy's wait for its tries."""
        again = replace(telling, tries=telling.tries + 1)
        at = utcnow() + self.retry.wait(again.tries)
        log.info(
            "job %s: how it ended could not be told (%s); try %s of %s, again at %s",
            job.id,
            undelivered,
            again.tries,
            TRIES,
            at.isoformat(timespec="seconds"),
        )
        self._recorded(
            f"keep the end of job {job.id} owed (it is told again when its lease runs out)",
            lambda: queue.tell_later(self.factory, job, again, at),
        )
        return "owed"


def _release(slots: threading.Semaphore, count: int) -> None:
    for _ in range(count):
        slots.release()


def is_transient(error: Exception) -> bool:
    """Trying again later can help: the POS or the database was away, or an error we did not
    foresee (logged in full; the attempt limit bounds it)."""
    if isinstance(error, StockpotError):
        return bool(getattr(error, "transient", False))
    return True


def describe(error: Exception, job: ClaimedJob, *, again: bool) -> str:
    """The reason an attempt failed, as the job's ``last_error`` and its telling show it;
    ``again``: the job is queued again (a failure told when none is left promises nothing)."""
    if isinstance(error, StockpotError):
        return str(error) if again else as_final(str(error))
    if database_unreachable(error) is not None:  # the worker says the outage, once
        return DATABASE_AWAY if again else database_away_at_last(job.attempts)
    log.error("job %s failed unexpectedly", job.id, exc_info=error)
    return (
        f"an unexpected error ({type(error).__name__}); the worker's log has it under job {job.id}"
    )
