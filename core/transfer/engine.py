"""The transfer engine: sales lines + a catalog snapshot → ledger deductions.

A pure function (no database, no clock). Rules, in order:

1. Lines of cancelled sales, voided lines, children of voided lines, non-item lines (tips,
   fees, discounts) and lines a connector's rules exclude are skipped, each with its reason.
2. The rest are netted per POS item (refunds are negative quantities).
3. Each item is looked up in the snapshot: unmapped items are reported with their quantity,
   ignored items take nothing, mapped ones are expanded.
4. Ingredient mapping: quantity × factor base units. Recipe mapping: portions = quantity ×
   factor; each recipe line takes line quantity / recipe portions per portion, divided by
   (1 − trim) for ingredient lines, recursing into sub-recipes (whose quantity is portions).
5. Storage unit: the line's issue storage, else its recipe's default issue storage, else what
   the enclosing recipe line resolved to, else the location's storage unit.
6. Deductions are summed per (storage unit, ingredient) exactly, then rounded once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from itertools import chain
from typing import Any

from gmpy2 import mpq

from stockpot.core.exact import format_decimal, fraction_to_decimal, rounds_to_zero
from stockpot.core.transfer.lines import LineKind, SaleLine
from stockpot.core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeSpec,
    RecipeTarget,
    Snapshot,
    Target,
)

StockKey = tuple[int, int]
"""(storage unit id, ingredient id)."""

ZERO = mpq(0)

SKIPPED_DETAIL_LIMIT = 200
"""Skipped lines listed in a run's log; every line's fate is also kept with the raw lines."""


class SkipReason(StrEnum):
    CANCELLED_SALE = "cancelled_sale"
    VOIDED_LINE = "voided_line"
    PARENT_VOIDED = "parent_voided"
    NON_ITEM = "non_item"


class Disposition(StrEnum):
    MAPPED = "mapped"
    UNMAPPED = "unmapped"
    IGNORED = "ignored"


class EngineError(ValueError):
    """The snapshot is inconsistent (a cycle, a missing recipe): a bug upstream, not bad sales."""


@dataclass(frozen=True, slots=True)
class UnmappedItem:
    key: str
    pos_code: str | None
    name: str
    quantity: Decimal
    lines: int

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "pos_code": self.pos_code,
            "name": self.name,
            "quantity": format_decimal(self.quantity),
            "lines": self.lines,
        }


@dataclass(frozen=True, slots=True)
class SkippedLine:
    sale_id: str
    line_id: str
    name: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "sale_id": self.sale_id,
            "line_id": self.line_id,
            "name": self.name,
            "reason": self.reason,
        }


@dataclass
class EngineResult:
    deductions: dict[StockKey, mpq]
    """Exact quantity taken from stock per (storage unit, ingredient); positive = out."""
    dispositions: list[str]
    """Per input line: mapped, unmapped, ignored or skipped:<reason>."""
    item_quantities: dict[str, Decimal]
    unmapped: list[UnmappedItem]
    skipped: list[SkippedLine]
    stats: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def movements(self) -> dict[StockKey, Decimal]:
        """Signed ledger quantities (negative for an issue), rounded once; zeros dropped.
        Computed once per result: the runner and tracing both read it."""
        return dict(self.rounded())

    def rounded(self) -> Iterator[tuple[StockKey, Decimal]]:
        """``movements``, in key order, each rounded as it is asked for: the movements COPY
        sends the first while the rest are rounded. Read to its end, it fills
        ``movements``."""
        known = self.__dict__.get("movements")
        if known is not None:
            yield from known.items()
            return
        deductions = self.deductions
        result: dict[StockKey, Decimal] = {}
        for key in sorted(deductions):  # keys alone: a pair compares faster than an item
            quantity = fraction_to_decimal(-deductions[key])
            if quantity:
                result[key] = quantity
                yield key, quantity
        self.__dict__["movements"] = result


class RecipeTree:
    """The one expansion of recipes: portions demanded per (recipe, inherited storage unit),
    pushed down the recipe tree parents first, so each recipe line is multiplied once per run
    instead of once per item. Line shares (with trim), the storage fallback and the cycle check
    are written here only; posting and tracing both expand through it."""

    def __init__(self, recipes: Mapping[int, RecipeSpec]) -> None:
        self._recipes = recipes
        self._shares: dict[int, list[mpq]] = {}
        self._factors: dict[int, tuple[Target, mpq]] = {}
        """By the target's identity (a target hashes its ``Fraction``, which is slow), with
        the target kept so that its id is not reused while it is here."""
        self._node_lines: dict[tuple[int, int], list[tuple[int, int | None, int | None, mpq]]]
        self._node_lines = {}

    def factor(self, target: IngredientTarget | RecipeTarget) -> mpq:
        """A mapping's factor as ``mpq``, converted once per tree."""
        found = self._factors.get(id(target))
        if found is None or found[0] is not target:
            found = self._factors[id(target)] = (target, mpq(target.factor))
        return found[1]

    def expand(
        self,
        demand: Mapping[tuple[int, int], mpq],
        into: dict[StockKey, mpq] | None = None,
    ) -> dict[StockKey, mpq]:
        """What ``demand`` (portions per (recipe, inherited storage unit)) takes per stock
        key, added to ``into`` when given (the day's direct deductions: one dict, no merge)."""
        pending: dict[tuple[int, int], mpq] = defaultdict(mpq, demand)
        result: dict[StockKey, mpq] = defaultdict(mpq) if into is None else into
        for node in self._parents_first(demand):
            portions = pending[node]
            for storage, ingredient_id, sub_recipe_id, amount in self._lines(node):
                if ingredient_id is not None:
                    key = (storage, ingredient_id)
                    result[key] = result.get(key, ZERO) + portions * amount
                elif sub_recipe_id is not None:
                    pending[(sub_recipe_id, storage)] += portions * amount
        return result

    def _lines(self, node: tuple[int, int]) -> list[tuple[int, int | None, int | None, mpq]]:
        """(storage unit, ingredient, sub-recipe, amount per portion) of each recipe line;
        worked out once per (recipe, inherited storage) for the tree's lifetime (a catalog's:
        every run of that catalog reads the same lines)."""
        found = self._node_lines.get(node)
        if found is None:
            found = self._node_lines[node] = self._resolve(node)
        return found

    def _resolve(self, node: tuple[int, int]) -> list[tuple[int, int | None, int | None, mpq]]:
        recipe_id, inherited_storage = node
        recipe = self._recipes.get(recipe_id)
        if recipe is None:
            raise EngineError(f"recipe {recipe_id} is missing from the snapshot")
        shares = self._shares.get(recipe_id)
        if shares is None:
            portions = mpq(recipe.portions)
            shares = self._shares[recipe_id] = [
                mpq(line.quantity) / portions / (1 - mpq(line.trim))
                if line.ingredient_id is not None
                else mpq(line.quantity) / portions
                for line in recipe.lines
            ]
        fallback = recipe.default_issue_storage_id or inherited_storage
        return [
            (line.issue_storage_id or fallback, line.ingredient_id, line.sub_recipe_id, share)
            for line, share in zip(recipe.lines, shares, strict=True)
        ]

    def _parents_first(self, roots: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        done: set[tuple[int, int]] = set()
        order: list[tuple[int, int]] = []

        def visit(node: tuple[int, int], path: tuple[int, ...]) -> None:
            if node in done:
                return
            recipe_id = node[0]
            if recipe_id in path:
                raise EngineError(f"recipe {recipe_id} contains itself (path {(*path, recipe_id)})")
            for storage, _, sub_recipe_id, _ in self._lines(node):
                if sub_recipe_id is not None:
                    visit((sub_recipe_id, storage), (*path, recipe_id))
            done.add(node)
            order.append(node)

        for root in roots:
            visit(root, ())
        return order[::-1]


def deductions_of(
    quantities: Mapping[str, Decimal],
    mappings: Mapping[str, Target | None],
    tree: RecipeTree,
    storage_unit_id: int,
) -> dict[StockKey, mpq]:
    """What selling ``quantities`` (net per POS item) takes from stock, exactly: ingredient
    mappings directly, recipe mappings as portions demanded of the recipe tree."""
    deductions: dict[StockKey, mpq] = {}
    demand: dict[tuple[int, int], mpq] = {}
    exact: dict[Decimal, mpq] = {}
    for key, quantity in quantities.items():
        target = mappings.get(key)
        kind = type(target)
        if (kind is not IngredientTarget and kind is not RecipeTarget) or not quantity:
            continue  # unmapped or ignored: takes nothing
        sold = exact.get(quantity)
        if sold is None:
            sold = exact[quantity] = mpq(quantity)
        if kind is IngredientTarget:
            stock_key = (storage_unit_id, target.ingredient_id)  # type: ignore[union-attr]
            deductions[stock_key] = deductions.get(stock_key, ZERO) + sold * tree.factor(target)
        else:
            node = (target.recipe_id, storage_unit_id)  # type: ignore[union-attr]
            demand[node] = demand.get(node, ZERO) + sold * tree.factor(target)
    tree.expand(demand, into=deductions)
    return {key: amount for key, amount in deductions.items() if amount != 0}


def _skip_reason(line: SaleLine, voided_parents: set[tuple[str, str]]) -> str | None:
    if line.cancelled:
        return SkipReason.CANCELLED_SALE
    if line.voided:
        return SkipReason.VOIDED_LINE
    if line.parent_line_id is not None and (line.sale_id, line.parent_line_id) in voided_parents:
        return SkipReason.PARENT_VOIDED
    if line.kind is LineKind.NON_ITEM:
        return SkipReason.NON_ITEM
    return line.skip_reason


def _voided_lines(lines: Sequence[SaleLine]) -> set[tuple[str, str]]:
    """Lines that are voided themselves or through an ancestor (modifiers of modifiers)."""
    voided = {(line.sale_id, line.line_id) for line in lines if line.voided}
    if not voided:
        return set()
    parent_of = {(line.sale_id, line.line_id): line.parent_line_id for line in lines}
    result: set[tuple[str, str]] = set()
    for sale_id, line_id in parent_of:
        seen: set[str] = set()
        current: str | None = line_id
        while current is not None and current not in seen:
            if (sale_id, current) in voided:
                result.add((sale_id, line_id))
                break
            seen.add(current)
            current = parent_of.get((sale_id, current))
    return result


def run_engine(
    lines: Sequence[SaleLine],
    snapshot: Snapshot,
    storage_unit_id: int,
    tree: RecipeTree | None = None,
) -> EngineResult:
    """The day's deductions. ``tree``: a recipe tree over (at least) the snapshot's recipes,
    kept across runs so its line shares are computed once per catalog."""
    voided = _voided_lines(lines)
    dispositions: list[str] = []
    skipped: list[SkippedLine] = []
    skip_counts: Counter[str] = Counter()
    mappings = snapshot.mappings
    # Per item: its disposition, its first line and the quantities of its lines, summed
    # once at the end (a list append a line; a day has about 1.4 lines per item).
    items: dict[str, tuple[str, SaleLine, list[Decimal]]] = {}
    non_item = LineKind.NON_ITEM
    for line in lines:
        if (
            line.cancelled
            or line.voided
            or line.skip_reason is not None
            or line.kind is non_item
            or (voided and line.parent_line_id is not None)
        ):
            reason = _skip_reason(line, voided)
            if reason is not None:
                dispositions.append(f"skipped:{reason}")
                skip_counts[reason] += 1
                if len(skipped) < SKIPPED_DETAIL_LIMIT:
                    skipped.append(SkippedLine(line.sale_id, line.line_id, line.name, reason))
                continue
        item = items.get(line.key)
        if item is None:
            item = items[line.key] = (_disposition(mappings.get(line.key)), line, [])
        item[2].append(line.quantity)
        dispositions.append(item[0])
    # Each item's line quantities also by disposition: the volumes and line counts are then
    # summed once per disposition in C, not added to per item (1,400 items a 2,000-line day).
    net: dict[str, Decimal] = {}
    by_disposition: dict[str, list[list[Decimal]]] = defaultdict(list)
    unmapped = []
    zero = Decimal(0)
    for key, (disposition, first, quantities) in items.items():
        quantity = net[key] = (
            zero + quantities[0] if len(quantities) == 1 else sum(quantities, zero)
        )
        by_disposition[disposition].append(quantities)
        if disposition == UNMAPPED:
            unmapped.append(
                UnmappedItem(key, first.pos_code, first.name, quantity, len(quantities))
            )
    volume = {
        disposition: sum(map(abs, chain.from_iterable(lists)), zero)
        for disposition, lists in by_disposition.items()
    }
    line_counts = Counter(
        {disposition: sum(map(len, lists)) for disposition, lists in by_disposition.items()}
    )
    tree = tree or RecipeTree(snapshot.recipes)
    deductions = deductions_of(net, mappings, tree, storage_unit_id)

    result = EngineResult(
        deductions=deductions,
        dispositions=dispositions,
        item_quantities=net,
        unmapped=sorted(unmapped, key=lambda item: (-abs(item.quantity), item.key)),
        skipped=skipped,
    )
    result.stats = {
        "sales": len({line.sale_id for line in lines}),
        "lines": len(lines),
        "mapped": line_counts[Disposition.MAPPED.value],
        "unmapped": line_counts[UNMAPPED],
        "ignored": line_counts[Disposition.IGNORED.value],
        "skipped": dict(sorted(skip_counts.items())),
        "items": len(net),
        "unmapped_items": len(unmapped),
        "movements": sum(not rounds_to_zero(value) for value in deductions.values()),
        "quantities": {key: format_decimal(value) for key, value in sorted(volume.items())},
    }
    return result


UNMAPPED = Disposition.UNMAPPED.value

_DISPOSITION_OF: dict[type, str] = {
    type(None): Disposition.UNMAPPED.value,
    Ignored: Disposition.IGNORED.value,
    IngredientTarget: Disposition.MAPPED.value,
    RecipeTarget: Disposition.MAPPED.value,
}


def _disposition(target: Target | None) -> str:
    """The disposition's value for an item's mapping (one dict lookup: it runs per item)."""
    return _DISPOSITION_OF[type(target)]


def contributions(
    lines: Sequence[SaleLine],
    dispositions: Sequence[str],
    snapshot: Snapshot,
    storage_unit_id: int,
    stock_key: StockKey,
) -> list[tuple[int, mpq]]:
    """Which lines (by position) make up the deduction of one (storage unit, ingredient),
    and how much each one took: the trace from a movement back to the sales. An item's share
    is what one sale of it takes through the same expansion as the posting, so the
    contributions add up to the posted deduction exactly."""
    tree = RecipeTree(snapshot.recipes)
    per_item: dict[str, mpq] = {}
    result: list[tuple[int, mpq]] = []
    for position, (line, disposition) in enumerate(zip(lines, dispositions, strict=True)):
        if disposition != Disposition.MAPPED.value:
            continue
        key = line.key
        if key not in per_item:
            one_sale = deductions_of({key: Decimal(1)}, snapshot.mappings, tree, storage_unit_id)
            per_item[key] = one_sale.get(stock_key, mpq())
        amount = per_item[key] * mpq(line.quantity)
        if amount != 0:
            result.append((position, amount))
    return result
