"""What a Stockpot process tells Prometheus: one place for every metric and its labels.

Labels are bounded sets only (a job kind, a run kind, a POS provider, an HTTP status, a Slack
method, an outcome); never an id, a company or a location, so the number of series stays
the same whatever the size of the group. Counters and histograms live in the process that
does the work; the queue's state (jobs by kind and state, the oldest queued job, worker
heartbeats) is read from the database at scrape time by ``QueueCollector``, so every web
process and worker shows the same picture of the shared queue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import utcnow
from stockpot.core.models import Job, JobState, WorkerHeartbeat

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)

JOBS_FINISHED = Counter(
    "stockpot_jobs_finished",
    "Job attempts that ended, by kind and how they ended "
    "(succeeded, failed, retried, day_open, cancelled, handed_back, lost; a claimed "
    "telling: told, owed, untold)",
    ["kind", "outcome"],
)
JOB_DURATION = Histogram(
    "stockpot_job_duration_seconds",
    "How long one attempt of a job ran, by kind and outcome",
    ["kind", "outcome"],
    buckets=DURATION_BUCKETS,
)
JOBS_IN_PROCESS = Gauge(
    "stockpot_jobs_in_process", "Jobs this worker process is running now", ["kind"]
)
TRANSFER_DURATION = Histogram(
    "stockpot_transfer_duration_seconds",
    "One location-day's transfer, from reading the catalog to the commit, by run kind",
    ["kind", "outcome"],
    buckets=DURATION_BUCKETS,
)
TRANSFER_LINES = Counter(
    "stockpot_transfer_lines", "Sales lines read by committed transfers, by run kind", ["kind"]
)
POS_REQUESTS = Counter(
    "stockpot_pos_requests",
    "HTTP requests sent to a POS (each try counts), by provider and status "
    "('error' when no answer came)",
    ["provider", "status"],
)
POS_RETRIES = Counter(
    "stockpot_pos_retries",
    "POS requests tried again, by provider and why (429, 5xx, connection, cut_short)",
    ["provider", "reason"],
)
SLACK_CALLS = Counter(
    "stockpot_slack_api_calls",
    "Slack Web API calls, by method and outcome (ok, error, ratelimited, exception)",
    ["method", "outcome"],
)
HTTP_REQUESTS = Counter(
    "stockpot_http_requests",
    "HTTP requests answered by this web process, by route and status",
    ["route", "status"],
)
HTTP_IN_FLIGHT = Gauge("stockpot_http_requests_in_flight", "HTTP requests being answered now")
SOCKET_MODE_ENVELOPES = Counter(
    "stockpot_socket_mode_envelopes",
    "Socket Mode envelopes handled, by type (slash_commands, interactive, events_api)",
    ["type"],
)


def job_finished(kind: str, outcome: str, seconds: float) -> None:
    JOBS_FINISHED.labels(kind, outcome).inc()
    JOB_DURATION.labels(kind, outcome).observe(seconds)


def transfer_done(kind: str, outcome: str, seconds: float, lines: int) -> None:
    TRANSFER_DURATION.labels(kind, outcome).observe(seconds)
    TRANSFER_LINES.labels(kind).inc(lines)


def pos_request(provider: str, status: int | None) -> None:
    POS_REQUESTS.labels(provider, str(status) if status is not None else "error").inc()


def pos_retry(provider: str, reason: str) -> None:
    POS_RETRIES.labels(provider, reason).inc()


def slack_call(method: str, outcome: str) -> None:
    SLACK_CALLS.labels(method, outcome).inc()


class QueueCollector(Collector):
    """The shared queue, read at scrape time: three short aggregate queries."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing to declare up front: registering must not query the database."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "stockpot_jobs", "Jobs in the shared queue, by kind and state", labels=["kind", "state"]
        )
        oldest = GaugeMetricFamily(
            "stockpot_oldest_queued_job_age_seconds",
            "Seconds the longest-waiting due job has been waiting (0 when none waits)",
        )
        workers = GaugeMetricFamily(
            "stockpot_worker_heartbeat_age_seconds",
            "Seconds since the most recent heartbeat of any worker (absent when none runs)",
        )
        up = GaugeMetricFamily(
            "stockpot_database_up", "1 when the last scrape reached the database"
        )
        try:
            now = utcnow()
            counts, waiting_since, beat = self._read(now)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for (kind, state), count in sorted(counts.items()):
            jobs.add_metric([kind, state], count)
        oldest.add_metric([], (now - waiting_since).total_seconds() if waiting_since else 0)
        yield from (up, jobs, oldest)
        if beat is not None:
            workers.add_metric([], max((now - beat).total_seconds(), 0))
            yield workers

    def _read(
        self, now: datetime
    ) -> tuple[dict[tuple[str, str], int], datetime | None, datetime | None]:
        watched = (JobState.QUEUED, JobState.RUNNING, JobState.FAILED)
        with self.factory() as session:
            rows = session.execute(
                select(Job.kind, Job.state, func.count())
                .where(Job.state.in_(watched))
                .group_by(Job.kind, Job.state)
            ).all()
            waiting_since = session.scalar(
                select(func.min(Job.run_after)).where(
                    Job.state == JobState.QUEUED, Job.run_after <= now
                )
            )
            beat = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
        counts = {(str(kind), str(state)): count for kind, state, count in rows}
        return counts, waiting_since, beat


_watched: QueueCollector | None = None
_watch_lock = threading.Lock()


def watch_queue(factory: sessionmaker[Session], registry: CollectorRegistry = REGISTRY) -> None:
    """Report this database's queue from now on (a second call replaces the first: tests and
    the demo build several apps in one process)."""
    global _watched
    with _watch_lock:
        if _watched is not None:
            registry.unregister(_watched)
        _watched = QueueCollector(factory)
        registry.register(_watched)
