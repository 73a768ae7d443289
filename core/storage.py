"""Storage units: where stock is kept. Each belongs to one company; names are unique in it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from stockpot.core.db import utcnow
from stockpot.core.errors import ValidationFailed
from stockpot.core.lookup import fold, name_problem, nul_problem, storage_unit_by_name
from stockpot.core.models import ExternalLocation, Recipe, RecipeLine, StorageUnit


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
    name = _checked_name(name)
    problem = nul_problem(address)
    if problem is not None:
        raise ValidationFailed(f"an address: {problem}")
    _refuse_taken(session, company_id, name)
    unit = StorageUnit(company_id=company_id, name=name, address=address)
    session.add(unit)
    session.flush()
    return unit


def archived_refusal(name: str, then: str = "or use another unit") -> str:
    """What a posting to an archived unit is told (stock postings, corrections, location
    links, Slack); ``then``: the other way out, after unarchiving it."""
    return (
        f"storage unit '{name}' is archived: nothing can be posted to it; bring it back with "
        f"`/pos storage unarchive {name}` {then}"
    )


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed("a storage unit needs a name")
    if len(name) > 200:
        raise ValidationFailed("a storage unit's name has at most 200 characters")
    problem = name_problem(name)
    if problem is not None:
        raise ValidationFailed(problem)
    return name


def _refuse_taken(
    session: Session, company_id: int, name: str, renamed_id: int | None = None
) -> None:
    """Units are found by name regardless of case, accents and spaces (as in the catalog
    file), so a second unit whose name differs only by those is refused like the same name:
    "kitchen" beside "Kitchen" left "KITCHEN" naming neither."""
    units = session.execute(
        select(StorageUnit.id, StorageUnit.name).where(StorageUnit.company_id == company_id)
    )
    wanted = fold(name)
    for unit_id, existing in units:
        if unit_id != renamed_id and fold(existing) == wanted:
            alike = (
                ""
                if existing == name
                else " (names are found regardless of case, accents and spaces)"
            )
            raise ValidationFailed(f"there is already a storage unit named '{existing}'{alike}")


def rename_storage_unit(
    session: Session, company_id: int, old: str, new: str
) -> tuple[str, StorageUnit]:
    """Rename a unit (its name before, and the unit): its movements, links and recipes
    follow (they refer to it by id)."""
    unit = storage_unit_by_name(session, company_id, old)
    before = unit.name
    name = _checked_name(new)
    _refuse_taken(session, company_id, name, unit.id)
    unit.name = name
    session.flush()
    return before, unit


def archive_storage_unit(
    session: Session, company_id: int, name: str, *, archived: bool = True
) -> StorageUnit:
    """Archive a unit (hidden from choices, nothing can be posted to it, its history kept),
    or bring it back. Refused while a location takes its sales from it or a recipe issues
    from it, naming them: their stock would have nowhere to go."""
    unit = storage_unit_by_name(session, company_id, name)
    if not archived:
        if unit.archived_at is None:
            raise ValidationFailed(f"storage unit '{unit.name}' is not archived; nothing changed")
        unit.archived_at = None
        return unit
    if unit.archived_at is not None:
        raise ValidationFailed(f"storage unit '{unit.name}' is already archived")
    locations = list(
        session.scalars(
            select(ExternalLocation.name)
            .where(ExternalLocation.storage_unit_id == unit.id)
            .order_by(ExternalLocation.name)
        )
    )
    if locations:
        raise ValidationFailed(
            f"'{unit.name}' cannot be archived: {', '.join(locations)} take their sales from "
            "it; link them to another storage unit first (`/pos locations`)"
        )
    recipes = list(
        session.scalars(
            select(Recipe.name)
            .where(Recipe.company_id == company_id)
            .where(
                or_(
                    Recipe.default_issue_storage_id == unit.id,
                    Recipe.lines.any(RecipeLine.issue_storage_id == unit.id),
                )
            )
            .order_by(Recipe.name)
        )
    )
    if recipes:
        raise ValidationFailed(
            f"'{unit.name}' cannot be archived: the recipes {', '.join(recipes)} issue from "
            "it; change their issue storage in the catalog first"
        )
    unit.archived_at = utcnow()
    return unit


def unit_choices(session: Session, company_id: int) -> list[str]:
    """The names a person may choose from (archived units are no choice), by name."""
    return list(
        session.scalars(
            select(StorageUnit.name)
            .where(StorageUnit.company_id == company_id, StorageUnit.archived_at.is_(None))
            .order_by(StorageUnit.name)
        )
    )


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
