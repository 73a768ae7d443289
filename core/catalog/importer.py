"""``stockpot catalog import``: upsert a company's catalog from a YAML file, all or nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.business_day import known_zone
from stockpot.core.catalog.document import CatalogDoc, CsvConnectionDoc, RecipeDoc
from stockpot.core.catalog.rules import (
    CatalogDraft,
    IngredientDef,
    RecipeDef,
    RecipeLineDef,
    Where,
    check_catalog,
)
from stockpot.core.db import unit_of_work
from stockpot.core.documents import parse_document
from stockpot.core.errors import InvalidDocument, Problem
from stockpot.core.lookup import fold
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    Ingredient,
    IngredientMeasure,
    LedgerMovement,
    Provider,
    Recipe,
    RecipeLine,
    StorageUnit,
)
from stockpot.core.units import parse_unit
from stockpot.core.yaml_source import YamlDocument, load_yaml, place

Named = TypeVar("Named", StorageUnit, Ingredient, Recipe)
KINDS: dict[type, str] = {
    StorageUnit: "storage units",
    Ingredient: "ingredients",
    Recipe: "recipes",
}


@dataclass
class ImportSummary:
    company: str
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)

    def count(self, kind: str, is_new: bool) -> None:
        (self.created if is_new else self.updated)[kind] += 1

    def __str__(self) -> str:
        kinds = ("storage units", "ingredients", "recipes", "csv connections", "locations")
        parts = [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated"
            for kind in kinds
            if self.created[kind] or self.updated[kind]
        ]
        return f"company '{self.company}': " + ("; ".join(parts) or "nothing to import")


def import_catalog(factory: sessionmaker[Session], text: str, *, source: str) -> ImportSummary:
    document = load_yaml(text, source=source)
    doc = parse_document(document, CatalogDoc)
    with unit_of_work(factory) as session:
        company = session.scalar(select(Company).where(Company.name == doc.company))
        problems = _problems(session, company, doc, document)
        if problems:
            raise InvalidDocument(source, problems)
        return _write(session, company, doc)


def _problems(
    session: Session, company: Company | None, doc: CatalogDoc, document: YamlDocument
) -> list[Problem]:
    problems: list[Problem] = []

    def report(where: Where, message: str) -> None:
        if isinstance(where, tuple):
            problems.append(document.problem(where, message))
        else:
            problems.append(Problem(where, message))

    draft = _stored_draft(session, company)
    for key, items, stored in (
        ("storage_units", doc.storage_units, draft.storage_units),
        ("ingredients", doc.ingredients, draft.ingredients),
        ("recipes", doc.recipes, draft.recipes),
        ("csv_connections", doc.csv_connections, {}),
    ):
        _report_duplicates((key,), [item.name for item in items], list(stored), report)

    for unit in doc.storage_units:
        draft.storage_units.setdefault(unit.name, False)
    for index, ingredient in enumerate(doc.ingredients):
        draft.ingredients[ingredient.name] = IngredientDef(
            ingredient.name,
            ingredient.base_unit,
            dict(ingredient.measures),
            ingredient.active,
            ("ingredients", index),
        )
    for index, recipe in enumerate(doc.recipes):
        draft.recipes[recipe.name] = _recipe_def(recipe, ("recipes", index))
    check_catalog(draft, report)
    if company is not None:
        _check_base_unit_changes(session, company, doc, report)
    for index, connection in enumerate(doc.csv_connections):
        _check_csv_connection(connection, ("csv_connections", index), draft, report)
    return problems


def _report_duplicates(
    where: tuple[str | int, ...], names: Sequence[str], stored: Sequence[str], report: Any
) -> None:
    """A name given twice, or two names that differ only by case, accents or spaces (in the
    file, or from a stored one): Stockpot finds names that way (``lookup.fold``), so "FLOUR"
    beside "Flour" made a count or a mapping of "flour" land on either of them."""
    first: dict[str, int] = {}
    known: dict[str, list[str]] = {}
    for name in stored:
        known.setdefault(fold(name), []).append(name)
    for index, name in enumerate(names):
        folded = fold(name)
        if folded in first:
            earlier = place((*where, first[folded]))
            if names[first[folded]] == name:
                report((*where, index), f"'{name}' appears twice (first at {earlier})")
            else:
                report((*where, index), _alike(name, f"'{names[first[folded]]}' at {earlier}"))
            continue
        first[folded] = index
        alike = known.get(folded, [])
        if alike and name not in alike:
            report((*where, index), _alike(name, f"the stored '{alike[0]}'"))


def _alike(name: str, other: str) -> str:
    return (
        f"'{name}' differs from {other} only by case, accents or spaces, and names are found "
        "regardless of those; write it the same way to update it, or give it another name"
    )


def _recipe_def(recipe: RecipeDoc, where: tuple[str | int, ...]) -> RecipeDef:
    return RecipeDef(
        name=recipe.name,
        portions=recipe.portions,
        default_issue_storage=recipe.default_issue_storage,
        active=recipe.active,
        lines=[
            RecipeLineDef(
                ingredient=line.ingredient,
                recipe=line.recipe,
                quantity=line.quantity,
                unit=line.unit,
                trim=line.trim,
                issue_storage=line.issue_storage,
                where=(*where, "lines", position),
            )
            for position, line in enumerate(recipe.lines)
        ],
        where=where,
    )


def _stored_draft(session: Session, company: Company | None) -> CatalogDraft:
    """The company's catalog as stored, so the file is checked against what it does not name."""
    draft = CatalogDraft()
    if company is None:
        return draft
    units = session.scalars(
        select(StorageUnit).where(StorageUnit.company_id == company.id).order_by(StorageUnit.id)
    ).all()
    unit_names = {unit.id: unit.name for unit in units}
    draft.storage_units = {unit.name: unit.archived_at is not None for unit in units}
    ingredients = session.scalars(
        select(Ingredient).where(Ingredient.company_id == company.id).order_by(Ingredient.id)
    ).all()
    ingredient_names = {ingredient.id: ingredient.name for ingredient in ingredients}
    for ingredient in ingredients:
        draft.ingredients[ingredient.name] = IngredientDef(
            ingredient.name,
            ingredient.base_unit.value,
            {measure.unit.value: measure.amount for measure in ingredient.measures},
            ingredient.active,
            f"ingredient '{ingredient.name}' (stored)",
        )
    recipes = session.scalars(
        select(Recipe).where(Recipe.company_id == company.id).order_by(Recipe.id)
    ).all()
    recipe_names = {recipe.id: recipe.name for recipe in recipes}
    for recipe in recipes:
        where = f"recipe '{recipe.name}' (stored)"
        draft.recipes[recipe.name] = RecipeDef(
            name=recipe.name,
            portions=recipe.portions,
            default_issue_storage=_name(unit_names, recipe.default_issue_storage_id),
            active=recipe.active,
            lines=[
                RecipeLineDef(
                    ingredient=_name(ingredient_names, line.ingredient_id),
                    recipe=_name(recipe_names, line.sub_recipe_id),
                    quantity=line.quantity,
                    unit=line.unit.value if line.unit else None,
                    trim=line.trim,
                    issue_storage=_name(unit_names, line.issue_storage_id),
                    where=f"{where}, line {line.position + 1}",
                )
                for line in recipe.lines
            ],
            where=where,
        )
    return draft


