"""Reading a transfer's snapshot from the database: the day's mappings and their recipes."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Ingredient, PosItem, PosMapping, Recipe
from core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeLineSpec,
    RecipeSpec,
    RecipeTarget,
    Snapshot,
    Target,
)
from core.units import conversion_factor


def load_snapshot(
    session: Session, company_id: int, connection_id: int, keys: Iterable[str]
) -> Snapshot:
    wanted = set(keys)
    mappings: dict[str, Target | None] = dict.fromkeys(wanted)
    rows = session.execute(
        select(PosItem.key, PosMapping)
        .join(PosMapping, PosMapping.pos_item_id == PosItem.id)
        .where(PosItem.connection_id == connection_id)
    )
    for key, mapping in rows:
        if key in wanted:
            mappings[key] = _target(mapping)
    recipe_ids = {t.recipe_id for t in mappings.values() if isinstance(t, RecipeTarget)}
    return Snapshot(mappings=mappings, recipes=_recipes(session, company_id, recipe_ids))


def _target(mapping: PosMapping) -> Target:
    if mapping.ignored:
        return Ignored()
    assert mapping.factor is not None
    if mapping.ingredient_id is not None:
        return IngredientTarget(mapping.ingredient_id, Fraction(mapping.factor))
    assert mapping.recipe_id is not None
    return RecipeTarget(mapping.recipe_id, Fraction(mapping.factor))


def _recipes(session: Session, company_id: int, roots: set[int]) -> dict[int, RecipeSpec]:
    """The recipes reachable from ``roots``, every ingredient line in base units."""
    if not roots:
        return {}
    recipes = {
        recipe.id: recipe
        for recipe in session.scalars(select(Recipe).where(Recipe.company_id == company_id))
    }
    ingredients = {
        ingredient.id: ingredient
        for ingredient in session.scalars(
            select(Ingredient).where(Ingredient.company_id == company_id)
        )
    }
    reachable: dict[int, RecipeSpec] = {}
    pending = list(roots)
    while pending:
        recipe = recipes[pending.pop()]
        if recipe.id in reachable:
            continue
        lines = []
        for line in recipe.lines:
            quantity = Fraction(line.quantity)
            if line.ingredient_id is not None:
                ingredient = ingredients[line.ingredient_id]
                assert line.unit is not None
                measures = {measure.unit: measure.amount for measure in ingredient.measures}
                quantity *= conversion_factor(
                    line.unit, ingredient.base_unit, measures, ingredient.name
                )
            elif line.sub_recipe_id is not None:
                pending.append(line.sub_recipe_id)
            lines.append(
                RecipeLineSpec(
                    ingredient_id=line.ingredient_id,
                    sub_recipe_id=line.sub_recipe_id,
                    quantity=quantity,
                    trim=Fraction(line.trim),
                    issue_storage_id=line.issue_storage_id,
                )
            )
        reachable[recipe.id] = RecipeSpec(
            recipe_id=recipe.id,
            name=recipe.name,
            portions=Fraction(recipe.portions),
            default_issue_storage_id=recipe.default_issue_storage_id,
            lines=tuple(lines),
        )
    return reachable
