"""Why an ingredient's stock moved on a day: the POS items behind the deduction, how many were
sold, what each took and the recipe path it went through.

Built on the one trace there is (``transfer.trace``: the run's stored lines and snapshot
recomputed through the engine's ``RecipeTree``), over the live sales movements of the period,
so the contributions add up to what the ledger holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.exact import format_decimal, fraction_to_decimal
from stockpot.core.lookup import catalog_row_by_name, storage_unit_by_name
from stockpot.core.models import (
    ExternalLocation,
    Ingredient,
    LedgerMovement,
    MovementType,
    RecipeLine,
    TransferDay,
    TransferRun,
)
from stockpot.core.transfer.lines import item_key
from stockpot.core.transfer.live import run_snapshot
from stockpot.core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeLineSpec,
    RecipeSpec,
    Snapshot,
    Target,
)
from stockpot.core.transfer.trace import TracedLine, trace
from stockpot.core.units import UnitError, conversion_factor


@dataclass
class WhyItem:
    name: str
    pos_code: str | None
    location: str
    """Where it sold: two locations (a CSV till and a POS) may each sell a "Pizza Hawaii"."""
    sold: Decimal = Decimal(0)
    lines: int = 0
    contribution: Decimal = Decimal(0)
    """Signed like the ledger: negative is taken from stock."""
    path: str = ""
    """How one sale reaches the ingredient: ``1 portion of Margherita → 0.25 portions of
    Pizza dough → 200 g Flour per portion (trim 5 %)``."""


@dataclass(frozen=True)
class WhyLine:
    """One sales line behind the movement: for the file with every line."""

    business_date: date
    location: str
    line: TracedLine


@dataclass
class Why:
    ingredient: str
    unit: str
    storage_unit: str | None
    first: date
    last: date
    from_sales: Decimal = Decimal(0)
    """The live ISSUE movements of the period: what the POS sales took."""
    other: dict[str, Decimal] = field(default_factory=dict)
    """Net of every other movement type in the period (receipts, waste, counts, moves)."""
    items: list[WhyItem] = field(default_factory=list)
    """Largest contribution first."""
    lines: list[WhyLine] = field(default_factory=list)
    days: int = 0
    """Transferred days with a deduction of it."""


AmountText = Callable[[Decimal, str], str]
"""How a quantity of a unit is written: exact for the CLI and files, rounded for people."""


def exact_amount(value: Decimal, unit: str) -> str:
    return f"{format_decimal(value)} {unit}"


def ingredient_by_name(session: Session, company_id: int, name: str) -> Ingredient:
    return catalog_row_by_name(session, Ingredient, company_id, name)


def explain(
    session: Session,
    company_id: int,
    ingredient_name: str,
    first: date,
    last: date,
    storage_name: str | None = None,
    written: AmountText = exact_amount,
) -> Why:
    ingredient = ingredient_by_name(session, company_id, ingredient_name)
    storage = storage_unit_by_name(session, company_id, storage_name) if storage_name else None
    why = Why(ingredient.name, ingredient.base_unit.value, storage and storage.name, first, last)
    scope = [
        LedgerMovement.company_id == company_id,
        LedgerMovement.ingredient_id == ingredient.id,
        LedgerMovement.business_date >= first,
        LedgerMovement.business_date <= last,
    ]
    if storage is not None:
        scope.append(LedgerMovement.storage_unit_id == storage.id)
    live = list(
        session.execute(
            select(LedgerMovement, ExternalLocation.name)
            .join(TransferDay, TransferDay.live_run_id == LedgerMovement.run_id)
            .join(TransferRun, TransferRun.id == LedgerMovement.run_id)
            .join(ExternalLocation, ExternalLocation.id == TransferRun.location_id)
            .where(*scope, LedgerMovement.type == MovementType.ISSUE)
            .where(LedgerMovement.reverses_id.is_(None))
            .order_by(LedgerMovement.business_date, LedgerMovement.id)
        ).tuples()
    )
    for kind, quantity in session.execute(
        select(LedgerMovement.type, func.sum(LedgerMovement.quantity))
        .where(*scope, LedgerMovement.type != MovementType.ISSUE)
        .group_by(LedgerMovement.type)
    ):
        if quantity:
            why.other[kind.value] = Decimal(quantity)
    why.days = len({movement.business_date for movement, _ in live})
    items: dict[tuple[str, str | None, str], WhyItem] = {}
    snapshots: dict[int, tuple[Snapshot, int] | None] = {}
    for movement, location in live:
        why.from_sales += movement.quantity
        run_id = movement.run_id
        assert run_id is not None
        if run_id not in snapshots:
            snapshots[run_id] = run_snapshot(session, run_id)
        stored = snapshots[run_id]
        for traced in trace(session, movement.id):
            why.lines.append(WhyLine(movement.business_date, location, traced))
            identity = (location, traced.pos_code, traced.name)
            item = items.get(identity)
            if item is None:
                item = items[identity] = WhyItem(traced.name, traced.pos_code, location)
                if stored is not None:
                    snapshot, _ = stored
                    target = snapshot.mappings.get(item_key(traced.pos_code, traced.name))
                    item.path = _path(
                        session,
                        target,
                        snapshot.recipes,
                        ingredient,
                        movement.storage_unit_id,
                        stored[1],
                        written,
                    )
            item.sold += traced.quantity
            item.lines += 1
            item.contribution += traced.contribution
    why.items = sorted(items.values(), key=lambda i: (-abs(i.contribution), i.name))
    return why


def _portions(value: Fraction) -> str:
    return f"{format_decimal(fraction_to_decimal(value))} portion{'' if value == 1 else 's'}"


def _path(
    session: Session,
    target: Target | None,
    recipes: Mapping[int, RecipeSpec],
    ingredient: Ingredient,
    storage_unit_id: int,
    location_storage_id: int,
    written: AmountText,
) -> str:
    """One sale's way to the ingredient in that storage unit, as the engine expands it."""
    unit = ingredient.base_unit.value

    def _amount(value: Fraction, unit: str) -> str:
        return written(fraction_to_decimal(value), unit)

    if target is None or isinstance(target, Ignored):
        return ""
    if isinstance(target, IngredientTarget):
        return f"{_amount(target.factor, unit)} of {ingredient.name} per sale"

    def walk(recipe_id: int, inherited: int, seen: tuple[int, ...]) -> list[str] | None:
        recipe = recipes.get(recipe_id)
        if recipe is None or recipe_id in seen:
            return None
        fallback = recipe.default_issue_storage_id or inherited
        portions = recipe.portions
        per = "" if portions == 1 else f" per {_portions(portions)}"
        for line in recipe.lines:
            storage = line.issue_storage_id or fallback
            if line.ingredient_id == ingredient.id and storage == storage_unit_id:
                written_in, size = _recipe_unit(session, recipe_id, ingredient, line)
                gross = _amount(line.quantity / (1 - line.trim) / size, written_in)
                trim = (
                    f", trim {format_decimal(fraction_to_decimal(line.trim * 100))} % "
                    f"(takes {gross})"
                )
                return [
                    f"{_amount(line.quantity / size, written_in)} {ingredient.name}{per}"
                    + (trim if line.trim else "")
                ]
            if line.sub_recipe_id is not None:
                below = walk(line.sub_recipe_id, storage, (*seen, recipe_id))
                if below is not None:
                    sub = recipes[line.sub_recipe_id]
                    return [f"{_portions(line.quantity)} of {sub.name}{per}", *below]
        return None

    steps = walk(target.recipe_id, location_storage_id, ())
    top = recipes.get(target.recipe_id)
    head = f"{_portions(target.factor)} of {top.name if top else '?'} per sale"
    return " → ".join([head, *(steps or [])])


