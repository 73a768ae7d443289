"""Storage units: where stock is kept. Each belongs to one company; names are unique in it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.errors import ValidationFailed
from stockpot.core.models import ExternalLocation, StorageUnit


@dataclass(frozen=True)
class StorageRow:
    name: str
    address: str
    locations: int
    archived: bool


def create_storage_unit(session: Session, company_id: int, name: str, address: str) -> StorageUnit:
    name, address = name.strip(), address.strip()
    if not name or not address:
        raise ValidationFailed("a storage unit needs a name and an address")
    if len(name) > 200:
        raise ValidationFailed("a storage unit's name has at most 200 characters")
    taken = session.scalar(
        select(StorageUnit.id).where(StorageUnit.company_id == company_id, StorageUnit.name == name)
    )
    if taken is not None:
        raise ValidationFailed(f"there is already a storage unit named '{name}'")
    unit = StorageUnit(company_id=company_id, name=name, address=address)
    session.add(unit)
    session.flush()
    return unit


def storage_units(session: Session, company_id: int) -> list[StorageRow]:
    linked = dict(
        session.execute(
            select(ExternalLocation.storage_unit_id, func.count(ExternalLocation.id))
            .where(ExternalLocation.company_id == company_id)
            .group_by(ExternalLocation.storage_unit_id)
        )
        .tuples()
        .all()
    )
    return [
        StorageRow(unit.name, unit.address, linked.get(unit.id, 0), unit.archived_at is not None)
        for unit in session.scalars(
            select(StorageUnit)
            .where(StorageUnit.company_id == company_id)
            .order_by(StorageUnit.name)
        )
    ]
