"""APScheduler decides when to look for due work; ``core.jobs.schedule.tick`` decides what is
due and queues it. The scheduler keeps no state of its own (an in-memory job store), so any
number of scheduler processes may run: each occurrence is queued once by its key."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import utcnow
from stockpot.core.jobs.schedule import tick
from stockpot.core.settings import Settings

log = logging.getLogger(__name__)


def _tick(factory: sessionmaker[Session]) -> None:
    try:
        summary = tick(factory)
    except SQLAlchemyError:
        log.warning("the scheduler could not reach the database; next tick retries", exc_info=True)
        return
    if summary.transfers or summary.reports or summary.offers:
        log.info(
            "queued %s transfer(s), %s report(s), %s offer(s) of days not transferred",
            summary.transfers,
            summary.reports,
            summary.offers,
        )


def start_scheduler(factory: sessionmaker[Session], settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        _tick,
        IntervalTrigger(seconds=settings.scheduler_seconds, timezone=UTC),
        args=[factory],
        id="stockpot-due-work",
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
    )
    scheduler.start()
    return scheduler
