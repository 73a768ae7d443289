"""A worker SIGKILLed at random points of its transfers until its 40 days are done (a new
worker each time, at most 50), on PostgreSQL: every job completes and the ledger is exactly
what the sales say."""

from __future__ import annotations

import random
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue_many
from stockpot.core.models import ExternalLocation, Job, JobState, RunKind, RunOutcome, TransferRun
from stockpot.core.pos import connections
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides.data import GOLDEN_DATE
from tests.core.jobs.test_worker_processes import finish, worker_process
from tests.core.test_migration import forget_transfers, ledger_by_day
from tests.pos import map_golden

KILLS = 50
DAYS = 40

pytestmark = pytest.mark.postgresql_only


@pytest.mark.slow
def test_a_worker_killed_over_and_over_leaves_every_job_done_and_the_ledger_exact(
    postgres, settings, sides
):
    map_golden(postgres)
    days = [GOLDEN_DATE - timedelta(days=n) for n in range(DAYS)]
    with unit_of_work(postgres.factory) as session:
        location = session.get_one(ExternalLocation, postgres.location_id)
        enqueue_many(
            session,
            [
                specs.transfer(
                    location.company_id,
                    location.id,
                    day,
                    run_kind=RunKind.AUTOMATIC,
                    triggered_by="test",
                )
                for day in days
            ],
        )
    fetching = threading.Event()
    sides.faults.add(Fault(before=fetching.set), path="/daily-reports/", times=10_000)
    rng = random.Random(50)
    lease = {"STOCKPOT_JOB_LEASE_SECONDS": "0.5", "STOCKPOT_JOB_MAX_ATTEMPTS": "100"}
    for _ in range(KILLS):
        if not _pending(postgres):
            break  # every job is done: a worker started now would wait for nothing
        fetching.clear()
        worker = worker_process(postgres, settings, **lease)
        if not fetching.wait(30):
            worker.kill()
            break  # the last job finished after the check above
        # The kill point: anywhere from the fetch to the commit of the transfer.
        time.sleep(rng.uniform(0, 0.3))
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finish(worker_process(postgres, settings, "--until-idle", **lease))

    with postgres.session() as session:
        states = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
        assert states == [(JobState.SUCCEEDED, DAYS)]
        assert session.scalar(select(func.max(Job.attempts))) > 1, "kills interrupted jobs"
        posted = session.execute(
            select(TransferRun.business_date, func.count())
            .where(TransferRun.outcome == RunOutcome.POSTED)
            .group_by(TransferRun.business_date)
        ).all()
    assert sorted(day for day, _ in posted) == sorted(days)
    assert all(count == 1 for _, count in posted), (
        "no day was posted twice (a job killed after its transfer committed reruns it as unchanged)"
    )
    killed = ledger_by_day(postgres)
    forget_transfers(postgres)
    for day in days:
        connections.transfer_day(postgres.factory, settings, postgres.location_id, day)
    assert ledger_by_day(postgres) == killed


def _pending(postgres) -> int:
    with postgres.session() as session:
        return session.scalar(
            select(func.count()).select_from(Job).where(Job.state != JobState.SUCCEEDED)
        )
