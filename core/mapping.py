"""POS mappings: what selling an item takes from stock.

``set_mapping`` holds the rules for every writer (the file import, Slack's mapping modal):
the target belongs to the item's company, exists, and the factor is positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Self

from pydantic import Field, model_validator
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from stockpot.core.catalog.document import Name, PosCode, Positive
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.documents import DocumentModel, parse_document, parse_each
from stockpot.core.errors import InvalidDocument, NotFound, ValidationFailed
from stockpot.core.exact import format_decimal
from stockpot.core.lookup import (
    LIKE_ESCAPE,
    closest,
    company_by_name,
    connection_by_label,
    containing,
    fold,
)
from stockpot.core.models import Company, Connection, Ingredient, PosItem, PosMapping, Recipe
from stockpot.core.quantities import quantity_problem
from stockpot.core.transfer.lines import item_key, key_problem
from stockpot.core.words import figure, plural
from stockpot.core.yaml_source import load_yaml


@dataclass(frozen=True)
class IngredientChoice:
    ingredient_id: int
    factor: Decimal


@dataclass(frozen=True)
class RecipeChoice:
    recipe_id: int
    factor: Decimal


@dataclass(frozen=True)
class IgnoreChoice:
    pass


MappingChoice = IngredientChoice | RecipeChoice | IgnoreChoice


class MappingTargetError(ValidationFailed):
    code = "invalid_mapping_target"


def set_mapping(
    session: Session, item: PosItem, choice: MappingChoice, *, by: str | None = None
) -> PosMapping:
    """Create or replace the mapping of ``item``; refuses targets of another company."""
    ingredient_id = recipe_id = factor = None
    match choice:
        case IngredientChoice():
            _owned(session, Ingredient, choice.ingredient_id, item.company_id)
            ingredient_id, factor = choice.ingredient_id, _positive(choice.factor)
        case RecipeChoice():
            _owned(session, Recipe, choice.recipe_id, item.company_id)
            recipe_id, factor = choice.recipe_id, _positive(choice.factor)
    mapping = item.mapping
    if mapping is None:
        mapping = PosMapping(company_id=item.company_id, pos_item_id=item.id)
        session.add(mapping)
        item.mapping = mapping
    mapping.ingredient_id = ingredient_id
    mapping.recipe_id = recipe_id
    mapping.factor = factor
    mapping.ignored = isinstance(choice, IgnoreChoice)
    mapping.updated_at = utcnow()
    mapping.updated_by = by
    return mapping


def remove_mapping(session: Session, item: PosItem) -> bool:
    """Take ``item`` back to unmapped (a mapping removed, or an ignored item un-ignored): its
    next transfer lists it as unmapped again. False when it had no mapping."""
    mapping = item.mapping
    if mapping is None:
        return False
    item.mapping = None
    session.delete(mapping)
    return True


def _positive(factor: Decimal) -> Decimal:
    if factor <= 0:
        raise MappingTargetError(
            f"the quantity factor must be greater than 0, got {figure(factor)}"
        )
    problem = quantity_problem(factor)
    if problem is not None:
        raise MappingTargetError(f"the quantity factor {problem}")
    return factor


def _owned(
    session: Session, model: type[Ingredient] | type[Recipe], target_id: int, company_id: int
) -> None:
    kind = model.__tablename__
    target = session.get(model, target_id)
    if target is None:
        raise MappingTargetError(f"no {kind} with id {target_id}")
    if target.company_id != company_id:
        raise MappingTargetError(
            f"{kind} '{target.name}' belongs to another company; a mapping can only use "
            "ingredients and recipes of its own company"
        )


class MappingEntryDoc(DocumentModel):
    pos_code: PosCode | None = None
    pos_name: Name | None = None
    ingredient: Name | None = None
    recipe: Name | None = None
    ignore: bool = False
    quantity: Positive = Decimal(1)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        targets = sum((self.ingredient is not None, self.recipe is not None, self.ignore))
        if targets != 1:
            raise ValueError("give exactly one of 'ingredient', 'recipe' or 'ignore: true'")
        if self.pos_code is None and self.pos_name is None:
            raise ValueError("give the item's 'pos_code' (or, for items without one, 'pos_name')")
        too_long = key_problem(self.pos_code, self.pos_name or "")
        if too_long is not None:
            raise ValueError(too_long.replace("'name'", "'pos_name'", 1))
        return self


class MappingsDoc(DocumentModel):
    company: Name
    connection: Name
    mappings: list[dict[str, Any]] = Field(default_factory=list)
    """Entries are validated one by one (``MappingEntryDoc``) to report every bad one."""


@dataclass
class MappingsImportSummary:
    created: int = 0
    updated: int = 0
    new_items: int = 0

    def __str__(self) -> str:
        return (
            f"mappings: {self.created} created, {self.updated} updated; "
            f"{plural(self.new_items, 'POS item')} added"
        )


def import_mappings(
    factory: sessionmaker[Session], text: str, *, source: str
) -> MappingsImportSummary:
    document = load_yaml(text, source=source)
    doc = parse_document(document, MappingsDoc)
    entries, problems = parse_each(document, ("mappings",), doc.mappings, MappingEntryDoc)
    summary = MappingsImportSummary()
    with unit_of_work(factory) as session:
        company = company_by_name(session, doc.company)
        connection = connection_by_label(session, company, doc.connection)
        items = {
            item.key: item
            for item in session.scalars(
                select(PosItem)
                .where(PosItem.connection_id == connection.id)
                .options(selectinload(PosItem.mapping))
            )
        }
        ingredients = _names(session, Ingredient, company)
        recipes = _names(session, Recipe, company)
        seen: dict[str, int] = {}
        planned: list[tuple[PosItem, MappingChoice]] = []
        new_items: list[PosItem] = []
        for index, entry in entries:
            where = ("mappings", index)
            key = item_key(entry.pos_code, entry.pos_name or "")
            if key in seen:
                twice = f"item '{key}' is mapped twice (see mappings[{seen[key]}])"
                problems.append(document.problem(where, twice))
                continue
            seen[key] = index
            try:
                choice = _choice(session, entry, company, ingredients, recipes)
            except ValidationFailed as error:
                problems.append(document.problem(where, str(error)))
                continue
            item = items.get(key)
            if item is None:
                item = items[key] = _new_item(connection, key, entry)
                new_items.append(item)
            elif entry.pos_name:
                item.name = entry.pos_name
            planned.append((item, choice))
        if problems:
            raise InvalidDocument(source, problems)
        session.add_all(new_items)
        session.flush()
        summary.new_items = len(new_items)
        with session.no_autoflush:
            for item, choice in planned:
                if item.mapping is None:
                    summary.created += 1
                else:
                    summary.updated += 1
                set_mapping(session, item, choice, by=f"file:{source}")
    return summary


def _new_item(connection: Connection, key: str, entry: MappingEntryDoc) -> PosItem:
    return PosItem(
        company_id=connection.company_id,
        connection_id=connection.id,
        key=key,
        external_id=entry.pos_code,
        name=entry.pos_name or entry.pos_code or key,
        mapping=None,
    )


def _names(
    session: Session, model: type[Ingredient] | type[Recipe], company: Company
) -> dict[str, Any]:
    """Name → row of the company's ingredients or recipes. Holding the rows keeps them in the
    session, so ``set_mapping``'s ownership check finds them without a query per entry."""
    return {
        row.name: row
        for row in session.scalars(select(model).where(model.company_id == company.id))
    }


