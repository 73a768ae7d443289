"""Sales a variance cannot see yet: the days of a period not transferred at a location whose
sales deduct from the storage unit (an active location linked to it).

A count is at the close of its day, but a location's day is transferred only once it is due
(after its day start next morning, ``core.jobs.schedule``), or, at a CSV location, once its
CSV file is imported (no due time). A count tonight, before tonight's
sales are transferred, reads "sold 0" for today: every ingredient sold today looks like a
loss. One rule, read by the variance job's message, ``/ledger variance`` and
``stockpot ledger variance``: they say so, naming a few days and locations.

Only days from the location's start count (``location_start``): a location added last week
had nothing to transfer before, and a page of "not transferred" days would hide the one
that matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.business_day import business_date_of
from stockpot.core.db import utcnow
from stockpot.core.jobs.schedule import Clock
from stockpot.core.models import Connection, ExternalLocation, TransferDay
from stockpot.core.words import local_time, named_day, plural

DAYS_NAMED = 2
LOCATIONS_NAMED = 2


@dataclass(frozen=True)
class Untransferred:
    """The days of a period one location has no live transfer for, oldest first."""

    location: str
    timezone: ZoneInfo
    days: tuple[date, ...]
    due: datetime | None
    """When the last of them is (or was) due to be transferred, in UTC; ``None`` at a CSV
    location, whose days are transferred when its CSV file is imported."""

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "days": [day.isoformat() for day in self.days],
            "due": self.due.isoformat() if self.due else None,
        }


def untransferred(
    session: Session, company_id: int, unit_id: int, first: date, last: date
) -> list[Untransferred]:
    """Per active location linked to the unit, the days from ``first`` (or its start) to
    ``last`` without a live transfer run."""
    rows = session.execute(
        select(ExternalLocation, Connection.provider)
        .join(ExternalLocation.connection)
        .where(
            ExternalLocation.company_id == company_id,
            ExternalLocation.storage_unit_id == unit_id,
            ExternalLocation.active.is_(True),
        )
        .order_by(ExternalLocation.name)
    ).all()
    locations = [location for location, _ in rows]
    if not locations or last < first:
        return []
    done = set(
        session.execute(
            select(TransferDay.location_id, TransferDay.business_date).where(
                TransferDay.location_id.in_([location.id for location in locations]),
                TransferDay.business_date.between(first, last),
                TransferDay.live_run_id.is_not(None),
            )
        ).tuples()
    )
    earliest = dict(
        session.execute(
            select(TransferDay.location_id, func.min(TransferDay.business_date))
            .where(
                TransferDay.location_id.in_([location.id for location in locations]),
                TransferDay.live_run_id.is_not(None),
            )
            .group_by(TransferDay.location_id)
        )
        .tuples()
        .all()
    )
    period = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = []
    for location, provider in rows:
        start = location_start(location, earliest.get(location.id))
        days = tuple(day for day in period if day >= start and (location.id, day) not in done)
        if days:
            clock = Clock.of(location)
            due = None if provider.from_files else clock.due_at(days[-1])
            found.append(Untransferred(location.name, clock.timezone, days, due))
    return found


def location_start(location: ExternalLocation, first_transferred: date | None) -> date:
    """The first business date whose sales Stockpot expects from ``location``: the first day
    its activation covers (``activated_since``; earlier days are what a migration is for),
    else the day it was added, or its first transferred day when that is earlier (a migration
    or an older CSV file reaches back before both).

    Not ``automatic_since``, which a resume moves to the next due day: a location paused and
    resumed before its first transfer had its paused days, whose sales are still missing,
    dropped from the note (the resume offers them for catching up; the note must name them
    until they are)."""
    clock = Clock.of(location)
    began = (
        location.activated_since
        or location.automatic_since
        or business_date_of(location.created_at, clock.timezone, clock.day_start)
    )
    return began if first_transferred is None else min(began, first_transferred)


def untransferred_note(
    pending: list[Untransferred], again: str, now: datetime | None = None
) -> str | None:
    """One short sentence for a kitchen manager, or ``None`` when every day is transferred:
    ``Sales of Sat 05 Dec at Filiale Mitte (due 2026-12-06 06:00 CET) are not transferred yet:
    theoretical usage counts none of them; run `/ledger variance Lager` again after the
    transfer.`` A CSV location's part reads ``at Main room (transferred when its CSV file is
    imported)``: it has no due time. ``again`` is the command that shows the variance again."""
    if not pending:
        return None
    now = now or utcnow()
    parts = [_part(item, now) for item in pending[:LOCATIONS_NAMED]]
    rest = len(pending) - LOCATIONS_NAMED
    if rest > 0:
        parts.append(f"of {plural(rest, 'more location')}")
    what = _joined(parts)
    return (
        f"Sales {what} are not transferred yet: theoretical usage counts none of them; "
        f"run {again} again after the transfer."
    )


def _part(item: Untransferred, now: datetime) -> str:
    days = [named_day(day) for day in item.days[:DAYS_NAMED]]
    rest = len(item.days) - DAYS_NAMED
    if rest > 0:
        days.append(plural(rest, "more day"))
    return f"of {_joined(days)} at {item.location}{_when(item, now)}"


def _when(item: Untransferred, now: datetime) -> str:
    if item.due is None:
        return " (transferred when its CSV file is imported)"
    return f" (due {local_time(item.due, item.timezone, now)})" if item.due > now else ""


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
