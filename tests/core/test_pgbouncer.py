"""Behind PgBouncer in transaction pooling mode, everything behaves as on a direct connection:
job claims (FOR UPDATE SKIP LOCKED) by worker processes, the day lock of concurrent
transfers, COPY, and queries run often enough for psycopg to prepare them."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from stockpot.core.db import make_engine, make_session_factory
from stockpot.core.models import Job, JobState, TransferRun
from tests.catalogs import ids, setup_trattoria
from tests.conftest import Database
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
