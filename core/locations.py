"""A location's setup: which storage unit its sales are taken from, and whether it is active.

A location can only be activated once it is linked to a storage unit of its own company.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound, ValidationFailed
from core.models import ExternalLocation, StorageUnit


def link_storage_unit(
    session: Session, location: ExternalLocation, storage_unit: str
) -> StorageUnit:
    unit = session.scalar(
        select(StorageUnit).where(
            StorageUnit.company_id == location.company_id, StorageUnit.name == storage_unit
        )
    )
    if unit is None:
        known = ", ".join(
            session.scalars(
                select(StorageUnit.name)
                .where(StorageUnit.company_id == location.company_id)
                .order_by(StorageUnit.name)
            )
        )
        raise NotFound(
            f"no storage unit '{storage_unit}' in this company (known: {known or 'none'})"
        )
    if unit.archived_at is not None:
        raise ValidationFailed(f"storage unit '{storage_unit}' is archived")
    location.storage_unit_id = unit.id
    return unit


def set_active(location: ExternalLocation, active: bool) -> None:
    if active and location.storage_unit_id is None:
        raise ValidationFailed(
            f"location '{location.name}' cannot be activated before it is linked to a storage "
            "unit (the unit its sales are taken from)"
        )
    location.active = active