def _choice(
    session: Session,
    entry: MappingEntryDoc,
    company: Company,
    ingredients: dict[str, Any],
    recipes: dict[str, Any],
) -> MappingChoice:
    if entry.ignore:
        return IgnoreChoice()
    if entry.ingredient is not None:
        return IngredientChoice(
            _resolve(session, Ingredient, entry.ingredient, company, ingredients), entry.quantity
        )
    assert entry.recipe is not None
    return RecipeChoice(_resolve(session, Recipe, entry.recipe, company, recipes), entry.quantity)


def _resolve(
    session: Session,
    model: type[Ingredient] | type[Recipe],
    name: str,
    company: Company,
    known: dict[str, Any],
) -> int:
    if name in known:
        return int(known[name].id)
    wanted = fold(name)
    alike = next((row for stored, row in known.items() if fold(stored) == wanted), None)
    if alike is not None:  # names are found regardless of case and accents, as in the catalog
        return int(alike.id)
    kind = model.__tablename__
    owner = session.scalar(
        select(Company.name).join(model, model.company_id == Company.id).where(model.name == name)
    )
    if owner is not None:
        raise MappingTargetError(
            f"{kind} '{name}' belongs to company '{owner}', not '{company.name}'; a mapping can "
            "only use ingredients and recipes of its own company"
        )
    close = closest(name, known)
    fix = f"did you mean {' or '.join(close)}?" if close else "add it to the catalog first"
    raise MappingTargetError(f"unknown {kind} '{name}' in company '{company.name}'; {fix}")


@dataclass(frozen=True)
class MappingRow:
    pos_item_id: int
    pos_code: str | None
    pos_name: str
    key: str
    target_kind: str | None
    """``ingredient``, ``recipe``, ``ignored``, or ``None`` for an unmapped item."""
    target: str | None
    factor: str | None
    unit: str | None
    connection: str = ""
    """The item's connection's key (``sides:SIDES``, ``csv:Till export``), as files and the
    CLI's ``--connection`` take it: two connections may each sell a "Cola (201)"."""
    connection_shown: str = ""
    """The same connection as users know it (``SIDES``, ``Till export (CSV)``): for Slack."""
    state: str = ""
    """The mapping as ``mapping_state`` gives it, for the row's buttons to carry."""


