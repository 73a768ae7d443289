"""A location's setup: which storage unit its sales are taken from, whether it is active, and
whether its days are transferred automatically.

A location can only be activated once it is linked to a storage unit of its own company.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from stockpot.core.errors import NotFound, ValidationFailed
from stockpot.core.jobs import schedule
from stockpot.core.jobs.queue import jobs_by_location, pending_since
from stockpot.core.jobs.schedule import MissedDays
from stockpot.core.migration import migration_running
from stockpot.core.models import (
    AutomaticTransfer,
    ExternalLocation,
    JobKind,
    StorageUnit,
)
from stockpot.core.storage import archived_refusal
from stockpot.core.transfer.log import latest_day_run


@dataclass(frozen=True)
class LocationOverview:
    """A location as its setup screens show it."""

    id: int
    name: str
    connection: str
    """Its connection's key (``sides:SIDES``), as the CLI prints and takes it."""
    connection_shown: str
    """Its connection as users know it (``SIDES``, ``Kasse (CSV)``): what Slack shows."""
    external_id: str
    timezone: str
    business_day_start: time
    storage_unit: str | None
    storage_unit_id: int | None
    active: bool
    automatic_transfer: str
    migration_since: datetime | None = None
    """When a pending migration of it started (or was queued, see ``migration_started``);
    ``None`` when none is pending. Its own message shows progress and Cancel."""
    migration_started: bool = False

    @property
    def migrating(self) -> bool:
        """A migration of it is queued or running (as of when the overview was read)."""
        return self.migration_since is not None

    @property
    def from_csv(self) -> bool:
        """Fed by uploaded files: nothing to fetch, so no automatic transfer or migration."""
        return self.connection.startswith("csv:")


def overview(
    session: Session, company_id: int
) -> tuple[list[LocationOverview], list[tuple[int, str]]]:
    """The company's locations by name, and the storage units (id, name) that can be chosen,
    by name (archived ones keep their history but are no choice)."""
    every = session.execute(
        select(StorageUnit.id, StorageUnit.name, StorageUnit.archived_at).where(
            StorageUnit.company_id == company_id
        )
    ).all()
    names = {unit_id: name for unit_id, name, _ in every}
    migrating = pending_since(session, JobKind.MIGRATION, company_id)
    units = sorted(
        ((unit_id, name) for unit_id, name, archived in every if archived is None),
        key=lambda unit: unit[1],
    )
    rows = [
        LocationOverview(
            id=location.id,
            name=location.name,
            connection=location.connection.label,
            connection_shown=location.connection.shown,
            external_id=location.external_id,
            timezone=location.timezone,
            business_day_start=location.business_day_start,
            storage_unit=names.get(location.storage_unit_id or 0),
            storage_unit_id=location.storage_unit_id,
            active=location.active,
            automatic_transfer=location.automatic_transfer.value,
            migration_since=migrating.get(location.id, (None, False))[0],
            migration_started=migrating.get(location.id, (None, False))[1],
        )
        for location in session.scalars(
            select(ExternalLocation)
            .where(ExternalLocation.company_id == company_id)
            .options(selectinload(ExternalLocation.connection))
            .order_by(ExternalLocation.name)
        )
    ]
    return rows, units


def link_storage_unit(
    session: Session, location: ExternalLocation, storage_unit: str | int
) -> StorageUnit:
    """Take the location's sales from this storage unit (by name, or by id from a form)."""
    query = select(StorageUnit).where(StorageUnit.company_id == location.company_id)
    if isinstance(storage_unit, int):
        # Another company's unit is refused exactly as a missing one, naming no id: a select
        # value comes back through the client, and "belongs to another company" told a
        # forger which ids were other companies' units.
        unit = session.get(StorageUnit, storage_unit)
        if unit is not None and unit.company_id != location.company_id:
            unit = None
    else:
        unit = session.scalar(query.where(StorageUnit.name == storage_unit))
    if unit is None:
        known = ", ".join(
            session.scalars(
                select(StorageUnit.name)
                .where(StorageUnit.company_id == location.company_id)
                .order_by(StorageUnit.name)
            )
        )
        asked = "that" if isinstance(storage_unit, int) else f"'{storage_unit}'"
        raise NotFound(f"{asked} is no storage unit of this company (known: {known or 'none'})")
    if unit.archived_at is not None:
        raise ValidationFailed(archived_refusal(unit.name))
    location.storage_unit_id = unit.id
    return unit


def set_active(session: Session, location: ExternalLocation, active: bool) -> None:
    """Activation refuses, naming the reason: no storage unit, one of another company, or a
    migration still running."""
    if active and migration_running(session, location.id):
        raise ValidationFailed(
            f"location '{location.name}' is being migrated; activate it when the migration ends"
        )
    if active:
        if location.storage_unit_id is None:
            raise ValidationFailed(
                f"location '{location.name}' cannot be activated before it is linked to a "
                "storage unit (the unit its sales are taken from)"
            )
        unit = session.get_one(StorageUnit, location.storage_unit_id)
        if unit.company_id != location.company_id:
            raise ValidationFailed(
                f"location '{location.name}' is linked to a storage unit of another company; "
                "link one of its own company first"
            )
    if active and not location.active:
        schedule.activate(location)
    location.active = active


def set_transfer_time(location: ExternalLocation, at: time) -> None:
    """When each business day is transferred: ``at`` local time, once the day has closed.
    Days already covered keep their place; the next due day moves to the new time."""
    location.transfer_time = at


def set_automatic(session: Session, location: ExternalLocation, active: bool) -> MissedDays | None:
    """Pause or resume automatic transfers; setup and history are kept either way. Resuming
    returns the days that fell due while paused (to offer catching them up)."""
    if active:
        if location.automatic_transfer is AutomaticTransfer.ACTIVE:
            return None
        return schedule.resume(session, location)
    schedule.pause(location)
    return None


@dataclass(frozen=True)
class TransferStatus:
    """One location's automatic transfer state and latest work (``/transfer status`` and
    ``stockpot transfer status``)."""

    name: str
    active: bool
    automatic: str
    transfer_time: str | None
    """``HH:MM`` local; ``None`` for CSV locations (their days come from files)."""
    last_run: str | None
    """The latest business date's run, ``2026-11-27 posted``; ``None`` before the first."""
    pending: int
    failed: str | None
    """The latest failed job: ``transfer of 2026-11-27 failed: …``."""


def transfer_statuses(session: Session, company_id: int) -> list[TransferStatus]:
    jobs = jobs_by_location(session, company_id)
    rows = []
    for location in session.scalars(
        select(ExternalLocation)
        .where(ExternalLocation.company_id == company_id)
        .order_by(ExternalLocation.name)
    ):
        last = latest_day_run(session, location.id)
        waiting = jobs.get(location.id)
        failed = None
        if waiting and waiting.failed:
            job = waiting.failed
            day = f" of {job.business_date}" if job.business_date else ""
            failed = f"{job.kind.value}{day} failed: {job.last_error}"
        rows.append(
            TransferStatus(
                name=location.name,
                active=location.active,
                automatic=location.automatic_transfer.value,
                transfer_time=None
                if location.connection.provider.from_files
                else f"{location.transfer_time:%H:%M}",
                last_run=f"{last.business_date} {(last.outcome or last.status).value}"
                if last
                else None,
                pending=waiting.pending if waiting else 0,
                failed=failed,
            )
        )
    return rows
