"""The unmapped working list: what was sold but not deducted, most-sold first.

Read from the live runs of each day (what the ledger currently reflects), so an item mapped
since, or a day rerun since, drops out by itself.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.ids import parse_id
from stockpot.core.models import (
    Connection,
    ExternalLocation,
    Ingredient,
    PosItem,
    PosMapping,
    Recipe,
    TransferDay,
    TransferRun,
)

WINDOW_DAYS = 90
"""How far back the working list looks, from the latest transferred day."""
"""How far back the working list looks, from the latest transferred day."""


@dataclass
class UnmappedRow:
    pos_item_id: int | None
    """``None`` when the item is not in the catalog (it is added on the next transfer)."""
    connection: str
    key: str
    code: str | None
    name: str
    quantity: Decimal = Decimal(0)
    days: set[tuple[int, date]] = field(default_factory=set)
    """(location id, business date) of each day it was sold unmapped."""


def _latest_day(session: Session, company_id: int) -> date | None:
    """The company's latest business date with a live run."""
    return session.scalar(
        select(func.max(TransferDay.business_date)).where(
            TransferDay.company_id == company_id, TransferDay.live_run_id.is_not(None)
        )
    )


def _live_runs(session: Session, company_id: int, days: int) -> list[Any]:
    """(run id, location id, business date, unmapped items, connection) of each day's live
    run, for the last ``days`` days up to and including the company's latest transferred day
    (not today: a company importing history, or paused for a while, still gets its list)."""
    latest = _latest_day(session, company_id)
    if latest is None:
        return []
    since = latest - timedelta(days=days - 1)
    return list(
        session.execute(
            select(
                TransferRun.id,
                TransferRun.location_id,
                TransferRun.business_date,
                TransferRun.unmapped,
                Connection,
            )
            .join(TransferDay, TransferDay.live_run_id == TransferRun.id)
            .join(ExternalLocation, ExternalLocation.id == TransferRun.location_id)
            .join(Connection, Connection.id == ExternalLocation.connection_id)
            .where(TransferRun.company_id == company_id, TransferRun.business_date >= since)
        ).all()
    )


def days_unmapped(
    session: Session, item: PosItem, days: int = WINDOW_DAYS
) -> set[tuple[int, date]]:
    """The (location, business date) pairs whose live run sold ``item`` unmapped: the days a
    new mapping changes, and so the ones to rerun."""
    return {
        (location_id, business_date)
        for _, location_id, business_date, items, connection in _live_runs(
            session, item.company_id, days
        )
        if connection.id == item.connection_id
        and any(entry["key"] == item.key for entry in items or [])
    }


def unmapped(session: Session, company_id: int, days: int = WINDOW_DAYS) -> list[UnmappedRow]:
    live = _live_runs(session, company_id, days)
    mapped = {
        (connection_id, key): item_id
        for connection_id, key, item_id, has_mapping in session.execute(
            select(PosItem.connection_id, PosItem.key, PosItem.id, PosMapping.id.is_not(None))
            .outerjoin(PosMapping, PosMapping.pos_item_id == PosItem.id)
            .where(PosItem.company_id == company_id)
        )
        if not has_mapping
    }
    rows: dict[tuple[int, str], UnmappedRow] = {}
    for _, location_id, business_date, items, connection in live:
        for item in items or []:
            identity = (connection.id, item["key"])
            if identity not in mapped:
                continue
            row = rows.get(identity)
            if row is None:
                row = rows[identity] = UnmappedRow(
                    mapped[identity],
                    connection.label,
                    item["key"],
                    item.get("pos_code"),
                    item["name"],
                )
            row.quantity += Decimal(item["quantity"])
            row.days.add((location_id, business_date))
    return sorted(rows.values(), key=lambda r: (-abs(r.quantity), r.name))


@dataclass(frozen=True)
class Target:
    kind: str
    """``ingredient`` or ``recipe``."""
    id: int
    name: str
    unit: str
    """What the factor counts: the ingredient's base unit, or ``portions``."""

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


def targets(session: Session, company_id: int, text: str = "", limit: int = 50) -> list[Target]:
    """Active ingredients and recipes whose name contains ``text``, ingredients first."""
    pattern = f"%{text.strip()}%"
    found = [
        Target("ingredient", ingredient_id, name, base_unit.value)
        for ingredient_id, name, base_unit in session.execute(
            select(Ingredient.id, Ingredient.name, Ingredient.base_unit)
            .where(Ingredient.company_id == company_id, Ingredient.active.is_(True))
            .where(Ingredient.name.ilike(pattern))
            .order_by(Ingredient.name)
            .limit(limit)
        )
    ]
    found += [
        Target("recipe", recipe_id, name, "portions")
        for recipe_id, name in session.execute(
            select(Recipe.id, Recipe.name)
            .where(Recipe.company_id == company_id, Recipe.active.is_(True))
            .where(Recipe.name.ilike(pattern))
            .order_by(Recipe.name)
            .limit(limit)
        )
    ]
    return found


def target_named(session: Session, company_id: int, value: str) -> Target | None:
    """The target behind an option value (``ingredient:12``), if it is this company's."""
    kind, _, raw_id = value.partition(":")
    row_id = parse_id(raw_id)
    if row_id is None:
        return None
    if kind == "ingredient":
        ingredient = session.get(Ingredient, row_id)
        if ingredient is not None and ingredient.company_id == company_id:
            return Target(kind, ingredient.id, ingredient.name, ingredient.base_unit.value)
    if kind == "recipe":
        recipe = session.get(Recipe, row_id)
        if recipe is not None and recipe.company_id == company_id:
            return Target(kind, recipe.id, recipe.name, "portions")
    return None


def closest_target(session: Session, company_id: int, name: str) -> Target | None:
    """A suggestion only: the user confirms it, nothing is mapped automatically."""
    candidates = targets(session, company_id, limit=10_000)
    names = {target.name.casefold(): target for target in candidates}
    best = difflib.get_close_matches(name.casefold(), list(names), n=1, cutoff=0.5)
    return names[best[0]] if best else None


def coverage(session: Session, company_id: int, days: int = 7) -> Decimal | None:
    """Share of the quantity sold over the last ``days`` transferred days that is mapped
    (ignored items count as mapped: they were decided), or ``None`` before any transfer.
    Each run's statistics hold the quantity of its lines per disposition."""
    live = [row[0] for row in _live_runs(session, company_id, days)]
    if not live:
        return None
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (stats,) in session.execute(select(TransferRun.stats).where(TransferRun.id.in_(live))):
        for disposition, quantity in (stats or {}).get("quantities", {}).items():
            totals[disposition] += Decimal(quantity)
    decided = totals["mapped"] + totals["ignored"]
    whole = decided + totals["unmapped"]
    return None if whole == 0 else decided / whole
