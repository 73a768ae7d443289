"""The sales lines a run read, read back: to rerun a day from them (sources without a POS to
fetch from again, such as CSV imports) and to trace a movement to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.errors import ValidationFailed
from stockpot.core.models import (
    Connection,
    ExternalLocation,
    TransferDay,
    TransferRun,
    TransferRunLines,
    TransferSnapshot,
)
from stockpot.core.transfer.engine import run_engine
from stockpot.core.transfer.line_store import decode_lines
from stockpot.core.transfer.lines import SaleLine
from stockpot.core.transfer.snapshot import Snapshot


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
    return [] if live_run_id is None else run_lines(session, live_run_id)


def live_lines_of_days(
    session: Session, days: Sequence[tuple[int, date]]
) -> dict[tuple[int, date], list[SaleLine]]:
    """``live_lines`` of many (location, date) pairs in one query per location."""
    found: dict[tuple[int, date], list[SaleLine]] = {day: [] for day in days}
    by_location: dict[int, list[date]] = defaultdict(list)
    for location_id, business_date in days:
        by_location[location_id].append(business_date)
    for location_id, dates in by_location.items():
        stored = session.execute(
            select(TransferDay.business_date, TransferRunLines.layout, TransferRunLines.body)
            .join(TransferRunLines, TransferRunLines.run_id == TransferDay.live_run_id)
            .where(TransferDay.location_id == location_id, TransferDay.business_date.in_(dates))
        )
        for business_date, layout, body in stored:
            found[(location_id, business_date)] = decode_lines(body, layout)
    return found


def run_lines(session: Session, run_id: int) -> list[SaleLine]:
    """A run's lines in their canonical order (the order its engine read them); none for a
    run that posted nothing."""
    stored = session.execute(
        select(TransferRunLines.layout, TransferRunLines.body).where(
            TransferRunLines.run_id == run_id
        )
    ).first()
    return [] if stored is None else decode_lines(stored.body, stored.layout)


@dataclass(frozen=True)
class StoredLine:
    line: SaleLine
    disposition: str
    """What the run did with it: mapped, unmapped, ignored or skipped:<reason>."""


def run_dispositions(session: Session, run_id: int) -> list[StoredLine]:
    """A run's lines with what it did with each: recomputed from the lines and the snapshot
    the run stored (the engine is a pure function of both), so nothing per line is stored."""
    stored = run_snapshot(session, run_id)
    lines = run_lines(session, run_id)
    if stored is None or not lines:
        return []
    result = run_engine(lines, *stored)
    return [
        StoredLine(line, disposition)
        for line, disposition in zip(lines, result.dispositions, strict=True)
    ]


def run_snapshot(session: Session, run_id: int) -> tuple[Snapshot, int] | None:
    """The snapshot a run computed with, and the storage unit it issued from."""
    body = session.scalar(
        select(TransferSnapshot.body)
        .join(TransferRun, TransferRun.snapshot_digest == TransferSnapshot.digest)
        .where(TransferRun.id == run_id)
    )
    return None if body is None else Snapshot.parse(body)
