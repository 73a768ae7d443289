"""Worker processes announce they are alive: readiness checks and operators read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.models.base import Base


class WorkerHeartbeat(Base):
    """One row per worker process, touched every few seconds while it runs and removed when it
    stops cleanly; a stale row is a worker that died (its jobs are taken over by lease)."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
    threads: Mapped[int]
    running: Mapped[int] = mapped_column(doc="jobs running in the process at the last beat")
