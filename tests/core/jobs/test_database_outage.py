"""The database goes away in the middle of a transfer: nothing is half-posted, the job is
tried again once the database is back, and the ledger ends exact (PostgreSQL)."""

from __future__ import annotations

import logging
import re
import threading

import psycopg
import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.jobs.handlers import job_handlers
from stockpot.bot.jobs.slack import Notifier
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.jobs.worker import Worker
from stockpot.core.models import Company, ExternalLocation, Job, JobState, LedgerMovement, RunKind
from stockpot.core.pos import connections
from stockpot.core.settings import Settings
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides.data import GOLDEN_DATE
from stockpot.sandbox.slack import SlackStandIn
from tests.pos import MAPPED, balances, map_golden

pytestmark = pytest.mark.postgresql_only


class Outage:
    """Cuts the test database off (existing sessions killed, new ones refused) and back."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.name = parsed.database
        self.admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )

    def _run(self, *statements: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def begin(self) -> None:
        self._run(
            f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()",
        )

    def end(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


def said(caplog, worker: Worker) -> list[str]:
    """What the worker's outage logged above DEBUG, each line up to its details, and that
    no line above DEBUG carries a traceback."""
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r for r in records if r.exc_info] == [], "no traceback above DEBUG"
    return [r.getMessage().split(" (")[0].split(" after ")[0] for r in records]


def test_a_transfer_cut_off_from_the_database_posts_nothing_and_is_retried(
    postgres, sides, monkeypatch, caplog
):
    """And the outage is said once when the job meets it and once when the database is back:
    the transfer, its failed run's record and the job's failed attempt each logged an ERROR
    with a traceback."""
    map_golden(postgres)
    monkeypatch.setenv("STOCKPOT_JOB_LEASE_SECONDS", "0.5")
    monkeypatch.setenv("STOCKPOT_JOB_RETRY_SECONDS", "0")
    monkeypatch.setenv("STOCKPOT_POS_REQUESTS_PER_SECOND", "1000")
    quick = Settings()
    with unit_of_work(postgres.factory) as session:
        location = session.get_one(ExternalLocation, postgres.location_id)
        job_id = enqueue(
            session,
            specs.transfer(
                location.company_id,
                location.id,
                GOLDEN_DATE,
                run_kind=RunKind.AUTOMATIC,
                triggered_by="t",
            ),
        ).job_id
    outage = Outage(postgres.url)
    sides.faults.add(Fault(before=outage.begin), path="/daily-reports/", times=1)
    worker = Worker(postgres.factory, quick, job_handlers(Notifier(postgres.factory)))
    try:
        assert worker.run_one(), "the job ran, and met the outage mid-way"
    finally:
        outage.end()
    with postgres.session() as session:
        job = session.get_one(Job, job_id)
        assert job.state is JobState.RUNNING, "its failure could not even be recorded"
        assert session.scalar(select(func.count()).select_from(LedgerMovement)) == 0
    worker.run_until_idle(wait_for_others=True)
    with postgres.session() as session:
        job = session.get_one(Job, job_id)
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    assert said(caplog, worker) == [
        f"worker {worker.worker_id} cannot reach the database",
        f"worker {worker.worker_id} reaches the database again",
    ]
    first = next(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    assert f"trying to run job {job_id} (transfer)" in first, first
    expected = sides.expected_consumption(36, GOLDEN_DATE, expand_menus=True)
    assert balances(postgres) == {MAPPED[key]: -expected[key] for key in MAPPED}


def test_a_report_whose_worker_loses_the_database_at_the_end_is_not_posted_twice(
    postgres, sides, monkeypatch, caplog
):
    """The report is posted (its message recorded), then the database goes away while its
    chart is uploaded, before the job is marked done: the job runs again later and does not
    post the report again."""
    monkeypatch.setenv("STOCKPOT_JOB_LEASE_SECONDS", "0.5")
    monkeypatch.setenv("STOCKPOT_JOB_RETRY_SECONDS", "0")
    monkeypatch.setenv("STOCKPOT_POS_REQUESTS_PER_SECOND", "1000")
    quick = Settings()
    map_golden(postgres)
    connections.transfer_day(postgres.factory, quick, postgres.location_id, GOLDEN_DATE)
    outage = Outage(postgres.url)
    with unit_of_work(postgres.factory) as session:
        location = session.get_one(ExternalLocation, postgres.location_id)
        company = session.get_one(Company, location.company_id)
        company.report_team_id, company.report_channel_id = "T0001", "C0001"
        job_id = enqueue(session, specs.report(company.id, GOLDEN_DATE)).job_id
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        slack.faults.add(Fault(before=outage.begin), path="/api/files.getUploadURLExternal")
        client = WebClient(token="xoxb-sandbox", base_url=slack.api_url)
        worker = Worker(
            postgres.factory, quick, job_handlers(Notifier(postgres.factory, client=client))
        )
        try:
            assert worker.run_one()
        finally:
            outage.end()
        worker.run_until_idle(wait_for_others=True)
        reports = [c for c in slack.calls if c.method == "chat.postMessage"]
    with postgres.session() as session:
        job = session.get_one(Job, job_id)
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
    assert len(reports) == 1, "the retry found the report already posted"
    assert said(caplog, worker) == [
        f"worker {worker.worker_id} cannot reach the database",
        f"worker {worker.worker_id} reaches the database again",
    ]


class Attempts(logging.Handler):
    """Counts the worker's failed attempts to reach the database (said at DEBUG) and sees
    when it says the database is back."""

    def __init__(self, enough: int) -> None:
        super().__init__(logging.DEBUG)
        self.failed = 0
        self.enough = enough
        self.many = threading.Event()
        self.back = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("could not reach the database to "):
            self.failed += 1
            if self.failed >= self.enough:
                self.many.set()
        if "reaches the database again" in record.getMessage():
            self.back.set()


def test_a_worker_that_loses_the_database_says_so_once_and_once_when_it_is_back(
    postgres, monkeypatch, caplog
):
    """PostgreSQL restarted under a worker: each claim, heartbeat and lease renewal that
    failed logged a warning with its traceback (1,200 lines for 15 s). Now the outage is
    two warnings, without a traceback; each attempt is at DEBUG."""
    monkeypatch.setenv("STOCKPOT_WORKER_POLL_SECONDS", "0.01")
    monkeypatch.setenv("STOCKPOT_HEARTBEAT_SECONDS", "0.01")
    monkeypatch.setenv("STOCKPOT_LISTEN", "false")
    worker = Worker(postgres.factory, Settings(), {})
    attempts = Attempts(enough=30)
    logging.getLogger("stockpot.core").addHandler(attempts)
    outage = Outage(postgres.url)
    stop = threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,))
    try:
        with caplog.at_level(logging.DEBUG, logger="stockpot.core"):
            running.start()
            outage.begin()
            try:
                assert attempts.many.wait(60), f"only {attempts.failed} attempts failed"
            finally:
                outage.end()
            assert attempts.back.wait(60), "the worker said the database is back"
            stop.set()
            running.join(60)
    finally:
        stop.set()
        outage.end()
        logging.getLogger("stockpot.core").removeHandler(attempts)
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0].split(" after ")[0] for r in said] == [
        f"worker {worker.worker_id} cannot reach the database",
        f"worker {worker.worker_id} reaches the database again",
    ], [r.getMessage() for r in said]
    # Why, by the driver's error: a refused connection (OperationalError) or, when the
    # outage caught a connection open, the server ending it (AdminShutdown).
    assert re.search(
        r"cannot reach the database \((OperationalError|AdminShutdown): \S", (said[0].getMessage())
    ), said[0].getMessage()
    assert all(r.exc_info is None for r in said), "no traceback above DEBUG"
