"""Behind PgBouncer in transaction pooling mode, everything behaves as on a direct connection:
job claims (FOR UPDATE SKIP LOCKED) by worker processes, the day lock of concurrent
transfers, COPY, and queries run often enough for psycopg to prepare them. LISTEN does not,
and a worker asked to listen through it says so and polls."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.jobs.listen import notifications_arrive
from stockpot.core.jobs.worker import FunctionHandler, Worker
from stockpot.core.models import Job, JobKind, JobState, TransferRun
from stockpot.core.settings import Settings
from tests.catalogs import ids, setup_trattoria
from tests.conftest import Database
from tests.core.jobs.test_wake import company, queue_job, running
from tests.core.jobs.test_worker_processes import finish, queue_location_days, worker_process
from tests.core.transfer.test_concurrency import ROUNDS, THREADS, _check_day, _race

pytestmark = pytest.mark.postgresql_only


@dataclass
class Bounced:
    url: str


@pytest.fixture
def bounced(database, pgbouncer_url):
    if database.dialect != "postgresql":
        pytest.skip("PgBouncer stands in front of PostgreSQL")
    engine = make_engine(pgbouncer_url)
    try:
        yield Database(pgbouncer_url, engine, make_session_factory(engine))
    finally:
        engine.dispose()


def test_worker_processes_share_the_queue_through_pgbouncer(postgres, settings, pgbouncer_url):
    assert queue_location_days(postgres, 60) == 120
    workers = [
        worker_process(
            Bounced(pgbouncer_url), settings, "--until-idle", STOCKPOT_WORKER_THREADS="3"
        )
        for _ in range(3)
    ]
    for process in workers:
        finish(process)
    with postgres.session() as session:
        states = session.execute(
            select(Job.state, func.count(), func.max(Job.attempts)).group_by(Job.state)
        ).all()
        assert states == [(JobState.SUCCEEDED, 120, 1)]
        runs = session.execute(
            select(TransferRun.location_id, TransferRun.business_date, func.count()).group_by(
                TransferRun.location_id, TransferRun.business_date
            )
        ).all()
    assert len(runs) == 120 and {count for *_, count in runs} == {1}


def test_the_day_lock_queues_concurrent_transfers_through_pgbouncer(bounced):
    setup_trattoria(bounced)
    with bounced.session() as session:
        location_id = ids(session)["location:Main room"]
    for round_number in range(ROUNDS):
        _race(bounced, location_id, round_number)
        _check_day(bounced, location_id, posted=(round_number + 1) * THREADS)


def test_queries_run_often_on_shared_server_connections_need_no_prepared_statements(bounced):
    errors: list[BaseException] = []

    def many() -> None:
        try:
            for _ in range(40):
                with bounced.session() as session:
                    session.execute(text("SELECT count(*) FROM job WHERE state = :s"), {"s": "x"})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_notify_reaches_a_listen_on_a_direct_connection_and_not_through_pgbouncer(
    bounced, database
):
    assert notifications_arrive(database.url, timeout=0.5)
    assert not notifications_arrive(bounced.url, timeout=0.5)


def test_a_worker_told_to_listen_through_pgbouncer_says_so_once_and_polls(
    database, pgbouncer_url, caplog
):
    company_id = company(database)
    ran = threading.Event()
    settings = Settings.from_variables(
        STOCKPOT_LISTEN_URL=pgbouncer_url, STOCKPOT_WORKER_POLL_SECONDS=0.2
    )
    worker = Worker(
        database.factory, settings, {JobKind.REPORT: FunctionHandler(lambda c: ran.set())}
    )
    worker.probe_seconds = 0.5  # arrives in milliseconds where it arrives at all
    with caplog.at_level(logging.WARNING, logger="stockpot.core.jobs.listen"):
        stop, thread = running(worker)
        try:
            queue_job(database, company_id, JobKind.REPORT)
            assert ran.wait(10), "the worker polls"
        finally:
            stop.set()
            worker.wake()
            thread.join(15)  # its listener, probing still, is joined on the way out
    assert not thread.is_alive()
    assert not worker.listening.is_set()
    warnings = [
        record
        for record in caplog.records
        if record.name == "stockpot.core.jobs.listen" and record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    said = warnings[0].getMessage()
    assert "cannot LISTEN for new jobs on STOCKPOT_LISTEN_URL" in said  # what
    assert "transaction pooling (PgBouncer)" in said  # why
    assert "they poll instead" in said
    assert "Fix: set STOCKPOT_LISTEN_URL to a direct connection to PostgreSQL" in said
    assert pgbouncer_url.split("@")[-1] not in said, "the URL (and any password) is not logged"
