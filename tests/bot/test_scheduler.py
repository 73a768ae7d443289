"""The APScheduler wiring: it ticks at once on start and queues what is due."""

from __future__ import annotations

import threading
from datetime import time

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from sqlalchemy import select

from stockpot.bot.scheduler import start_scheduler
from stockpot.core.db import unit_of_work
from stockpot.core.models import Company, Job, JobKind
from stockpot.core.settings import Settings


def test_the_scheduler_queues_the_due_report_on_its_first_tick(database):
    with unit_of_work(database.factory) as session:
        session.add(
            Company(
                name="Ticking",
                report_team_id="T1",
                report_channel_id="C1",
                report_time=time(0, 0),
                report_timezone="UTC",
            )
        )
    ticked = threading.Event()
    outcomes: list[int] = []
    scheduler = start_scheduler(database.factory, Settings())

    def done(event) -> None:
        outcomes.append(event.code)
        ticked.set()

    scheduler.add_listener(done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        assert ticked.wait(30) or any(session_job for session_job in _report_jobs(database)), (
            "the first tick ran"
        )
    finally:
        scheduler.shutdown(wait=True)
    assert len(_report_jobs(database)) == 1
    assert EVENT_JOB_ERROR not in outcomes


def _report_jobs(database) -> list[Job]:
    with database.session() as session:
        return list(session.scalars(select(Job).where(Job.kind == JobKind.REPORT)))
