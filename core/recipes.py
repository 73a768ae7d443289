"""A recipe as people check it: its lines, quantities, trim, sub-recipes and where each line
is issued from (the reference product's troubleshooting step "check recipe ingredients").

Read-only; the catalog import is the one writer of recipes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.exact import format_decimal
from stockpot.core.lookup import catalog_row_by_name
from stockpot.core.models import Connection, Ingredient, PosItem, PosMapping, Recipe, StorageUnit
from stockpot.core.units import with_unit
from stockpot.core.words import figure

DEPTH = 3
"""Sub-recipes are shown this many levels down; deeper ones are named, not expanded."""

LOCATION_STORAGE = "the location's storage unit"


@dataclass(frozen=True)
class RecipeLineView:
    kind: str
    """``ingredient`` or ``recipe`` (a sub-recipe)."""
    name: str
    quantity: Decimal
    unit: str
    """The unit as written in the recipe, or ``portions`` of a sub-recipe."""
    trim: Decimal
    """Fraction lost in preparation (0.1 = 10 %); the gross taken is quantity / (1 - trim)."""
    issue_storage: str
    """Where this line is taken from: its own storage, the recipe's default, or the location's."""
    lines: list[RecipeLineView] = field(default_factory=list)
    """A sub-recipe's own lines (up to ``DEPTH`` levels), for all the portions it makes."""
    makes: Decimal | None = None
    """Portions a sub-recipe's lines make (its lines are for all of them, not one)."""


def amount_text(quantity: Decimal, unit: str) -> str:
    """``125 g``, ``1 portion``, ``0.5 portions``, ``1 pc``."""
    return with_unit(figure(quantity), unit)


def trim_text(trim: Decimal) -> str:
    return f"trim {format_decimal(trim * 100)} %" if trim else ""


@dataclass(frozen=True)
class RecipeView:
    name: str
    portions: Decimal
    active: bool
    default_issue_storage: str | None
    lines: list[RecipeLineView]
    sold_as: list[str]
    """POS items mapped to it: ``Pizza Margherita (101, sides:SIDES) × 1 portion``."""
    used_in: list[str]
    """Recipes that use it as a sub-recipe."""


def recipe_by_name(session: Session, company_id: int, name: str) -> Recipe:
    """The company's recipe called ``name`` (case and accents aside), or a ``NotFound`` naming
    the closest ones."""
    return catalog_row_by_name(session, Recipe, company_id, name)


def recipe_view(session: Session, company_id: int, name: str) -> RecipeView:
    recipe = recipe_by_name(session, company_id, name)
    storages: dict[int, str] = {
        unit_id: unit_name
        for unit_id, unit_name in session.execute(
            select(StorageUnit.id, StorageUnit.name).where(StorageUnit.company_id == company_id)
        )
    }
    ingredients = {
        ingredient_id: (ingredient_name, base_unit.value)
        for ingredient_id, ingredient_name, base_unit in session.execute(
            select(Ingredient.id, Ingredient.name, Ingredient.base_unit).where(
                Ingredient.company_id == company_id
            )
        )
    }
    sold_as = [
        f"{item.name} ({item.external_id or item.key}) via {connection.shown} × "
        f"{format_decimal(mapping.factor)} portion{'s' if mapping.factor != 1 else ''}"
        for item, mapping, connection in session.execute(
            select(PosItem, PosMapping, Connection)
            .join(PosMapping, PosMapping.pos_item_id == PosItem.id)
            .join(Connection, Connection.id == PosItem.connection_id)
            .where(PosMapping.recipe_id == recipe.id)
            .order_by(PosItem.name)
        ).tuples()
    ]
    used_in = list(
        session.scalars(
            select(Recipe.name)
            .where(Recipe.company_id == company_id, Recipe.lines.any(sub_recipe_id=recipe.id))
            .order_by(Recipe.name)
        )
    )

    def lines_of(current: Recipe, inherited: str, depth: int) -> list[RecipeLineView]:
        fallback = (
            storages[current.default_issue_storage_id]
            if current.default_issue_storage_id is not None
            else inherited
        )
        views = []
        for line in current.lines:
            storage = storages[line.issue_storage_id] if line.issue_storage_id else fallback
            if line.ingredient_id is not None:
                ingredient_name, base_unit = ingredients[line.ingredient_id]
                views.append(
                    RecipeLineView(
                        "ingredient",
                        ingredient_name,
                        line.quantity,
                        line.unit.value if line.unit is not None else base_unit,
                        line.trim,
                        storage,
                    )
                )
                continue
            sub = session.get_one(Recipe, line.sub_recipe_id)
            views.append(
                RecipeLineView(
                    "recipe",
                    sub.name,
                    line.quantity,
                    "portions",
                    Decimal(0),
                    storage,
                    lines_of(sub, storage, depth + 1) if depth < DEPTH else [],
                    sub.portions,
                )
            )
        return views

    return RecipeView(
        name=recipe.name,
        portions=recipe.portions,
        active=recipe.active,
        default_issue_storage=storages.get(recipe.default_issue_storage_id or 0),
        lines=lines_of(recipe, LOCATION_STORAGE, 1),
        sold_as=sold_as,
        used_in=used_in,
    )
