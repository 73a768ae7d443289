"""The sales lines of a day's live run, read back from the raw lines it stored.

Sources without a POS to fetch from again (CSV imports) rerun a day from these. A
connector's own skip reasons are not restored: CSV lines never carry one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.models import RawSaleLine, TransferDay
from stockpot.core.transfer.lines import LineKind, SaleLine


def live_lines(session: Session, location_id: int, business_date: date) -> list[SaleLine]:
    """The lines the live run of (location, date) transferred; none when no run is live."""
    live_run_id = session.scalar(
        select(TransferDay.live_run_id).where(
            TransferDay.location_id == location_id, TransferDay.business_date == business_date
        )
    )
    if live_run_id is None:
        return []
    return [stored_line(row) for row in stored_rows(session, live_run_id)]


def stored_rows(session: Session, run_id: int) -> list[RawSaleLine]:
    """A run's raw lines, in the order it read them."""
    return list(
        session.scalars(
            select(RawSaleLine).where(RawSaleLine.run_id == run_id).order_by(RawSaleLine.position)
        )
    )


def stored_line(row: RawSaleLine) -> SaleLine:
    """A raw line as the engine read it (for reruns and for tracing a movement)."""
    return SaleLine(
        sale_id=row.sale_id,
        line_id=row.line_id,
        pos_code=row.pos_code,
        name=row.name,
        quantity=row.quantity,
        parent_line_id=row.parent_line_id,
        voided=row.voided,
        cancelled=row.cancelled,
        kind=LineKind(row.kind),
    )