def _mappings_query(company_id: int, connection: Connection | None, text: str | None) -> Select:
    query = (
        select(PosItem, PosMapping, Ingredient, Recipe, Connection)
        .join(Connection, Connection.id == PosItem.connection_id)
        .outerjoin(PosMapping, PosMapping.pos_item_id == PosItem.id)
        .outerjoin(Ingredient, Ingredient.id == PosMapping.ingredient_id)
        .outerjoin(Recipe, Recipe.id == PosMapping.recipe_id)
        .where(PosItem.company_id == company_id)
    )
    if connection is not None:
        query = query.where(PosItem.connection_id == connection.id)
    if text and text.strip():
        pattern = containing(text)
        if pattern is None:
            return query.where(false())
        query = query.where(
            or_(
                PosItem.name.ilike(pattern, escape=LIKE_ESCAPE),
                PosItem.external_id.ilike(pattern, escape=LIKE_ESCAPE),
                Ingredient.name.ilike(pattern, escape=LIKE_ESCAPE),
                Recipe.name.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    return query


def mapping_state(mapping: PosMapping | None) -> str:
    """What an item's mapping is, as one string to compare (``unmapped``, ``ignored``,
    ``ingredient:7@0.1``, ``recipe:5@1``): a mapping modal, and the Remove and Un-ignore
    buttons of ``/pos mappings``, keep it from when they were drawn, so a change made since
    is not overwritten unseen."""
    if mapping is None:
        return "unmapped"
    if mapping.ignored:
        return "ignored"
    kind, target_id = (
        ("ingredient", mapping.ingredient_id)
        if mapping.ingredient_id is not None
        else ("recipe", mapping.recipe_id)
    )
    return f"{kind}:{target_id}@{mapping.factor.normalize() if mapping.factor else ''}"


def changed_since(mapping: PosMapping | None, seen: str | None) -> bool:
    """Whether ``mapping`` is no longer the one ``seen`` (its ``mapping_state`` when a button
    or modal was drawn); nothing seen (a button from before buttons carried it) is no
    change."""
    return bool(seen) and mapping_state(mapping) != seen


def _row(
    item: PosItem,
    mapping: PosMapping | None,
    ingredient: Ingredient | None,
    recipe: Recipe | None,
    connection: Connection,
) -> MappingRow:
    kind = target = factor = unit = None
    if mapping is not None and mapping.ignored:
        kind = "ignored"
    elif ingredient is not None:
        kind, target, unit = "ingredient", ingredient.name, ingredient.base_unit.value
    elif recipe is not None:
        kind, target, unit = "recipe", recipe.name, "portions"
    if mapping is not None and mapping.factor is not None:
        factor = format_decimal(mapping.factor)
    return MappingRow(
        item.id,
        item.external_id,
        item.name,
        item.key,
        kind,
        target,
        factor,
        unit,
        connection.label,
        connection.shown,
        mapping_state(mapping),
    )


def list_mappings(
    session: Session,
    company: Company,
    connection: Connection | None = None,
    text: str | None = None,
) -> list[MappingRow]:
    """Every POS item of the company (or one connection) with its mapping, if any; ``text``
    keeps the items whose name, code or target contains it."""
    query = _mappings_query(company.id, connection, text).order_by(
        PosItem.name, Connection.provider, Connection.name, PosItem.key
    )
    return [_row(*found) for found in session.execute(query)]


@dataclass(frozen=True)
class MappingPage:
    rows: list[MappingRow]
    page: int
    """1-based; clamped to the last page."""
    pages: int
    total: int


def mapping_page(
    session: Session, company_id: int, text: str | None, page: int, size: int
) -> MappingPage:
    """One page of the company's decided items (mapped or ignored) matching ``text``: what
    ``/pos mappings`` shows, counted and paged in the database."""
    query = _mappings_query(company_id, None, text).where(PosMapping.id.is_not(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = session.execute(
        query.order_by(PosItem.name, Connection.provider, Connection.name, PosItem.key)
        .offset((page - 1) * size)
        .limit(size)
    )
    return MappingPage([_row(*found) for found in rows], page, pages, total)


def find_item(
    session: Session, company: Company, connection: Connection | None, text: str
) -> PosItem:
    """The POS item a person names by code, key or exact name (case-insensitive); refuses
    an ambiguous name with the candidates and their connections."""
    wanted = text.strip()
    query = (
        select(PosItem, Connection)
        .join(Connection, Connection.id == PosItem.connection_id)
        .where(PosItem.company_id == company.id)
        .where(
            or_(
                PosItem.external_id == wanted,
                PosItem.key == wanted,
                func.lower(PosItem.name) == wanted.lower(),
            )
        )
        .options(selectinload(PosItem.mapping))
    )
    if connection is not None:
        query = query.where(PosItem.connection_id == connection.id)
    found = list(session.execute(query).tuples())
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise NotFound(
            f"no POS item '{wanted}' in {company.name}; `stockpot mappings list --company "
            f'"{company.name}" --search <text>` shows the items and their codes'
        )
    candidates = ", ".join(
        f"{item.name} ({item.external_id or item.key}, {connection.label})"
        for item, connection in found
    )
    raise ValidationFailed(
        f"'{wanted}' names {len(found)} items: {candidates}; give --connection or the code"
    )
