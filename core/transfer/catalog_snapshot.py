"""A transfer's snapshot of the catalog: the day's mappings and the recipes they reach.

Everything a snapshot can be cut from (a connection's mappings, the company's recipes in base
units, the names a report shows) is read once per *catalog token* and kept in a small
process-wide cache: the token changes, in the same transaction, with every write that could
change a snapshot (database triggers on mappings, recipes, recipe lines, ingredients, their
measures and storage units; see migration 0011). A day then only cuts its subset from the
cached catalog. A migration of 90 days, or a CSV file of 30, reads the catalog once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from stockpot.core.db import committing_later
from stockpot.core.exact import decimal_fractions
from stockpot.core.models import (
    Company,
    Ingredient,
    IngredientMeasure,
    PosItem,
    PosMapping,
    Recipe,
    RecipeLine,
    StorageUnit,
)
from stockpot.core.transfer.engine import RecipeTree
from stockpot.core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeLineSpec,
    RecipeSpec,
    RecipeTarget,
    Snapshot,
    Target,
    canonical_json,
    recipe_json,
    snapshot_entry,
    snapshot_text,
    target_json,
)
from stockpot.core.units import Unit, conversion_factor

CACHED_CATALOGS = 16
"""Catalogs (connection × token) kept per process: a few MB each for a large company."""


@dataclass(frozen=True)
class DaySnapshot:
    """What one run reads of the catalog, and how it is stored: the snapshot's canonical
    JSON text (shared by every run whose snapshot is the same) and its digest."""

    snapshot: Snapshot
    tree: RecipeTree
    """The catalog's recipe tree: its shares are computed once per catalog, not per run."""
    text: str
    digest: str


@dataclass
class Catalog:
    """A connection's mappings and its company's recipes, as of one catalog token."""

    token: str
    mappings: dict[str, Target]
    recipe_rows: dict[int, tuple[str, Decimal, int | None]]
    line_rows: dict[int, list[tuple[Any, ...]]]
    ingredients: dict[int, tuple[str, Unit]]
    measures: dict[int, dict[Unit, Decimal]]
    storage_units: dict[int, str]
    items: set[str] = field(default_factory=set)
    """Every item key the connection had when the catalog was read, and those that runs
    registered since (learnt when they commit). Items are deleted only with their connection,
    so a key here exists: a day's unmapped items need no look-up (new items do not change
    the token, so this set alone grows)."""
    snapshots: set[str] = field(default_factory=set)
    """Digests of day snapshots runs of this process stored (learnt when they commit): a day
    whose snapshot is one of them does not send its text again (a small menu's days often
    sell every item). Snapshots are deleted only with their company."""
    recipes: dict[int, RecipeSpec] = field(default_factory=dict)
    """Converted on first use: a recipe no day reaches is never converted."""
    mapping_text: dict[str, str] = field(default_factory=dict)
    """Each item's entry of a snapshot's text (``"key":{...}``), made once."""
    recipe_text: dict[int, str] = field(default_factory=dict)
    closures: dict[int, frozenset[int]] = field(default_factory=dict)
    """Each recipe with every recipe it reaches."""
    tree: RecipeTree = field(init=False)

    def __post_init__(self) -> None:
        self.tree = RecipeTree(_LazyRecipes(self))

    def recipe(self, recipe_id: int) -> RecipeSpec:
        spec = self.recipes.get(recipe_id)
        if spec is None:
            spec = self.recipes[recipe_id] = self._convert(recipe_id)
        return spec

    def _convert(self, recipe_id: int) -> RecipeSpec:
        name, portions, default_storage = self.recipe_rows[recipe_id]
        fraction = decimal_fractions()
        specs = []
        for ingredient_id, sub_recipe_id, quantity, unit, trim, storage in self.line_rows.get(
            recipe_id, []
        ):
            amount = fraction(quantity)
            if ingredient_id is not None:
                ingredient, base = self.ingredients[ingredient_id]
                amount *= conversion_factor(unit, base, self.measures[ingredient_id], ingredient)
            specs.append(
                RecipeLineSpec(ingredient_id, sub_recipe_id, amount, fraction(trim), storage)
            )
        return RecipeSpec(recipe_id, name, fraction(portions), default_storage, tuple(specs))

    def cut(self, keys: Iterable[str], storage_unit_id: int) -> DaySnapshot:
        """The snapshot of a day whose lines have ``keys``: their mappings (``None`` for the
        unmapped) and every recipe they reach."""
        wanted = sorted(set(keys))
        mappings = {key: self.mappings.get(key) for key in wanted}
        reached: set[int] = set()
        for target in mappings.values():
            if isinstance(target, RecipeTarget):
                reached |= self._closure(target.recipe_id)
        recipes = {recipe_id: self.recipe(recipe_id) for recipe_id in sorted(reached)}
        text = snapshot_text(
            [self._mapping_text(key) for key in wanted],
            [self._recipe_text(recipe_id) for recipe_id in recipes],
            storage_unit_id,
        )
        return DaySnapshot(
            snapshot=Snapshot(mappings=mappings, recipes=recipes),
            tree=self.tree,
            text=text,
            digest=hashlib.sha256(text.encode()).hexdigest(),
        )

    def _closure(self, recipe_id: int) -> frozenset[int]:
        found = self.closures.get(recipe_id)
        if found is None:
            reached, pending = {recipe_id}, [recipe_id]
            while pending:
                for line in self.recipe(pending.pop()).lines:
                    if line.sub_recipe_id is not None and line.sub_recipe_id not in reached:
                        reached.add(line.sub_recipe_id)
                        pending.append(line.sub_recipe_id)
            found = self.closures[recipe_id] = frozenset(reached)
        return found

    def _mapping_text(self, key: str) -> str:
        text = self.mapping_text.get(key)
        if text is None:
            text = self.mapping_text[key] = snapshot_entry(
                key, canonical_json(target_json(self.mappings.get(key)))
            )
        return text

    def _recipe_text(self, recipe_id: int) -> str:
        text = self.recipe_text.get(recipe_id)
        if text is None:
            text = self.recipe_text[recipe_id] = snapshot_entry(
                str(recipe_id), canonical_json(recipe_json(self.recipe(recipe_id)))
            )
        return text


