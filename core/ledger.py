"""Reading the ledger: balances (sums over an index), movements, and tracing a movement back
to the sales lines that caused it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.exact import format_decimal
from stockpot.core.models import (
    Company,
    ExternalLocation,
    Ingredient,
    LedgerMovement,
    StockPosting,
    StorageUnit,
)
from stockpot.core.stock.costs import value


@dataclass(frozen=True)
class StockLine:
    """A quantity of one ingredient in one storage unit, in its base unit: a balance, or what
    a run posted."""

    storage_unit: str
    ingredient: str
    unit: str
    quantity: Decimal
    value: Decimal | None = None
    """A balance at the ingredient's cost per base unit, when it has one."""

    def to_json(self) -> dict[str, str]:
        data = {
            "storage_unit": self.storage_unit,
            "ingredient": self.ingredient,
            "unit": self.unit,
            "quantity": format_decimal(self.quantity),
        }
        if self.value is not None:
            data["value"] = format_decimal(self.value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> StockLine:
        value = data.get("value")
        return cls(
            data["storage_unit"],
            data["ingredient"],
            data["unit"],
            Decimal(data["quantity"]),
            None if value is None else Decimal(value),
        )


@dataclass(frozen=True)
class Valued:
    """A run's movements with their values, and the currency those are in."""

    lines: list[StockLine]
    currency: str


def valued(session: Session, location_id: int, lines: Sequence[StockLine]) -> Valued:
    """A run's movements (named, as a transfer report holds them) with their value at each
    ingredient's cost now, where it has one: what ranks a report's largest deductions by
    money. Read when a report is shown, not by the run (a cost change is no catalog change)."""
    company_id, currency = session.execute(
        select(Company.id, Company.currency)
        .join(ExternalLocation, ExternalLocation.company_id == Company.id)
        .where(ExternalLocation.id == location_id)
    ).one()
    if not lines:
        return Valued([], currency)
    names = sorted({line.ingredient for line in lines})
    costs = dict(
        session.execute(
            select(Ingredient.name, Ingredient.cost).where(
                Ingredient.company_id == company_id, Ingredient.name.in_(names)
            )
        )
        .tuples()
        .all()
    )
    return Valued(
        [replace(line, value=value(line.quantity, costs.get(line.ingredient))) for line in lines],
        currency,
    )


def balances(session: Session, company: Company) -> list[StockLine]:
    """Stock per storage unit and ingredient: the sum of its movements, in base units, and
    its value at the ingredient's cost."""
    total = func.sum(LedgerMovement.quantity)
    rows = session.execute(
        select(StorageUnit.name, Ingredient.name, Ingredient.base_unit, Ingredient.cost, total)
        .select_from(LedgerMovement)
        .join(StorageUnit, StorageUnit.id == LedgerMovement.storage_unit_id)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .where(LedgerMovement.company_id == company.id)
        .group_by(StorageUnit.name, Ingredient.name, Ingredient.base_unit, Ingredient.cost)
        .order_by(StorageUnit.name, Ingredient.name)
    )
    return [
        StockLine(unit, ingredient, base.value, quantity, value(quantity, cost))
        for unit, ingredient, base, cost, quantity in rows
    ]


@dataclass(frozen=True)
class MovementTotal:
    """The movements of one ingredient in one storage unit over a period, summed."""

    storage_unit: str
    ingredient: str
    unit: str
    quantity: Decimal
    movements: int


def movement_totals(
    session: Session,
    company: Company,
    date_from: date,
    date_to: date,
    storage_unit: str | None = None,
) -> list[MovementTotal]:
    """Net change per storage unit and ingredient over business dates ``date_from`` to
    ``date_to`` (corrections included, so it is what the period really did), largest first."""
    query = (
        select(
            StorageUnit.name,
            Ingredient.name,
            Ingredient.base_unit,
            func.sum(LedgerMovement.quantity),
            func.count(LedgerMovement.id),
        )
        .select_from(LedgerMovement)
        .join(StorageUnit, StorageUnit.id == LedgerMovement.storage_unit_id)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .where(
            LedgerMovement.company_id == company.id,
            LedgerMovement.business_date >= date_from,
            LedgerMovement.business_date <= date_to,
        )
        .group_by(StorageUnit.name, Ingredient.name, Ingredient.base_unit)
    )
    if storage_unit is not None:
        query = query.where(StorageUnit.name == storage_unit)
    rows = [
        MovementTotal(unit_name, name, base.value, quantity, count)
        for unit_name, name, base, quantity, count in session.execute(query)
    ]
    return sorted(rows, key=lambda r: (r.quantity, r.storage_unit, r.ingredient))


@dataclass(frozen=True)
class MovementRow:
    id: int
    type: str
    storage_unit: str
    ingredient: str
    unit: str
    quantity: Decimal
    business_date: date
    run_id: int | None
    reverses_id: int | None
    created_at: datetime
    posting_id: int | None = None
    """The stock posting (count, receipt, waste, move, correction) that posted it."""
    count_id: int | None = None
    """For an adjustment: the count it belongs to."""
    posted_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "posting_id": self.posting_id,
            "count_id": self.count_id,
            "posted_by": self.posted_by,
            "id": self.id,
            "type": self.type,
            "storage_unit": self.storage_unit,
            "ingredient": self.ingredient,
            "unit": self.unit,
            "quantity": format_decimal(self.quantity),
            "business_date": self.business_date.isoformat(),
            "run_id": self.run_id,
            "reverses": self.reverses_id,
            "created_at": self.created_at.isoformat(),
        }


def movements(
    session: Session, company: Company, date_from: date, date_to: date
) -> list[MovementRow]:
    """Movements of business dates ``date_from`` to ``date_to`` inclusive, oldest first."""
    rows = session.execute(
        select(
            LedgerMovement,
            StorageUnit.name,
            Ingredient.name,
            Ingredient.base_unit,
            StockPosting.posted_by,
        )
        .join(StorageUnit, StorageUnit.id == LedgerMovement.storage_unit_id)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .outerjoin(StockPosting, StockPosting.id == LedgerMovement.posting_id)
        .where(
            LedgerMovement.company_id == company.id,
            LedgerMovement.business_date >= date_from,
            LedgerMovement.business_date <= date_to,
        )
        .order_by(LedgerMovement.business_date, LedgerMovement.id)
    )
    return [
        MovementRow(
            id=movement.id,
            type=movement.type.value,
            storage_unit=unit,
            ingredient=ingredient,
            unit=base.value,
            quantity=movement.quantity,
            business_date=movement.business_date,
            run_id=movement.run_id,
            reverses_id=movement.reverses_id,
            created_at=movement.created_at,
            posting_id=movement.posting_id,
            count_id=movement.count_id,
            posted_by=posted_by,
        )
        for movement, unit, ingredient, base, posted_by in rows
    ]
