"""Reading a transfer's snapshot from the database: the day's mappings and their recipes.

Plain column queries, not ORM objects: a large company has thousands of recipe lines and
this runs on every transfer.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Select, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from stockpot.core.exact import decimal_fractions
from stockpot.core.models import (
    Ingredient,
    IngredientMeasure,
    PosItem,
    PosMapping,
    Recipe,
    RecipeLine,
)
from stockpot.core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeLineSpec,
    RecipeSpec,
    RecipeTarget,
    Snapshot,
    Target,
)
from stockpot.core.units import Unit, conversion_factor


def _mapping_rows(connection_id: int) -> Select[Any]:
    return (
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


def _recipe_rows(company_id: int) -> Select[Any]:
    return select(Recipe.id, Recipe.name, Recipe.portions, Recipe.default_issue_storage_id).where(
        Recipe.company_id == company_id
    )


def _recipe_line_rows(company_id: int) -> Select[Any]:
    return (
        select(
            RecipeLine.recipe_id,
            RecipeLine.ingredient_id,
            RecipeLine.sub_recipe_id,
            RecipeLine.quantity,
            RecipeLine.unit,
            RecipeLine.trim,
            RecipeLine.issue_storage_id,
            RecipeLine.position,
        )
        .join(Recipe, Recipe.id == RecipeLine.recipe_id)
        .where(Recipe.company_id == company_id)
        .order_by(RecipeLine.recipe_id, RecipeLine.position)
    )


def _ingredient_rows(company_id: int) -> Select[Any]:
    return select(Ingredient.id, Ingredient.name, Ingredient.base_unit).where(
        Ingredient.company_id == company_id
    )


def _measure_rows(company_id: int) -> Select[Any]:
    return (
        select(IngredientMeasure.ingredient_id, IngredientMeasure.unit, IngredientMeasure.amount)
        .join(Ingredient, Ingredient.id == IngredientMeasure.ingredient_id)
        .where(Ingredient.company_id == company_id)
    )


def _sources(company_id: int, connection_id: int) -> list[Select[Any]]:
    """Every row a snapshot is built from."""
    return [
        _mapping_rows(connection_id),
        _recipe_rows(company_id),
        _recipe_line_rows(company_id),
        _ingredient_rows(company_id),
        _measure_rows(company_id),
    ]


def catalog_fingerprint(session: Session, company_id: int, connection_id: int) -> str:
    """A digest of every row a snapshot of this connection could be built from: equal
    fingerprints mean equal snapshots for any set of items. On PostgreSQL the rows are
    digested by the server (one round trip, nothing fetched); elsewhere here."""
    sources = _sources(company_id, connection_id)
    if session.get_bind().dialect.name == "postgresql":
        digests = []
        for number, source in enumerate(sources):
            rows = source.order_by(None).subquery(f"s{number}")
            row_text = literal_column(f"s{number}::text")
            digests.append(
                select(
                    func.md5(
                        func.coalesce(
                            func.string_agg(row_text, aggregate_order_by(literal("|"), row_text)),
                            "",
                        )
                    )
                )
                .select_from(rows)
                .scalar_subquery()
            )
        parts = session.execute(select(*digests)).one()
    else:
        parts = tuple(
            repr(sorted(map(tuple, session.execute(source)), key=repr)) for source in sources
        )
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def load_snapshot(
    session: Session, company_id: int, connection_id: int, keys: Iterable[str]
) -> Snapshot:
    wanted = set(keys)
    mappings: dict[str, Target | None] = dict.fromkeys(wanted)
    fraction = decimal_fractions()
    rows = session.execute(_mapping_rows(connection_id))
    for key, ingredient_id, recipe_id, factor, ignored in rows:
        if key not in wanted:
            continue
        if ignored:
            mappings[key] = Ignored()
        elif ingredient_id is not None:
            mappings[key] = IngredientTarget(ingredient_id, fraction(factor))
        else:
            mappings[key] = RecipeTarget(recipe_id, fraction(factor))
    roots = {t.recipe_id for t in mappings.values() if isinstance(t, RecipeTarget)}
    return Snapshot(mappings=mappings, recipes=_recipes(session, company_id, roots, fraction))


def _recipes(
    session: Session,
    company_id: int,
    roots: set[int],
    fraction: Callable[[Decimal], Fraction],
) -> dict[int, RecipeSpec]:
    """The recipes reachable from ``roots``, every ingredient line in base units."""
    if not roots:
        return {}
    headers = {
        recipe_id: (name, portions, default_storage)
        for recipe_id, name, portions, default_storage in session.execute(_recipe_rows(company_id))
    }
    lines: dict[int, list[tuple]] = defaultdict(list)
    for row in session.execute(_recipe_line_rows(company_id)):
        lines[row[0]].append(row[1:7])  # without the position, which orders them
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
            amount = fraction(quantity)
            if ingredient_id is not None:
                amount *= factor(ingredient_id, unit)
            specs.append(
                RecipeLineSpec(ingredient_id, sub_recipe_id, amount, fraction(trim), storage)
            )
        result[recipe_id] = RecipeSpec(
            recipe_id, name, fraction(portions), default_storage, tuple(specs)
        )
    return result


def _conversions(session: Session, company_id: int) -> Callable[[int, Unit], Fraction]:
    """Base units per recipe-line unit, per ingredient, memoised for this snapshot."""
    ingredients = {
        ingredient_id: (name, base)
        for ingredient_id, name, base in session.execute(_ingredient_rows(company_id))
    }
    measures: dict[int, dict[Unit, Decimal]] = defaultdict(dict)
    for ingredient_id, unit, amount in session.execute(_measure_rows(company_id)):
        measures[ingredient_id][unit] = amount
    memo: dict[tuple[int, Unit], Fraction] = {}

    def factor(ingredient_id: int, unit: Unit) -> Fraction:
        key = (ingredient_id, unit)
        if key not in memo:
            name, base = ingredients[ingredient_id]
            memo[key] = conversion_factor(unit, base, measures[ingredient_id], name)
        return memo[key]

    return factor
