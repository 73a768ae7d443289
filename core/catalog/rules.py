"""The catalog's consistency rules, checked on the catalog as it would be after a change.

One place for every rule, whoever edits the catalog (file import today, Slack modals later):
units exist and convert, lines name exactly one thing that exists, only active recipes are
used as sub-recipes, and no recipe contains itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from stockpot.core.lookup import closest
from stockpot.core.units import Unit, UnitError, conversion_factor, parse_unit

Where = tuple[str | int, ...] | str
"""A path in the input file, or a description of a stored row that the file does not name."""

Report = Callable[[Where, str], None]


@dataclass
class IngredientDef:
    name: str
    base_unit: str
    measures: dict[str, Decimal]
    active: bool
    where: Where


@dataclass
class RecipeLineDef:
    ingredient: str | None
    recipe: str | None
    quantity: Decimal
    unit: str | None
    trim: Decimal
    issue_storage: str | None
    where: Where


@dataclass
class RecipeDef:
    name: str
    portions: Decimal
    default_issue_storage: str | None
    active: bool
    lines: list[RecipeLineDef]
    where: Where


@dataclass
class CatalogDraft:
    """The whole catalog of a company as a change would leave it, keyed by name."""

    storage_units: dict[str, bool] = field(default_factory=dict)
    """Name → archived."""
    ingredients: dict[str, IngredientDef] = field(default_factory=dict)
    recipes: dict[str, RecipeDef] = field(default_factory=dict)


def ingredient_units(
    ingredient: IngredientDef, report: Report
) -> tuple[Unit, dict[Unit, Decimal]] | None:
    """The ingredient's base unit and measures as units, reporting what is wrong with them."""
    try:
        base = parse_unit(ingredient.base_unit)
    except UnitError as error:
        report(_child(ingredient.where, "base_unit"), str(error))
        return None
    measures: dict[Unit, Decimal] = {}
    for text, amount in ingredient.measures.items():
        where = _child(ingredient.where, "measures", text)
        try:
            unit = parse_unit(text)
        except UnitError as error:
            report(where, str(error))
            continue
        if unit.family is base.family:
            report(
                where,
                f"'{unit}' is a {unit.family} unit like the base unit '{base}'; that conversion "
                "is built in, a measure is only for another family",
            )
            continue
        clash = next((u for u in measures if u.family is unit.family), None)
        if clash is not None:
            report(where, f"a second {unit.family} measure ('{clash}' is already given)")
            continue
        measures[unit] = amount
    return base, measures


def check_catalog(draft: CatalogDraft, report: Report) -> None:
    units: dict[str, tuple[Unit, dict[Unit, Decimal]]] = {}
    for ingredient in draft.ingredients.values():
        parsed = ingredient_units(ingredient, report)
        if parsed is not None:
            units[ingredient.name] = parsed
    for recipe in draft.recipes.values():
        _check_recipe(recipe, draft, units, report)
    _check_cycles(draft, report)


def _check_storage(name: str | None, draft: CatalogDraft, where: Where, report: Report) -> None:
    if name is None:
        return
    if name not in draft.storage_units:
        known = ", ".join(sorted(draft.storage_units)) or "none yet"
        report(where, f"unknown storage unit '{name}' (known: {known})")
    elif draft.storage_units[name]:
        report(where, f"storage unit '{name}' is archived")


def _check_recipe(
    recipe: RecipeDef,
    draft: CatalogDraft,
    units: Mapping[str, tuple[Unit, dict[Unit, Decimal]]],
    report: Report,
) -> None:
    _check_storage(
        recipe.default_issue_storage,
        draft,
        _child(recipe.where, "default_issue_storage"),
        report,
    )
    if not recipe.lines:
        report(_child(recipe.where, "lines"), f"recipe '{recipe.name}' has no lines")
    for line in recipe.lines:
        _check_storage(line.issue_storage, draft, _child(line.where, "issue_storage"), report)
        if (line.ingredient is None) == (line.recipe is None):
            report(line.where, "a line names either an 'ingredient' or a 'recipe', exactly one")
            continue
        if line.ingredient is not None:
            _check_ingredient_line(line, draft, units, report)
        else:
            _check_sub_recipe_line(line, recipe, draft, report)


def _meant(name: str, known: Iterable[str]) -> str:
    """``; did you mean Mozzarella?`` for ``mozzarella`` or ``Mozarella``, else nothing."""
    close = closest(name, known)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _check_ingredient_line(
    line: RecipeLineDef,
    draft: CatalogDraft,
    units: Mapping[str, tuple[Unit, dict[Unit, Decimal]]],
    report: Report,
) -> None:
    assert line.ingredient is not None
    if line.ingredient not in draft.ingredients:
        report(
            _child(line.where, "ingredient"),
            f"unknown ingredient '{line.ingredient}'{_meant(line.ingredient, draft.ingredients)}",
        )
        return
    if line.unit is None:
        report(line.where, f"'unit' is required for ingredient '{line.ingredient}' (e.g. unit: g)")
        return
    if line.ingredient not in units:
        return
    try:
        unit = parse_unit(line.unit)
        base, measures = units[line.ingredient]
        conversion_factor(unit, base, measures, line.ingredient)
    except UnitError as error:
        report(line.where, str(error))


def _check_sub_recipe_line(
    line: RecipeLineDef, recipe: RecipeDef, draft: CatalogDraft, report: Report
) -> None:
    assert line.recipe is not None
    sub = draft.recipes.get(line.recipe)
    if sub is None:
        report(
            _child(line.where, "recipe"),
            f"unknown recipe '{line.recipe}'{_meant(line.recipe, draft.recipes)}",
        )
        return
    if not sub.active and recipe.active:
        report(
            line.where,
            f"sub-recipe '{line.recipe}' is inactive; only active recipes can be used in one",
        )
    if line.unit is not None:
        report(
            _child(line.where, "unit"),
            "a sub-recipe quantity is in its portions; remove 'unit'",
        )
    if line.trim:
        report(_child(line.where, "trim"), "trim applies to ingredient lines only")


def _check_cycles(draft: CatalogDraft, report: Report) -> None:
    """Depth-first search. Each cycle is reported once, at a line of the file when one of its
    lines is in the file (that is what the user can change), else where it closes."""
    done: set[str] = set()

    def visit(name: str, path: list[str], via: list[RecipeLineDef]) -> None:
        path.append(name)
        for line in draft.recipes[name].lines:
            target = line.recipe
            if target is None or target not in draft.recipes or target in done:
                continue
            if target in path:
                start = path.index(target)
                cycle = " → ".join([*path[start:], target])
                in_file = [e.where for e in (*via[start:], line) if isinstance(e.where, tuple)]
                where = in_file[0] if in_file else line.where
                report(where, f"recipes may not contain themselves: {cycle}")
                continue
            via.append(line)
            visit(target, path, via)
            via.pop()
        path.pop()
        done.add(name)

    # The file's recipes first, in the file's order, then the stored ones by name: a cycle is
    # told from where the user wrote it, the same on every database whatever order it reads in.
    starts = sorted(
        draft.recipes.values(),
        key=lambda recipe: (
            (0, recipe.where, "") if isinstance(recipe.where, tuple) else (1, (), recipe.name)
        ),
    )
    for recipe in starts:
        if recipe.name not in done:
            visit(recipe.name, [], [])


def _child(where: Where, *parts: str | int) -> Where:
    return (*where, *parts) if isinstance(where, tuple) else where