def _name(names: dict[int, str], key: int | None) -> str | None:
    return None if key is None else names[key]


def _check_base_unit_changes(
    session: Session, company: Company, doc: CatalogDoc, report: Any
) -> None:
    stored = {
        ingredient.name: ingredient
        for ingredient in session.scalars(
            select(Ingredient).where(Ingredient.company_id == company.id)
        )
    }
    for index, ingredient in enumerate(doc.ingredients):
        current = stored.get(ingredient.name)
        if current is None:
            continue
        try:
            new_unit = parse_unit(ingredient.base_unit)
        except ValueError:
            continue
        if new_unit is current.base_unit:
            continue
        has_movements = session.scalar(
            select(exists().where(LedgerMovement.ingredient_id == current.id))
        )
        if has_movements:
            report(
                ("ingredients", index, "base_unit"),
                f"'{ingredient.name}' has ledger movements in '{current.base_unit}'; changing "
                "its base unit would make them wrong. Create a new ingredient instead",
            )


def _check_csv_connection(
    connection: CsvConnectionDoc, where: tuple[str | int, ...], draft: CatalogDraft, report: Any
) -> None:
    _report_duplicates(
        (*where, "locations"), [loc.name for loc in connection.locations], [], report
    )
    for index, location in enumerate(connection.locations):
        place = (*where, "locations", index)
        if location.storage_unit not in draft.storage_units:
            report((*place, "storage_unit"), f"unknown storage unit '{location.storage_unit}'")
        if not known_zone(location.timezone):
            report(
                (*place, "timezone"),
                f"unknown timezone '{location.timezone}'; use an IANA name such as Europe/Rome",
            )


