"""A 30-day migration through the worker while Lightspeed misbehaves on most days: every day
ends either correct or failed-and-retried, never partially posted or doubled."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from stockpot.bot.jobs.handlers import job_handlers
from stockpot.bot.jobs.slack import Notifier
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.jobs.worker import Worker
from stockpot.core.models import ExternalLocation, Job, JobState, RunStatus, TransferRun
from stockpot.core.pos import connections
from stockpot.core.settings import Settings
from stockpot.sandbox.http import Fault
from tests.core.test_migration import forget_transfers, ledger_by_day

DAYS = 30


def plan_outages(lightspeed, seed: int) -> list[str]:
    """About one fault per day on the daily sales requests: resets, 500s, 503 bursts longer
    than the client's retries, 429s, cut bodies, tokens expiring mid-migration. (With days
    fetched ahead, which day meets which fault varies; what must hold does not.)"""
    rng = random.Random(seed)
    kinds = []
    for request in range(DAYS):
        kind = rng.choice(["none", "drop", "500", "503-burst", "429", "truncate", "expire"])
        kinds.append(kind)
        after = request  # one fault per day's first request, in order
        if kind == "drop":
            lightspeed.faults.add(Fault(drop=True), path="/sales-daily", after=after)
        elif kind == "500":
            lightspeed.faults.add(Fault.status(500), path="/sales-daily", after=after)
        elif kind == "503-burst":
            lightspeed.faults.add(Fault.status(503), path="/sales-daily", times=6, after=after)
        elif kind == "429":
            lightspeed.faults.add(
                Fault.status(429, headers={"Retry-After": "0"}), path="/sales-daily", after=after
            )
        elif kind == "truncate":
            lightspeed.faults.add(Fault(truncate=True), path="/sales-daily", after=after)
        elif kind == "expire":
            lightspeed.faults.add(
                Fault(before=lightspeed.expire_access_tokens), path="/sales-daily", after=after
            )
    return kinds


def test_a_migration_through_outages_posts_each_day_exactly_once(
    lightspeed_connected, settings, lightspeed, monkeypatch
):
    monkeypatch.setenv("STOCKPOT_POS_RETRY_SECONDS", "0")
    monkeypatch.setenv("STOCKPOT_JOB_RETRY_SECONDS", "0")
    monkeypatch.setenv("STOCKPOT_JOB_MAX_ATTEMPTS", "20")
    monkeypatch.setenv("STOCKPOT_POS_REQUESTS_PER_SECOND", "1000")
    quick = Settings()
    kinds = plan_outages(lightspeed, seed=7)
    assert {"503-burst", "drop", "expire", "truncate"} <= set(kinds)
    with unit_of_work(lightspeed_connected.factory) as session:
        location = session.get_one(ExternalLocation, lightspeed_connected.location_id)
        enqueue(
            session,
            specs.migration(location.company_id, location.id, DAYS, triggered_by="t"),
        )
    worker = Worker(
        lightspeed_connected.factory, quick, job_handlers(Notifier(lightspeed_connected.factory))
    )
    worker.run_until_idle()
    with lightspeed_connected.session() as session:
        job = session.scalars(select(Job)).one()
        assert job.state is JobState.SUCCEEDED and job.attempts > 1, "bursts made it retry"
        assert job.result["progress"]["done"] == DAYS and job.result["progress"]["failed"] == []
        live = session.execute(
            select(TransferRun.business_date, func.count())
            .where(TransferRun.status == RunStatus.SUCCEEDED)
            .group_by(TransferRun.business_date)
        ).all()
        failed = session.scalar(
            select(func.count())
            .select_from(TransferRun)
            .where(TransferRun.status == RunStatus.FAILED)
        )
    assert len(live) == DAYS and all(count == 1 for _, count in live), "each day posted once"
    assert failed >= job.attempts - 1 >= 1, "each fetch that ran out of retries is logged"
    migrated = ledger_by_day(lightspeed_connected)

    lightspeed.faults.clear()
    forget_transfers(lightspeed_connected)
    first = min(day for day, _ in live)
    for offset in range(DAYS):
        connections.transfer_day(
            lightspeed_connected.factory,
            quick,
            lightspeed_connected.location_id,
            first + timedelta(days=offset),
        )
    assert ledger_by_day(lightspeed_connected) == migrated, (
        "the same ledger as a migration without faults"
    )
    assert kinds.count("none") < DAYS // 2
