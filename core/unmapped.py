"""The unmapped working list: what was sold but not deducted, most-sold first.

Read from the live runs of each day (what the ledger currently reflects), so an item mapped
since, or a day rerun since, drops out by itself.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from stockpot.core.ids import parse_id
from stockpot.core.lookup import LIKE_ESCAPE, containing
from stockpot.core.models import (
    Connection,
    ExternalLocation,
    Ingredient,
    PosItem,
    PosMapping,
    Recipe,
    TransferDay,
    TransferRun,
    TransferSnapshot,
)

WINDOW_DAYS = 90
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
    """(location id, business date) of each day of the window it was sold unmapped: the days
    ``quantity`` is over."""
    offered: set[tuple[int, date]] | None = None
    """Every live day that sold it, the window's and earlier ones: the days mapping it offers
    to reprocess (``offered_days``; ``None`` until asked)."""


def latest_day(session: Session, company_id: int) -> date | None:
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
    latest = latest_day(session, company_id)
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
                    connection.shown,
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
    pattern = containing(text)
    if pattern is None:
        return []
    found = [
        Target("ingredient", ingredient_id, name, base_unit.value)
        for ingredient_id, name, base_unit in session.execute(
            select(Ingredient.id, Ingredient.name, Ingredient.base_unit)
            .where(Ingredient.company_id == company_id, Ingredient.active.is_(True))
            .where(Ingredient.name.ilike(pattern, escape=LIKE_ESCAPE))
            .order_by(Ingredient.name)
            .limit(limit)
        )
    ]
    found += [
        Target("recipe", recipe_id, name, "portions")
        for recipe_id, name in session.execute(
            select(Recipe.id, Recipe.name)
            .where(Recipe.company_id == company_id, Recipe.active.is_(True))
            .where(Recipe.name.ilike(pattern, escape=LIKE_ESCAPE))
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


SUGGESTIONS = 5
COMMON_SHARE = 20
"""A word in more than one name in 20 of the catalog (at least two names) is common: "Pizza"
in a pizzeria's catalog says nothing about which pizza."""
SAME_WORD = 0.85
"""How alike two words must be to count as one (``Prosciuto`` for ``Prosciutto``)."""


def words(name: str) -> set[str]:
    return set(re.findall(r"\w[\w,.]*", name.casefold()))


def _alike(word: str, other: str) -> bool:
    """``ratio() >= SAME_WORD``, its cheap upper bounds tried first, as ``difflib``'s own
    ``get_close_matches`` does: a catalog of 10,000 names asked about three words took 0.76 s
    in the full ratio alone, 0.26 s so."""
    matcher = difflib.SequenceMatcher(None, word, other)
    return (
        matcher.real_quick_ratio() >= SAME_WORD
        and matcher.quick_ratio() >= SAME_WORD
        and matcher.ratio() >= SAME_WORD
    )