class _LazyRecipes(dict[int, RecipeSpec]):
    """The catalog's recipes as the recipe tree reads them: converted when first asked for."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self._catalog = catalog

    def get(self, recipe_id: int, default: Any = None) -> Any:  # type: ignore[override]
        if recipe_id not in self._catalog.recipe_rows:
            return default
        return self._catalog.recipe(recipe_id)


def catalog_token(session: Session, company_id: int) -> str | None:
    """The company's catalog token: equal tokens mean an equal catalog (``None`` for a
    company row written without one: its catalog is read every time)."""
    return session.execute(CATALOG_TOKEN, {"company": company_id}).scalar_one()


CATALOG_TOKEN = select(Company.catalog_token).where(Company.id == bindparam("company"))
"""Built once: every run reads it (as the transfer runner's locks)."""


class CatalogCache:
    """The catalogs of the last few (connection, token) pairs, shared by a process's runs."""

    def __init__(self, size: int = CACHED_CATALOGS) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, str], Catalog] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, company_id: int, connection_id: int) -> Catalog:
        return self.for_token(
            session, company_id, connection_id, catalog_token(session, company_id)
        )

    def for_token(
        self, session: Session, company_id: int, connection_id: int, token: str | None
    ) -> Catalog:
        """The catalog as of ``token``, read in this transaction (a run reads the token once,
        for its fingerprint and its catalog alike)."""
        if token is None:
            return _read(session, company_id, connection_id, "")
        key = (connection_id, token)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        catalog = _read(session, company_id, connection_id, token)
        if catalog_token(session, company_id) == token and not committing_later(session):
            # Nothing committed a catalog change while it was read: it is the token's (unless
            # this transaction registered items, which it read and may yet roll back).
            with self._lock:
                self._entries[key] = catalog
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return catalog

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CATALOGS = CatalogCache()


def _read(session: Session, company_id: int, connection_id: int, token: str) -> Catalog:
    fraction = decimal_fractions()
    mappings: dict[str, Target] = {}
    for key, ingredient_id, recipe_id, factor, ignored in session.execute(
        _mapping_rows(connection_id)
    ):
        if ignored:
            mappings[key] = Ignored()
        elif ingredient_id is not None:
            mappings[key] = IngredientTarget(ingredient_id, fraction(factor))
        else:
            mappings[key] = RecipeTarget(recipe_id, fraction(factor))
    line_rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in session.execute(_recipe_line_rows(company_id)):
        line_rows[row[0]].append(tuple(row[1:7]))  # without the position, which orders them
    measures: dict[int, dict[Unit, Decimal]] = defaultdict(dict)
    for ingredient_id, unit, amount in session.execute(_measure_rows(company_id)):
        measures[ingredient_id][unit] = amount
    return Catalog(
        token=token,
        mappings=mappings,
        recipe_rows={
            recipe_id: (name, portions, default_storage)
            for recipe_id, name, portions, default_storage in session.execute(
                select(
                    Recipe.id, Recipe.name, Recipe.portions, Recipe.default_issue_storage_id
                ).where(Recipe.company_id == company_id)
            )
        },
        line_rows=dict(line_rows),
        ingredients={
            ingredient_id: (name, base)
            for ingredient_id, name, base in session.execute(
                select(Ingredient.id, Ingredient.name, Ingredient.base_unit).where(
                    Ingredient.company_id == company_id
                )
            )
        },
        measures=measures,
        items=set(
            session.scalars(select(PosItem.key).where(PosItem.connection_id == connection_id))
        ),
        storage_units=dict(
            session.execute(
                select(StorageUnit.id, StorageUnit.name).where(StorageUnit.company_id == company_id)
            )
            .tuples()
            .all()
        ),
    )


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


def _measure_rows(company_id: int) -> Select[Any]:
    return (
        select(IngredientMeasure.ingredient_id, IngredientMeasure.unit, IngredientMeasure.amount)
        .join(Ingredient, Ingredient.id == IngredientMeasure.ingredient_id)
        .where(Ingredient.company_id == company_id)
    )


def load_snapshot(
    session: Session, company_id: int, connection_id: int, keys: Iterable[str]
) -> Snapshot:
    """A snapshot of the catalog for ``keys`` (previews and tests)."""
    return CATALOGS.get(session, company_id, connection_id).cut(keys, 0).snapshot
