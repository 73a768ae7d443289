"""``stockpot jobs`` and ``stockpot migrate``: the queue as an operator sees it."""

from __future__ import annotations

import click
from sqlalchemy import select

from stockpot.bot.cli.support import (
    emit_json,
    session_factory,
    session_scope,
    table,
)
from stockpot.core.jobs import queue, specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.lookup import location_by_name
from stockpot.core.migration import DEFAULT_DAYS, MigrationProgress, plan
from stockpot.core.models import ExternalLocation, Job, JobKind, JobState
from stockpot.core.settings import get_settings
from stockpot.core.words import plural


@click.group("jobs")
def jobs() -> None:
    """The job queue: what is queued, running, done or failed."""


@jobs.command("list")
@click.option("--state", type=click.Choice([s.value for s in JobState]))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def jobs_list(state: str | None, limit: int, as_json: bool) -> None:
    """The latest jobs: each one's location by name, its day (a migration's days) and how
    far a migration has come."""
    limit_of_attempts = get_settings().job_max_attempts
    query = (
        select(Job, ExternalLocation.name)
        .outerjoin(ExternalLocation, ExternalLocation.id == Job.location_id)
        .order_by(Job.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(Job.state == JobState(state))
    with session_factory()() as session:
        rows = [
            {
                "id": job.id,
                "kind": job.kind.value,
                "state": job.state.value,
                "location_id": job.location_id,
                "location": location,
                "business_date": job.business_date.isoformat() if job.business_date else None,
                **_days_of(job),
                "attempts": f"{job.attempts}/{job.max_attempts or limit_of_attempts}",
                "run_after": job.run_after.isoformat(timespec="seconds"),
                "last_error": job.last_error or "",
            }
            for job, location in session.execute(query).tuples()
        ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no jobs" + (f" {state}" if state else ""))
        return
    table(
        [
            [
                str(r["id"]),
                r["kind"],
                r["state"],
                r["location"] or "",
                r["business_date"] or _span(r),
                f"{r['days_done']}/{r['days']}" if r["days"] else "",
                r["attempts"],
                r["last_error"],
            ]
            for r in rows
        ],
        ["id", "kind", "state", "location", "date", "days done", "attempts", "last error"],
    )


def _days_of(job: Job) -> dict[str, object]:
    """A migration's days (``first``…``last``) and how many are done, from the progress its
    worker saves after each day; ``None`` for other jobs and before its first start."""
    saved = job.result.get("progress") if job.kind is JobKind.MIGRATION else None
    if not saved:
        return {"first_date": None, "last_date": None, "days": None, "days_done": None}
    progress = MigrationProgress.load(saved)
    return {
        "first_date": progress.first.isoformat(),
        "last_date": progress.last.isoformat(),
        "days": progress.total,
        "days_done": progress.done,
    }


def _span(row: dict[str, object]) -> str:
    return f"{row['first_date']}…{row['last_date']}" if row["first_date"] else ""


@jobs.command("retry")
@click.argument("job_id", type=int)
def jobs_retry(job_id: int) -> None:
    """Queue a failed or cancelled job again."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        company_id = job.company_id if job else 0
        queue.requeue(session, job_id, company_id)
    click.echo(f"job {job_id} is queued again")


@jobs.command("cancel")
@click.argument("job_id", type=int)
def jobs_cancel(job_id: int) -> None:
    with session_scope() as session:
        job = session.get(Job, job_id)
        queue.request_cancel(session, job_id, job.company_id if job else 0)
    click.echo(f"job {job_id} is cancelled (a running one stops at its next day)")


@click.command("migrate")
@click.argument("location")
@click.option("--company", help="needed only when two companies have a location of that name")
@click.option("--days", default=DEFAULT_DAYS, show_default=True)
def migrate_command(location: str, company: str | None, days: int) -> None:
    """Queue a location's historical migration: its last DAYS business days, oldest first.
    A running worker (`stockpot worker`, `stockpot run`) does it."""
    with session_scope() as session:
        found = location_by_name(session, location, company)
        plan(session, found, days)
        queued = enqueue(
            session,
            specs.migration(found.company_id, found.id, days, triggered_by="cli"),
        )
    state = "queued" if queued.created else "already queued"
    click.echo(f"migration of {location} ({plural(days, 'day')}) {state} as job {queued.job_id}")


def register(main: click.Group) -> None:
    main.add_command(jobs)
    main.add_command(migrate_command)
