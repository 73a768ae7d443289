"""Reading a transfer's snapshot from the database: the day's mappings and their recipes.

Plain column queries, not ORM objects: a large company has thousands of recipe lines and
this runs on every transfer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Ingredient, IngredientMeasure, PosItem, PosMapping, Recipe, RecipeLine
from core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeLineSpec,
    RecipeSpec,
    RecipeTarget,
    Snapshot,
    Target,
)
from core.units import Unit, conversion_factor


def load_snapshot(
    session: Session, company_id: int, connection_id: int, keys: Iterable[str]
) -> Snapshot:
    wanted = set(keys)
    mappings: dict[str, Target | None] = dict.fromkeys(wanted)
    rows = session.execute(
        select(
            PosItem.key,
            PosMapping.ingredient_id,
            PosMapping.recipe_id,
            PosMapping.factor,
            PosMapping.ignored,
        )
        .join(PosMapping, PosMapping.pos_item_id == PosItem.id)
        .where(PosItem.connection_id == connection_id)
    )
    for key, ingredient_id, recipe_id, factor, ignored in rows:
        if key not in wanted:
            continue
        if ignored:
            mappings[key] = Ignored()
        elif ingredient_id is not None:
            mappings[key] = IngredientTarget(ingredient_id, Fraction(factor))
        else:
            mappings[key] = RecipeTarget(recipe_id, Fraction(factor))
    roots = {t.recipe_id for t in mappings.values() if isinstance(t, RecipeTarget)}
    return Snapshot(mappings=mappings, recipes=_recipes(session, company_id, roots))


def _recipes(session: Session, company_id: int, roots: set[int]) -> dict[int, RecipeSpec]:
    """The recipes reachable from ``roots``, every ingredient line in base units."""
    if not roots:
        return {}
    headers = {
        recipe_id: (name, portions, default_storage)
        for recipe_id, name, portions, default_storage in session.execute(
            select(Recipe.id, Recipe.name, Recipe.portions, Recipe.default_issue_storage_id).where(
                Recipe.company_id == company_id
            )
        )
    }
    lines: dict[int, list[tuple]] = defaultdict(list)
    for row in session.execute(
        select(
            RecipeLine.recipe_id,
            RecipeLine.ingredient_id,
            RecipeLine.sub_recipe_id,
            RecipeLine.quantity,
            RecipeLine.unit,
            RecipeLine.trim,
            RecipeLine.issue_storage_id,
        )
        .join(Recipe, Recipe.id == RecipeLine.recipe_id)
        .where(Recipe.company_id == company_id)
        .order_by(RecipeLine.recipe_id, RecipeLine.position)
    ):
        lines[row[0]].append(row[1:])
    reachable: set[int] = set()
    pending = list(roots)
    while pending:
        recipe_id = pending.pop()
        if recipe_id not in reachable:
            reachable.add(recipe_id)
            pending.extend(line[1] for line in lines[recipe_id] if line[1] is not None)
    factor = _conversions(session, company_id)
    result: dict[int, RecipeSpec] = {}
    for recipe_id in reachable:
        name, portions, default_storage = headers[recipe_id]
        specs = []
        for ingredient_id, sub_recipe_id, quantity, unit, trim, storage in lines[recipe_id]:
            amount = Fraction(quantity)
            if ingredient_id is not None:
                amount *= factor(ingredient_id, unit)
            specs.append(
                RecipeLineSpec(ingredient_id, sub_recipe_id, amount, Fraction(trim), storage)
            )
        result[recipe_id] = RecipeSpec(
            recipe_id, name, Fraction(portions), default_storage, tuple(specs)
        )
    return result


def _conversions(session: Session, company_id: int) -> Callable[[int, Unit], Fraction]:
    """Base units per recipe-line unit, per ingredient, memoised for this snapshot."""
    ingredients = {
        ingredient_id: (name, base)
        for ingredient_id, name, base in session.execute(
            select(Ingredient.id, Ingredient.name, Ingredient.base_unit).where(
                Ingredient.company_id == company_id
            )
        )
    }
    measures: dict[int, dict[Unit, Decimal]] = defaultdict(dict)
    for ingredient_id, unit, amount in session.execute(
        select(IngredientMeasure.ingredient_id, IngredientMeasure.unit, IngredientMeasure.amount)
        .join(Ingredient, Ingredient.id == IngredientMeasure.ingredient_id)
        .where(Ingredient.company_id == company_id)
    ):
        measures[ingredient_id][unit] = amount
    memo: dict[tuple[int, Unit], Fraction] = {}

    def factor(ingredient_id: int, unit: Unit) -> Fraction:
        key = (ingredient_id, unit)
        if key not in memo:
            name, base = ingredients[ingredient_id]
            memo[key] = conversion_factor(unit, base, measures[ingredient_id], name)
        return memo[key]

    return factor
