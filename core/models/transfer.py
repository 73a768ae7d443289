"""Transfer runs (the transfer log), the sales they read, and the day they own."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.models.base import Base, company_fk, created_at, enum_column


class RunKind(StrEnum):
    MANUAL = "manual"
    AUTOMATIC = "automatic"
    MIGRATION = "migration"
    CSV = "csv"
    DRY_RUN = "dry_run"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"


class RunOutcome(StrEnum):
    """What a succeeded run did to the ledger."""

    POSTED = "posted"
    UNCHANGED = "unchanged"
    PREVIEW = "preview"


class TransferDay(Base):
    """One row per (location, business date): the lock two runs of that day queue on, and
    which run is live (its movements are the ones that count)."""

    __tablename__ = "transfer_day"

    location_id: Mapped[int] = mapped_column(
        ForeignKey("external_location.id", ondelete="CASCADE"), primary_key=True
    )
    business_date: Mapped[date] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    generation: Mapped[int] = mapped_column(default=0)
    live_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfer_run.id", ondelete="SET NULL")
    )


class TransferRun(Base):
    """One attempt to transfer a location's business date, and its log."""

    __tablename__ = "transfer_run"
    __table_args__ = (
        UniqueConstraint("location_id", "business_date", "generation"),
        Index("ix_transfer_run_location_date", "location_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    location_id: Mapped[int] = mapped_column(ForeignKey("external_location.id", ondelete="CASCADE"))
    business_date: Mapped[date]
    kind: Mapped[RunKind] = enum_column(RunKind)
    status: Mapped[RunStatus] = enum_column(RunStatus)
    outcome: Mapped[RunOutcome | None] = enum_column(RunOutcome, nullable=True)
    generation: Mapped[int | None] = mapped_column(
        doc="1, 2, … for the runs that posted to this day; the highest one is live"
    )
    started_at: Mapped[datetime] = created_at()
    finished_at: Mapped[datetime | None]
    triggered_by: Mapped[str] = mapped_column(String(200), default="")
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    unmapped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    snapshot_digest: Mapped[str | None] = mapped_column(
        ForeignKey("transfer_snapshot.digest"),
        doc="the mappings and recipes this run used, for audit and tracing",
    )
    content_hash: Mapped[str | None] = mapped_column(String(64))
    input_fingerprint: Mapped[str | None] = mapped_column(
        String(64), doc="digest of the lines and of the whole catalog they were read against"
    )
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfer_run.id", ondelete="SET NULL")
    )


class TransferSnapshot(Base):
    """A snapshot as runs store it (canonical JSON, see ``Snapshot.text``), kept once however
    many runs read the same one: the days of a migration mostly do."""

    __tablename__ = "transfer_snapshot"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[int] = company_fk()
    body: Mapped[str] = mapped_column(Text)


class RawPayload(Base):
    """The POS payload of a run, exactly as received."""

    __tablename__ = "raw_payload"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("transfer_run.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)


class TransferRunLines(Base):
    """The normalised sales lines a run read, in their canonical order, as one compressed
    value (see ``core.transfer.line_store``): a day's lines are read back whole, never one by
    one, and storing a row per line was most of a transfer's cost."""

    __tablename__ = "transfer_run_lines"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("transfer_run.id", ondelete="CASCADE"), primary_key=True
    )
    layout: Mapped[int] = mapped_column(doc="the encoding's version (line_store.FORMAT)")
    count: Mapped[int]
    body: Mapped[bytes] = mapped_column(LargeBinary)