def _write(session: Session, company: Company | None, doc: CatalogDoc) -> ImportSummary:
    summary = ImportSummary(doc.company)
    if company is None:
        company = Company(name=doc.company)
        session.add(company)
        session.flush()
    if doc.currency is not None:
        company.currency = doc.currency
    units = _by_name(session, StorageUnit, company)
    for unit_doc in doc.storage_units:
        unit = _get_or_add(session, units, unit_doc.name, StorageUnit, company, summary)
        unit.address = unit_doc.address

    ingredients = _by_name(session, Ingredient, company)
    for ingredient_doc in doc.ingredients:
        ingredient = _get_or_add(
            session, ingredients, ingredient_doc.name, Ingredient, company, summary
        )
        ingredient.base_unit = parse_unit(ingredient_doc.base_unit)
        ingredient.active = ingredient_doc.active
        if ingredient_doc.cost is not None:
            ingredient.cost = ingredient_doc.cost
        wanted = {parse_unit(unit): amount for unit, amount in ingredient_doc.measures.items()}
        ingredient.measures = [m for m in ingredient.measures if m.unit in wanted]
        for measure in ingredient.measures:
            measure.amount = wanted.pop(measure.unit)
        ingredient.measures.extend(
            IngredientMeasure(unit=unit, amount=amount) for unit, amount in wanted.items()
        )

    recipes = _by_name(session, Recipe, company)
    for recipe_doc in doc.recipes:
        recipe = _get_or_add(session, recipes, recipe_doc.name, Recipe, company, summary)
        recipe.portions = recipe_doc.portions
        recipe.active = recipe_doc.active
    session.flush()

    for recipe_doc in doc.recipes:
        recipe = recipes[recipe_doc.name]
        recipe.default_issue_storage_id = _id(units, recipe_doc.default_issue_storage)
    _replace_lines(session, doc.recipes, recipes, ingredients, units)
    for connection_doc in doc.csv_connections:
        _write_csv_connection(session, company, connection_doc, units, summary)
    session.flush()
    return summary


def _replace_lines(
    session: Session,
    recipe_docs: Iterable[RecipeDoc],
    recipes: dict[str, Recipe],
    ingredients: dict[str, Ingredient],
    units: dict[str, StorageUnit],
) -> None:
    """Lines are replaced whole: deleted first, so positions never collide with the old ones."""
    recipe_docs = list(recipe_docs)
    ids = [recipes[recipe_doc.name].id for recipe_doc in recipe_docs]
    session.execute(delete(RecipeLine).where(RecipeLine.recipe_id.in_(ids)))
    for recipe_id in ids:
        session.expire(session.get_one(Recipe, recipe_id), ["lines"])
    session.add_all(
        RecipeLine(
            recipe_id=recipes[recipe_doc.name].id,
            position=position,
            ingredient_id=_id(ingredients, line.ingredient),
            sub_recipe_id=_id(recipes, line.recipe),
            quantity=line.quantity,
            unit=parse_unit(line.unit) if line.unit else None,
            trim=line.trim,
            issue_storage_id=_id(units, line.issue_storage),
        )
        for recipe_doc in recipe_docs
        for position, line in enumerate(recipe_doc.lines)
    )


def _write_csv_connection(
    session: Session,
    company: Company,
    doc: CsvConnectionDoc,
    units: dict[str, StorageUnit],
    summary: ImportSummary,
) -> None:
    connection = session.scalar(
        select(Connection).where(
            Connection.company_id == company.id,
            Connection.provider == Provider.CSV,
            Connection.name == doc.name,
        )
    )
    summary.count("csv connections", connection is None)
    if connection is None:
        connection = Connection(company_id=company.id, provider=Provider.CSV, name=doc.name)
        session.add(connection)
        session.flush()
    connection.settings = doc.profile_settings()
    locations = {
        location.external_id: location
        for location in session.scalars(
            select(ExternalLocation).where(ExternalLocation.connection_id == connection.id)
        )
    }
    for location_doc in doc.locations:
        location = locations.get(location_doc.name)
        summary.count("locations", location is None)
        if location is None:
            location = ExternalLocation(
                company_id=company.id,
                connection_id=connection.id,
                external_id=location_doc.name,
            )
            session.add(location)
        location.name = location_doc.name
        location.storage_unit_id = units[location_doc.storage_unit].id
        location.timezone = location_doc.timezone
        location.business_day_start = location_doc.business_day_start
        location.active = True


def _get_or_add(
    session: Session,
    rows: dict[str, Named],
    name: str,
    model: type[Named],
    company: Company,
    summary: ImportSummary,
) -> Named:
    """The company's row of that name, created (and counted as created) when missing."""
    row = rows.get(name)
    summary.count(KINDS[model], row is None)
    if row is None:
        row = rows[name] = model(company_id=company.id, name=name)
        session.add(row)
    return row


def _by_name(session: Session, model: type[Named], company: Company) -> dict[str, Named]:
    rows = session.scalars(select(model).where(model.company_id == company.id))
    return {row.name: row for row in rows}


def _id(rows: dict[str, Any], name: str | None) -> int | None:
    return None if name is None else rows[name].id
