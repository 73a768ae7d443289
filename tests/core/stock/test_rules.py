"""The count rule, property-tested: POS day reruns, counts, receipts, waste, moves and
corrections in random order give the balances and count adjustments of a reference model in
which a count fixes the balance at the close of its day (README "Stock", rules)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.errors import InvalidDocument
from stockpot.core.mapping import import_mappings
from stockpot.core.models import LedgerMovement, MovementType, StockKind
from stockpot.core.stock.services import LineInput, StockRequest, correct, post_stock
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from tests.catalogs import TRATTORIA, TRATTORIA_MAPPINGS, ids

START = date(2026, 11, 1)
DAYS = 6
UNITS = ("Kitchen", "Bar")
INGREDIENTS = ("Espresso beans", "House red")
POS_ITEMS = {"300": ("Espresso beans", Decimal("0.009")), "231": ("House red", Decimal(1))}
"""Both sold in the Main room, whose storage unit is the Kitchen."""
_companies = itertools.count()

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(50), places=3)
days = st.integers(0, DAYS - 1)
units = st.sampled_from(UNITS)
ingredients = st.sampled_from(INGREDIENTS)
operations = st.one_of(
    st.tuples(
        st.just("pos"), days, st.integers(0, 30), st.integers(0, 30)
    ),  # a day (re)run: espressos, bottles
    st.tuples(st.just("receipt"), days, units, ingredients, quantities),
    st.tuples(st.just("waste"), days, units, ingredients, quantities),
    st.tuples(st.just("move"), days, units, ingredients, quantities),
    st.tuples(
        st.just("count"),
        days,
        units,
        st.dictionaries(ingredients, st.decimals(0, 100, places=3), min_size=1),
    ),
    st.tuples(st.just("correct"), st.integers(0, 20)),
)

Key = tuple[str, str]


@dataclass
class Reference:
    """The rule, computed the obvious way from the facts that are live."""

    pos: dict[int, dict[Key, Decimal]] = field(default_factory=dict)
    flows: dict[int, list[tuple[int, Key, Decimal]]] = field(default_factory=dict)
    """Per posting: its movements (day, key, signed quantity)."""
    counts: dict[int, tuple[int, str, dict[str, Decimal]]] = field(default_factory=dict)
    """Per live count posting: day, unit, counted."""

    def changes(self, key: Key, after: int | None, upto: int) -> Decimal:
        lo = -1 if after is None else after
        total = sum(
            (
                q
                for day, moves in self.pos.items()
                if lo < day <= upto
                for k, q in moves.items()
                if k == key
            ),
            Decimal(0),
        )
        for moves in self.flows.values():
            total += sum((q for day, k, q in moves if k == key and lo < day <= upto), Decimal(0))
        return total

    def last_count(
        self, key: Key, upto: int, before_posting: int | None = None
    ) -> tuple[int, Decimal] | None:
        found = [
            (day, counted[key[1]], posting)
            for posting, (day, unit, counted) in self.counts.items()
            if unit == key[0] and key[1] in counted and day <= upto and posting != before_posting
        ]
        if not found:
            return None
        day, counted, _ = max(found)
        return day, counted

    def balance(self, key: Key, upto: int, skip_count: int | None = None) -> Decimal:
        last = self.last_count(key, upto, skip_count)
        if last is None:
            return self.changes(key, None, upto)
        day, counted = last
        return counted + self.changes(key, day, upto)


def catalog(name: str) -> tuple[str, str]:
    return (
        TRATTORIA.replace("Trattoria Esempio", name),
        TRATTORIA_MAPPINGS.replace("Trattoria Esempio", name),
    )


def ledger_balance(session, company_id: int, unit: int, ingredient: int, upto: date) -> Decimal:
    total = session.scalar(
        select(func.sum(LedgerMovement.quantity)).where(
            LedgerMovement.company_id == company_id,
            LedgerMovement.storage_unit_id == unit,
            LedgerMovement.ingredient_id == ingredient,
            LedgerMovement.business_date <= upto,
        )
    )
    return total or Decimal(0)


def adjustments_of(session, count_id: int) -> dict[tuple[int, int], Decimal]:
    rows = session.execute(
        select(
            LedgerMovement.storage_unit_id,
            LedgerMovement.ingredient_id,
            func.sum(LedgerMovement.quantity),
        )
        .where(LedgerMovement.count_id == count_id)
        .group_by(LedgerMovement.storage_unit_id, LedgerMovement.ingredient_id)
    )
    return {(u, i): q for u, i, q in rows}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=14))
def test_balances_and_adjustments_follow_the_count_rule(database, ops):
    name = f"Rule {next(_companies)}"
    text, mappings = catalog(name)
    import_catalog(database.factory, text, source="catalog.yaml")
    import_mappings(database.factory, mappings, source="mappings.yaml")
    with database.session() as session:
        found = ids(session, name)
    company_id = found["company"]
    reference = Reference()
    postings: list[int] = []
    for op in ops:
        kind = op[0]
        if kind == "pos":
            _, day, espressos, bottles = op
            lines = [
                SaleLine(
                    sale_id="S", line_id=f"L{code}", pos_code=code, name=code, quantity=Decimal(n)
                )
                for code, n in (("300", espressos), ("231", bottles))
                if n
            ]
            run_transfer(
                database.factory,
                found["location:Main room"],
                START + timedelta(days=day),
                lines,
                RawInput("test", f"{espressos} {bottles}"),
            )
            reference.pos[day] = {
                ("Kitchen", POS_ITEMS[code][0]): -POS_ITEMS[code][1] * n
                for code, n in (("300", espressos), ("231", bottles))
                if n
            }
        elif kind in ("receipt", "waste", "move"):
            _, day, unit, ingredient, quantity = op
            other = UNITS[1 - UNITS.index(unit)]
            result = post_stock(
                database.factory,
                StockRequest(
                    StockKind(kind),
                    company_id,
                    unit,
                    START + timedelta(days=day),
                    "test:rule",
                    [LineInput(ingredient, quantity)],
                    to_storage_unit=other if kind == "move" else None,
                ),
            )
            sign = -1 if kind == "waste" else 1
            moves = [(day, (unit, ingredient), sign * quantity)]
            if kind == "move":
                moves = [(day, (unit, ingredient), -quantity), (day, (other, ingredient), quantity)]
            reference.flows[result.posting_id] = moves
            postings.append(result.posting_id)
        elif kind == "count":
            _, day, unit, counted = op
            clash = any(
                d == day and u == unit and set(c) & set(counted)
                for d, u, c in reference.counts.values()
            )
            request = StockRequest(
                StockKind.COUNT,
                company_id,
                unit,
                START + timedelta(days=day),
                "test:rule",
                [LineInput(ingredient, quantity) for ingredient, quantity in counted.items()],
            )
            if clash:
                with pytest.raises(InvalidDocument, match="already counted"):
                    post_stock(database.factory, request)
                continue
            result = post_stock(database.factory, request)
            reference.counts[result.posting_id] = (day, unit, counted)
            postings.append(result.posting_id)
        else:
            if not postings:
                continue
            target = postings.pop(op[1] % len(postings))
            correct(database.factory, company_id, target, "test:rule")
            reference.flows.pop(target, None)
            reference.counts.pop(target, None)

    with database.session() as session:
        for unit, ingredient in itertools.product(UNITS, INGREDIENTS):
            for day in range(DAYS):
                expected = reference.balance((unit, ingredient), day)
                actual = ledger_balance(
                    session,
                    company_id,
                    found[f"unit:{unit}"],
                    found[f"ingredient:{ingredient}"],
                    START + timedelta(days=day),
                )
                assert actual == expected, (unit, ingredient, day)
        for posting, (day, unit, counted) in reference.counts.items():
            adjustments = adjustments_of(session, posting)
            for ingredient, quantity in counted.items():
                before = reference.balance((unit, ingredient), day, skip_count=posting)
                key = (found[f"unit:{unit}"], found[f"ingredient:{ingredient}"])
                assert adjustments.get(key, Decimal(0)) == quantity - before
        # Every move's legs balance, whatever was corrected.
        legs = session.scalar(
            select(func.sum(LedgerMovement.quantity)).where(
                LedgerMovement.company_id == company_id,
                LedgerMovement.type.in_([MovementType.TRANSFER_IN, MovementType.TRANSFER_OUT]),
            )
        )
        assert (legs or Decimal(0)) == 0
