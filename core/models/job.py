"""Background jobs: the queue every process shares, in the database."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.models.base import Base, company_fk, created_at, enum_column


class JobKind(StrEnum):
    SYNC = "sync"
    TRANSFER = "transfer"
    MIGRATION = "migration"
    CSV_IMPORT = "csv_import"
    CSV_UNDO = "csv_undo"
    CSV_PREVIEW = "csv_preview"
    REPORT = "report"
    REPROCESS = "reprocess"
    """Rerun the live days a mapping change touches, as one job with one message."""
    VARIANCE = "variance"
    ANSWER = "answer"
    """A Slack command's answer, worked out by a worker (the web process only acks)."""
    MISSED_DAYS = "missed_days"
    """Tell a company the days the scheduler did not queue itself, offering Catch up."""


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def pending(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


PENDING_STATES = ("queued", "running")


class Job(Base):
    """One unit of background work.

    ``dedupe_key`` makes enqueueing idempotent: at most one *pending* job holds a key (a
    partial unique index), so a double click or two schedulers queue the work once.
    ``once_key`` is unique for ever: the scheduler's occurrences (an automatic transfer of a
    day, a day's report) are queued once even after they finished or failed.
    A running job holds a lease its worker renews; an expired lease means the worker died and
    any worker may take the job over. A job that failed or was cancelled keeps ``telling``
    (what to say) until its handler has said it, under a lease the same way: the failure and
    the duty to tell it commit together, so a worker that dies in between leaves the telling
    to the next one.
    """

    __tablename__ = "job"
    __table_args__ = (
        Index(
            "uq_job_pending_dedupe_key",
            "dedupe_key",
            unique=True,
            postgresql_where=text("state IN ('queued', 'running')"),
            sqlite_where=text("state IN ('queued', 'running')"),
        ),
        Index("ix_job_claim", "state", "priority", "run_after"),
        Index("ix_job_location_kind", "location_id", "kind"),
        Index(
            "ix_job_telling",
            "lease_expires_at",
            postgresql_where=text("telling IS NOT NULL"),
            sqlite_where=text("telling IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = enum_column(JobKind)
    state: Mapped[JobState] = enum_column(JobState, default=JobState.QUEUED)
    priority: Mapped[int] = mapped_column(default=5, doc="lower runs first")
    company_id: Mapped[int] = company_fk()
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("external_location.id", ondelete="CASCADE")
    )
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connection.id", ondelete="CASCADE")
    )
    business_date: Mapped[date | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    claims: Mapped[int] = mapped_column(
        default=0,
        doc="how often the job was claimed: a claim's number is its holder's token "
        "(``core.jobs.queue``)",
    )
    max_attempts: Mapped[int | None] = mapped_column(
        doc="``None``: the worker's STOCKPOT_JOB_MAX_ATTEMPTS"
    )
    run_after: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None]
    worker_id: Mapped[str | None] = mapped_column(String(100))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    telling: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True),
        doc="a failure or cancellation recorded but not yet told, or the messages Slack did not "
        "take of a job that succeeded (``core.jobs.telling``)",
    )
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobEffect(Base):
    """What a job's work did, written in the same transaction as the work (a transfer run, a
    CSV import or undo), under the job's idempotency key. A retry of a job whose worker died
    after that commit but before the job was marked done finds it and reports it instead of
    doing the work again."""

    __tablename__ = "job_effect"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    company_id: Mapped[int] = company_fk()
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = created_at()
