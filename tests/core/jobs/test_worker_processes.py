"""Real worker processes on PostgreSQL, against the SIDES sandbox over HTTP: many workers
share the queue without doing anything twice, and a killed worker's job is finished by another
with the ledger exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue_many
from stockpot.core.locations import link_storage_unit
from stockpot.core.models import ExternalLocation, Job, JobState, RunKind, TransferRun
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides.data import GOLDEN_DATE
from tests.pos import MAPPED, balances, map_golden

STOCKPOT = str(Path(sys.executable).with_name("stockpot"))

pytestmark = pytest.mark.postgresql_only


def worker_process(database, settings, *extra: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database.url,
        "STOCKPOT_SECRET_KEY": settings.secret_key.get_secret_value(),
        "SIDES_API_URL": settings.sides.api_url,
        "STOCKPOT_POS_REQUESTS_PER_SECOND": "1000",
        "STOCKPOT_WORKER_POLL_SECONDS": "0.05",
        "STOCKPOT_JOB_RETRY_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    process = subprocess.Popen(
        [STOCKPOT, "worker", "--no-scheduler", *extra],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    STARTED.append(process)
    return process


STARTED: list[subprocess.Popen] = []
"""Every worker process a test started: killed when its test ends (``tests/plugin.py``),
whether the test passed or failed. A worker left running after a failed test goes on
claiming the next tests' jobs from the same database, which then wait for answers that
went to the stray process."""


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    return output


def transfer_spec(location: ExternalLocation, day) -> specs.JobSpec:
    return specs.transfer(
        location.company_id, location.id, day, run_kind=RunKind.AUTOMATIC, triggered_by="test"
    )


def queue_golden_transfer(database) -> None:
    """The automatic transfer of the golden day of the connected store."""
    with unit_of_work(database.factory) as session:
        location = session.get_one(ExternalLocation, database.location_id)
        enqueue_many(session, [transfer_spec(location, GOLDEN_DATE)])


def queue_location_days(database, days: int) -> int:
    """Both stores linked, and ``days`` days of each queued; returns how many jobs."""
    with unit_of_work(database.factory) as session:
        locations = session.scalars(select(ExternalLocation).order_by(ExternalLocation.id)).all()
        assert len(locations) == 2
        for location in locations:
            link_storage_unit(session, location, "Kitchen")
        jobs = [
            transfer_spec(location, GOLDEN_DATE - timedelta(days=n))
            for location in locations
            for n in range(days)
        ]
        return enqueue_many(session, jobs)


@pytest.mark.slow
def test_two_workers_process_300_location_days_exactly_once(postgres, settings):
    assert queue_location_days(postgres, 150) == 300
    workers = [worker_process(postgres, settings, "--until-idle") for _ in range(2)]
    for process in workers:
        finish(process)
    with postgres.session() as session:
        states = session.execute(
            select(Job.state, func.count(), func.max(Job.attempts)).group_by(Job.state)
        ).all()
        assert states == [(JobState.SUCCEEDED, 300, 1)]
        by_worker = session.execute(select(Job.worker_id, func.count()).group_by(Job.worker_id))
        assert len(by_worker.all()) == 2, "both processes took jobs"
        runs = session.execute(
            select(TransferRun.location_id, TransferRun.business_date, func.count())
            .group_by(TransferRun.location_id, TransferRun.business_date)
            .having(func.count() > 1)
        ).all()
        assert runs == [], "no location-day was transferred twice"
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 300


def test_a_killed_workers_job_is_finished_by_another_with_the_ledger_exact(
    postgres, settings, sides
):
    map_golden(postgres)
    arrived, release = threading.Event(), threading.Event()

    def hold() -> None:
        arrived.set()
        release.wait(60)

    sides.faults.add(Fault(before=hold), path="/daily-reports/", times=1)
    queue_golden_transfer(postgres)
    lease = {"STOCKPOT_JOB_LEASE_SECONDS": "1"}
    doomed = worker_process(postgres, settings, **lease)
    assert arrived.wait(60), "the worker fetched the day"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(30)
    release.set()
    finish(worker_process(postgres, settings, "--until-idle", **lease))
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 2)
        runs = session.scalars(select(TransferRun)).all()
        assert [run.status.value for run in runs] == ["succeeded"]
    expected = sides.expected_consumption(36, GOLDEN_DATE, expand_menus=True)
    assert balances(postgres) == {MAPPED[key]: -expected[key] for key in MAPPED}
