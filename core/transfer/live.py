"""The sales lines of a day's live run, read back from the raw lines it stored.

Sources without a POS to fetch from again (CSV imports) rerun a day from these. A
connector's own skip reasons are not restored: CSV lines never carry one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.errors import ValidationFailed
from stockpot.core.models import Connection, ExternalLocation, RawSaleLine, TransferDay
from stockpot.core.transfer.lines import LineKind, SaleLine


def take_turn(session: Session, connection_id: int) -> None:
    """Imports, undos and reruns of a CSV connection's days take turns (a row lock on the
    connection on PostgreSQL; SQLite's write lock already serialises them): each reads a
    day's live lines and posts the next run, so two at once would drop the other's lines,
    bring undone lines back, or both pass the duplicate check. Taken before any day's lock,
    always in that order."""
    session.execute(select(Connection.id).where(Connection.id == connection_id).with_for_update())


def rerun_lines(location_id: int, business_date: date) -> Callable[[Session], list[SaleLine]]:
    """A ``LinesReader`` for a day with no POS to ask again: under the connection's turn,
    the lines its live run stored (the imports of that day)."""

    def read(session: Session) -> list[SaleLine]:
        location = session.get_one(ExternalLocation, location_id)
        take_turn(session, location.connection_id)
        lines = live_lines(session, location_id, business_date)
        if not lines:
            raise ValidationFailed(
                f"{location.name} has no CSV import for {business_date}; import a file for that day"
            )
        return lines

    return read


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
