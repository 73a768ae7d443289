"""Actual against theoretical usage of a storage unit between two counts.

For the period after the opening count's day up to and including the closing count's day
(counts are at the close of their day), per ingredient counted by the closing count:

    actual usage      = opening + receipts + moves in − moves out − waste − closing
    theoretical usage = the POS deductions (ISSUE movements, reruns and recipe expansion
                        included) of the business days in the period
    variance          = actual − theoretical    (more used than sold is positive: a loss)

``closing`` is the counted quantity; ``opening`` the balance at the opening count's moment
(its counted quantity where it counted the ingredient), computed as ``closing`` minus the
period's net movements, so one grouped query over the period's movements gives everything.
Because every count adjustment fixes a balance, ``variance`` equals minus the sum of the
period's count adjustments: with no count in between, minus the closing count's adjustment.
Quantities are in base units; money (variance × the ingredient's cost per base unit) and
percent (of theoretical usage) per line; totals in money only, never across units.
Theoretical usage counts only transferred days: ``untransferred`` names the period's days a
location deducting from the unit has not transferred yet (``core.stock.pending``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from stockpot.core.db import quantize
from stockpot.core.errors import ValidationFailed
from stockpot.core.exact import format_decimal
from stockpot.core.lookup import storage_unit_by_name
from stockpot.core.models import (
    Company,
    Ingredient,
    LedgerMovement,
    MovementType,
    StockCountLine,
    StorageUnit,
)
from stockpot.core.stock.costs import value
from stockpot.core.stock.ledger import live_count_lines
from stockpot.core.stock.pending import Untransferred, untransferred, untransferred_note

ZERO = Decimal(0)


@dataclass(frozen=True)
class VarianceLine:
    ingredient: str
    unit: str
    opening: Decimal
    receipts: Decimal
    moves: Decimal
    """Net moves in (in − out)."""
    waste: Decimal
    closing: Decimal
    theoretical: Decimal
    cost: Decimal | None

    @property
    def actual(self) -> Decimal:
        return self.opening + self.receipts + self.moves - self.waste - self.closing

    @property
    def variance(self) -> Decimal:
        return self.actual - self.theoretical

    @property
    def percent(self) -> Decimal | None:
        """Variance as a percentage of theoretical usage (none without theoretical usage)."""
        if self.theoretical == 0:
            return None
        return (self.variance * 100 / self.theoretical).quantize(Decimal("0.1"))

    @property
    def value(self) -> Decimal | None:
        return value(self.variance, self.cost)

    def to_json(self) -> dict[str, Any]:
        def text(amount: Decimal | None) -> str | None:
            return None if amount is None else format_decimal(amount)

        return {
            "ingredient": self.ingredient,
            "unit": self.unit,
            "opening": text(self.opening),
            "receipts": text(self.receipts),
            "moves": text(self.moves),
            "waste": text(self.waste),
            "closing": text(self.closing),
            "actual": text(self.actual),
            "theoretical": text(self.theoretical),
            "variance": text(self.variance),
            "percent": text(self.percent),
            "cost": text(self.cost),
            "value": text(self.value),
        }


@dataclass
class Variance:
    company: str
    currency: str
    storage_unit: str
    opening_date: date
    closing_date: date
    lines: list[VarianceLine] = field(default_factory=list)
    untransferred: list[Untransferred] = field(default_factory=list)
    """Days of the period whose sales theoretical usage does not count yet."""

    def note(self, again: str) -> str | None:
        """The sentence saying which sales are not counted yet (``again``: the command that
        shows this variance again), or ``None``."""
        return untransferred_note(self.untransferred, again)

    @property
    def total_value(self) -> Decimal:
        """Money only: quantities of different ingredients do not add up."""
        return sum((line.value for line in self.lines if line.value is not None), ZERO)

    @property
    def uncosted(self) -> list[str]:
        return [line.ingredient for line in self.lines if line.cost is None]

    def to_json(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "currency": self.currency,
            "storage_unit": self.storage_unit,
            "opening_count": self.opening_date.isoformat(),
            "closing_count": self.closing_date.isoformat(),
            "total_value": format_decimal(self.total_value),
            "uncosted": self.uncosted,
            "untransferred": [item.to_json() for item in self.untransferred],
            "lines": [line.to_json() for line in self.lines],
        }


def count_dates(session: Session, company_id: int, unit_id: int) -> list[date]:
    """The business dates a storage unit was counted on (live counts), oldest first."""
    return list(
        session.scalars(
            select(StockCountLine.business_date)
            .where(
                StockCountLine.company_id == company_id,
                StockCountLine.storage_unit_id == unit_id,
                live_count_lines(),
            )
            .distinct()
            .order_by(StockCountLine.business_date)
        )
    )


def parse_period(text: str | None, dates: list[date], unit: str) -> tuple[date, date]:
    """``last`` (or nothing): the last two counts; ``D``: the period the count of D closes;
    ``D1..D2``: from the count of D1 to the count of D2."""
    shown = ", ".join(day.isoformat() for day in dates[-6:]) or "none"
    if len(dates) < 2:
        raise ValidationFailed(
            f"storage unit '{unit}' needs two counts for a variance (counted on: {shown}); "
            "count it with `/stock count` or `stockpot stock count`"
        )
    text = (text or "last").strip()
    if text == "last":
        return dates[-2], dates[-1]
    try:
        if ".." in text:
            first, _, last = text.partition("..")
            opening, closing = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
        else:
            closing = date.fromisoformat(text)
            opening = max((day for day in dates if day < closing), default=closing)
    except ValueError:
        raise ValidationFailed(
            f"period '{text}' should be last, a count date (2026-11-30) or two count dates "
            "(2026-11-01..2026-11-30)"
        ) from None
    for day in (opening, closing):
        if day not in dates:
            raise ValidationFailed(
                f"'{unit}' was not counted on {day}; a period runs from one count to another "
                f"(last counts: {shown})"
            )
    if opening >= closing:
        raise ValidationFailed(
            f"period '{text}': the opening count must come before the closing count "
            f"(last counts of '{unit}': {shown})"
        )
    return opening, closing


def variance(
    session: Session, company: Company, unit_name: str, period: str | None = None
) -> Variance:
    unit = storage_unit_by_name(session, company, unit_name)
    opening, closing = parse_period(period, count_dates(session, company.id, unit.id), unit.name)
    return period_variance(session, company, unit, opening, closing)


def period_variance(
    session: Session, company: Company, unit: StorageUnit, opening: date, closing: date
) -> Variance:
    """One grouped query: the period's movements per ingredient, joined to the closing count."""
    movement = LedgerMovement

    def of(*kinds: MovementType) -> Any:
        return func.sum(case((movement.type.in_(kinds), movement.quantity)))

    sums = (
        select(
            movement.ingredient_id.label("ingredient_id"),
            of(MovementType.RECEIPT).label("receipts"),
            of(MovementType.TRANSFER_IN, MovementType.TRANSFER_OUT).label("moves"),
            of(MovementType.WASTE).label("waste"),
            of(MovementType.ISSUE).label("issues"),
            func.sum(movement.quantity).label("net"),
        )
        .where(
            movement.company_id == company.id,
            movement.storage_unit_id == unit.id,
            movement.business_date > opening,
            movement.business_date <= closing,
        )
        .group_by(movement.ingredient_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Ingredient.name,
            Ingredient.base_unit,
            Ingredient.cost,
            StockCountLine.counted,
            sums.c.receipts,
            sums.c.moves,
            sums.c.waste,
            sums.c.issues,
            sums.c.net,
        )
        .select_from(StockCountLine)
        .join(Ingredient, Ingredient.id == StockCountLine.ingredient_id)
        .outerjoin(sums, sums.c.ingredient_id == StockCountLine.ingredient_id)
        .where(
            and_(
                StockCountLine.company_id == company.id,
                StockCountLine.storage_unit_id == unit.id,
                StockCountLine.business_date == closing,
            ),
            live_count_lines(),
        )
    ).tuples()
    lines = []
    for name, base, cost, counted, receipts, moves, waste, issues, net in rows:
        lines.append(
            VarianceLine(
                ingredient=name,
                unit=base.value,
                opening=quantize(counted - _zero(net)),
                receipts=_zero(receipts),
                moves=_zero(moves),
                waste=-_zero(waste),
                closing=counted,
                theoretical=-_zero(issues),
                cost=cost,
            )
        )
    lines.sort(key=lambda line: (-abs(line.value or ZERO), line.value is None, line.ingredient))
    pending = untransferred(session, company.id, unit.id, opening + timedelta(days=1), closing)
    return Variance(company.name, company.currency, unit.name, opening, closing, lines, pending)


def _zero(amount: Decimal | None) -> Decimal:
    return ZERO if amount is None else amount


def closed_by(session: Session, company: Company, count_id: int) -> Variance | None:
    """The variance of the period a count closes, if its storage unit was counted before."""
    line = session.scalar(
        select(StockCountLine).where(StockCountLine.posting_id == count_id).limit(1)
    )
    if line is None:
        return None
    earlier = [
        day
        for day in count_dates(session, company.id, line.storage_unit_id)
        if day < line.business_date
    ]
    if not earlier:
        return None
    unit = session.get_one(StorageUnit, line.storage_unit_id)
    return period_variance(session, company, unit, earlier[-1], line.business_date)


def last_periods(session: Session, company: Company) -> list[Variance]:
    """The last period of every storage unit counted at least twice."""
    found = []
    for unit in session.scalars(
        select(StorageUnit).where(StorageUnit.company_id == company.id).order_by(StorageUnit.name)
    ):
        dates = count_dates(session, company.id, unit.id)
        if len(dates) >= 2:
            found.append(period_variance(session, company, unit, dates[-2], dates[-1]))
    return found