def suggestions(session: Session, company_id: int, name: str, n: int = SUGGESTIONS) -> list[Target]:
    """Targets sharing a telling word with ``name``, the most telling first: offered first in
    the mapping modal's choices, labelled as suggestions, never selected for the user (the
    reference product does not guess, and a wrong guess saved by habit deducts the wrong
    stock). A word most names share is no reason ("Pizza Diavola" was offered Pizza Salami,
    Pizza Rucola, Pizza Hawaii): no telling word shared, no suggestion. A telling word
    weighs more the fewer names have it ("Familienpizza Margherita" gets Pizza Margherita,
    "Rotwein Montepulciano 0,75l" Montepulciano)."""
    candidates = targets(session, company_id, limit=10_000)
    named = {target.name.casefold(): words(target.name) for target in candidates}
    having: dict[str, int] = defaultdict(int)
    for found in named.values():
        for word in found:
            having[word] += 1
    common = max(2, len(named) // COMMON_SHARE)
    wanted = words(name)

    def same(word: str, found: set[str]) -> str | None:
        """The target's word that is ``word``, written alike or with a slip."""
        if word in found:
            return word
        if len(word) <= 4:
            return None
        return next((other for other in found if _alike(word, other)), None)

    scored = []
    for target in candidates:
        found = named[target.name.casefold()]
        shared = [match for word in wanted if (match := same(word, found)) is not None]
        if not any(having[word] <= common for word in shared):
            continue
        weight = sum(math.log((len(named) + 1) / (1 + having[word])) for word in shared)
        covered = len(set(shared)) / len(found)  # "Spaghetti" before "Spaghetti Carbonara"
        closeness = difflib.SequenceMatcher(None, name.casefold(), target.name.casefold())
        scored.append((-weight, -covered, -closeness.ratio(), target.name, target))
    return [target for *_, target in sorted(scored, key=lambda row: row[:4])][:n]


def current_target(session: Session, item: PosItem) -> tuple[Target, Decimal] | None:
    """What ``item`` is mapped to now and its factor; ``None`` when unmapped or ignored. The
    mapping modal opens with it, so saving without a change keeps the mapping as it was."""
    mapping = item.mapping
    if mapping is None or mapping.factor is None:
        return None
    if mapping.ingredient_id is not None:
        ingredient = session.get_one(Ingredient, mapping.ingredient_id)
        target = Target("ingredient", ingredient.id, ingredient.name, ingredient.base_unit.value)
    elif mapping.recipe_id is not None:
        recipe = session.get_one(Recipe, mapping.recipe_id)
        target = Target("recipe", recipe.id, recipe.name, "portions")
    else:
        return None
    return target, mapping.factor


def days_with_item(session: Session, item: PosItem) -> list[tuple[int, date]]:
    """Every (location, business date) whose live run sold ``item``, by date: the days any
    change of its mapping (new, edited, ignored, removed) changes, so the ones to rerun, and
    the days the unmapped list counts for it (one count: the list and its Reprocess agree).
    See ``days_with_items``."""
    return days_with_items(session, [item])[item.id]


def days_with_items(
    session: Session, items: Sequence[PosItem]
) -> dict[int, list[tuple[int, date]]]:
    """``days_with_item`` of several items (by item id), each snapshot read and parsed once
    for all of them: the unmapped list asks it for every row it shows.

    A run's snapshot lists every item key of its day (mapped or not, cancelled and voided
    lines included), so one query over the live runs of the items' connections finds the
    candidates; the snapshot text is searched for the keys, and each distinct snapshot is
    parsed once to confirm which are mapping keys. A day that had an item unmapped counts
    only if the run's unmapped items name it: a day whose only such line was cancelled or
    voided sold none, and a new mapping changes nothing there."""
    if not items:
        return {}
    entries = {json.dumps(item.key, ensure_ascii=False) + ":" for item in items}
    found = session.execute(
        select(
            ExternalLocation.connection_id,
            TransferRun.location_id,
            TransferRun.business_date,
            TransferSnapshot.digest,
            TransferRun.unmapped,
        )
        .join(TransferDay, TransferDay.live_run_id == TransferRun.id)
        .join(ExternalLocation, ExternalLocation.id == TransferRun.location_id)
        .join(TransferSnapshot, TransferSnapshot.digest == TransferRun.snapshot_digest)
        .where(
            TransferRun.company_id.in_({item.company_id for item in items}),
            ExternalLocation.connection_id.in_({item.connection_id for item in items}),
            or_(*(TransferSnapshot.body.contains(entry, autoescape=True) for entry in entries)),
        )
    ).all()
    keys = {item.key for item in items}
    targets: dict[tuple[str, str], bool] = {}
    """(digest, key) → whether the item was mapped (or ignored) in it; absent: the key is
    not one of its mapping keys."""
    for digest, body in session.execute(
        select(TransferSnapshot.digest, TransferSnapshot.body).where(
            TransferSnapshot.digest.in_({row.digest for row in found})
        )
    ):
        mappings = json.loads(body).get("mappings", {})
        for key in keys & mappings.keys():
            targets[(digest, key)] = mappings[key] is not None
    runs = [
        (connection_id, location, day, digest, {u["key"] for u in unmapped_items or []})
        for connection_id, location, day, digest, unmapped_items in found
    ]
    days: dict[int, list[tuple[int, date]]] = {}
    for item in items:
        sold = {
            (location, day)
            for connection_id, location, day, digest, unmapped_keys in runs
            if connection_id == item.connection_id
            and (digest, item.key) in targets
            and (targets[(digest, item.key)] or item.key in unmapped_keys)
        }
        days[item.id] = sorted(sold, key=lambda pair: (pair[1], pair[0]))
    return days


def offered_days(session: Session, rows: list[UnmappedRow]) -> list[UnmappedRow]:
    """``rows`` with the days mapping each offers to reprocess (``UnmappedRow.offered``:
    ``days_with_items``, every live day that sold it, beyond the list's window too), so the
    list's "61 days in all" and the offer's "Reprocess 61 affected days" agree. The window's
    days stay beside them: the quantity is over those (summing a day before the window would
    mean reading its lines, and a day it was mapped on has no unmapped quantity at all)."""
    ids = [row.pos_item_id for row in rows if row.pos_item_id is not None]
    items = list(session.scalars(select(PosItem).where(PosItem.id.in_(ids))))
    days = days_with_items(session, items)
    for row in rows:
        if row.pos_item_id is not None:
            row.offered = set(days.get(row.pos_item_id, ())) or set(row.days)
    return rows


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
