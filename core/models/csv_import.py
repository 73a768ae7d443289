"""CSV imports: one row per file imported into a CSV connection, for duplicate refusal and
undo. The sales themselves live in the transfer runs the import posted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.models.base import Base, company_fk, created_at, enum_column


class ImportStatus(StrEnum):
    IMPORTED = "imported"
    UNDONE = "undone"


class CsvImport(Base):
    __tablename__ = "csv_import"
    __table_args__ = (Index("ix_csv_import_connection_hash", "connection_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the file's bytes")
    status: Mapped[ImportStatus] = enum_column(ImportStatus)
    rows: Mapped[int]
    rows_skipped: Mapped[int] = mapped_column(default=0, doc="invalid rows left out on request")
    days: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="[{location_id, business_date, run_id}] the runs it posted"
    )
    imported_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at()
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(200))