def _recipe_unit(
    session: Session, recipe_id: int, ingredient: Ingredient, line: RecipeLineSpec
) -> tuple[str, Fraction]:
    """The unit the recipe writes the line in (``/pos recipe`` says "125 g" of an ingredient
    kept in kg) and how many base units one of it is; the base unit when the recipe no
    longer has the line (the run's snapshot keeps base units only)."""
    base = ingredient.base_unit
    units = session.execute(
        select(RecipeLine.unit, RecipeLine.issue_storage_id)
        .where(RecipeLine.recipe_id == recipe_id, RecipeLine.ingredient_id == ingredient.id)
        .order_by(RecipeLine.position)
    ).all()
    unit = next((u for u, storage in units if storage == line.issue_storage_id), None)
    if unit is None or unit is base:
        return base.value, Fraction(1)
    measures = {measure.unit: measure.amount for measure in ingredient.measures}
    try:
        return unit.value, conversion_factor(unit, base, measures, ingredient.name)
    except UnitError:  # its measure was removed since: the base unit says it all the same
        return base.value, Fraction(1)


def why_csv_rows(why: Why) -> list[list[object]]:
    """Every sales line behind the deduction, for the attached file (exact values)."""
    return [
        [
            entry.business_date.isoformat(),
            entry.location,
            entry.line.sale_id,
            entry.line.line_id,
            entry.line.pos_code or "",
            entry.line.name,
            entry.line.quantity,
            entry.line.contribution,
            why.unit,
        ]
        for entry in why.lines
    ]


WHY_CSV_HEADER = [
    "business_date",
    "location",
    "sale_id",
    "line_id",
    "pos_code",
    "item",
    "quantity_sold",
    "contribution",
    "unit",
]
