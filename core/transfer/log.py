"""The transfer log: the runs of a location's business date, newest last."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.models import ExternalLocation, RunKind, TransferRun


def runs_of_day(
    session: Session, location: ExternalLocation, business_date: date
) -> list[TransferRun]:
    return list(
        session.scalars(
            select(TransferRun)
            .where(
                TransferRun.location_id == location.id,
                TransferRun.business_date == business_date,
            )
            .order_by(TransferRun.id)
        )
    )


def last_run(session: Session, location_id: int) -> TransferRun | None:
    """The newest run."""
    return session.scalar(
        select(TransferRun)
        .where(TransferRun.location_id == location_id)
        .order_by(TransferRun.id.desc())
        .limit(1)
    )


def latest_day_run(session: Session, location_id: int) -> TransferRun | None:
    """The newest run of the latest business date transferred (previews aside): what the
    location's ledger now reflects, whatever order days were rerun in."""
    return session.scalar(
        select(TransferRun)
        .where(TransferRun.location_id == location_id, TransferRun.kind != RunKind.DRY_RUN)
        .order_by(TransferRun.business_date.desc(), TransferRun.id.desc())
        .limit(1)
    )


def run_to_json(run: TransferRun) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "business_date": run.business_date.isoformat(),
        "kind": run.kind.value,
        "status": run.status.value,
        "outcome": run.outcome.value if run.outcome else None,
        "generation": run.generation,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "triggered_by": run.triggered_by,
        "stats": run.stats,
        "errors": run.errors,
        "unmapped": run.unmapped,
        "skipped": run.skipped,
        "superseded_by": run.superseded_by_id,
    }
