"""A worker that was down while the scheduler queued a daily report each day posts, on its
return, only the latest day's: the channel does not get a pile of stale reports (the
scheduler, were it down as well, would queue only that one too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from stockpot.core.db import unit_of_work
from stockpot.core.jobs.queue import enqueue_many, request_cancel
from stockpot.core.jobs.schedule import due_work
from stockpot.core.models import Job, JobKind, JobState
from tests.bot.conftest import ADMIN
from tests.bot.test_job_retries import messages
from tests.bot.test_jobs_flow import GOLDEN, _ready
from tests.bot.test_slack_app import posted


def test_reports_queued_while_the_worker_was_down_post_the_latest_day_once(bot):
    _ready(bot)
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN)
    posted(bot, "come to this channel")
    bot.drain()
    first = datetime(2025, 3, 15, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, after 07:30
    # What the scheduler queued on three mornings while no worker ran (in one transaction:
    # the test's background worker would take each at once).
    with unit_of_work(bot.database.factory) as session:
        for day in range(3):
            enqueue_many(session, due_work(session, first + timedelta(days=day)).jobs)
    bot.drain()

    reports = messages(bot, "Daily report of Trattoria Esempio")
    assert len(reports) == 1
    with bot.database.session() as session:
        jobs = session.execute(
            select(Job.business_date, Job.state, Job.result)
            .where(Job.kind == JobKind.REPORT)
            .order_by(Job.business_date)
        ).all()
    assert [(day, state) for day, state, _ in jobs] == [
        (GOLDEN, JobState.SUCCEEDED),
        (GOLDEN + timedelta(days=1), JobState.SUCCEEDED),
        (GOLDEN + timedelta(days=2), JobState.SUCCEEDED),
    ]
    assert [result["posted"] for _, _, result in jobs] == [False, False, True]


@pytest.mark.parametrize("end", ["cancelled", "failed"])
def test_a_later_report_cancelled_or_failed_supersedes_nothing(bot, end):
    """The latest of three queued reports is cancelled (or failed for good): it posts
    nothing, yet it made the day before stale all the same, and the channel got no report.
    The day before is the latest report now, and posts."""
    _ready(bot)
    bot.send.command("/pos", "report here 07:30 Europe/Berlin", user=ADMIN)
    posted(bot, "come to this channel")
    bot.drain()
    first = datetime(2025, 3, 15, 7, 0, tzinfo=UTC)
    with unit_of_work(bot.database.factory) as session:
        for day in range(3):
            enqueue_many(session, due_work(session, first + timedelta(days=day)).jobs)
        latest = session.scalars(
            select(Job).where(Job.kind == JobKind.REPORT).order_by(Job.business_date.desc())
        ).first()
        if end == "cancelled":
            request_cancel(session, latest.id, latest.company_id)
        else:
            latest.state, latest.last_error = JobState.FAILED, "Slack refused the channel"
    bot.drain()

    assert len(messages(bot, "Daily report of Trattoria Esempio")) == 1
    with bot.database.session() as session:
        results = session.execute(
            select(Job.business_date, Job.result["posted"].as_boolean())
            .where(Job.kind == JobKind.REPORT, Job.state == JobState.SUCCEEDED)
            .order_by(Job.business_date)
        ).all()
    assert results == [(GOLDEN, False), (GOLDEN + timedelta(days=1), True)]
