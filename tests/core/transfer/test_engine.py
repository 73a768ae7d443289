"""The transfer engine, as a pure function: rules with worked numbers, then properties."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpot.core.transfer.engine import EngineError, contributions, run_engine
from stockpot.core.transfer.lines import LineKind, SaleLine
from stockpot.core.transfer.snapshot import (
    Ignored,
    IngredientTarget,
    RecipeLineSpec,
    RecipeSpec,
    RecipeTarget,
    Snapshot,
)

LOCATION = 1
KITCHEN, BAR, PASTRY = 1, 2, 3
FLOUR, MOZZARELLA, WINE, COFFEE, EGGS = 11, 12, 13, 14, 15


def line(code: str | None, quantity: str | int, sale: str = "S1", line_id: str | None = None, **kw):
    line.counter += 1  # type: ignore[attr-defined]
    return SaleLine(
        sale_id=sale,
        line_id=line_id or str(line.counter),  # type: ignore[attr-defined]
        pos_code=code,
        name=kw.pop("name", f"item {code}"),
        quantity=Decimal(str(quantity)),
        **kw,
    )


line.counter = 0  # type: ignore[attr-defined]


def ing(ingredient_id: int, quantity: str, trim: str = "0", storage: int | None = None):
    return RecipeLineSpec(ingredient_id, None, Fraction(quantity), Fraction(trim), storage)


def sub(recipe_id: int, portions: str, storage: int | None = None):
    return RecipeLineSpec(None, recipe_id, Fraction(portions), Fraction(0), storage)


def recipe(recipe_id: int, *lines: RecipeLineSpec, portions: str = "1", default: int | None = None):
    return RecipeSpec(recipe_id, f"recipe {recipe_id}", Fraction(portions), default, lines)


DOUGH = recipe(100, ing(FLOUR, "1.8"), portions="10")
PIZZA = recipe(101, sub(100, "1"), ing(MOZZARELLA, "0.125", trim="0.04"), default=KITCHEN)
GLASS = recipe(102, ing(WINE, "0.2", storage=BAR))
SPONGE = recipe(103, ing(EGGS, "1"), ing(FLOUR, "0.1"), portions="3", default=PASTRY)
TIRAMISU = recipe(104, sub(103, "1"), ing(COFFEE, "0.005"))
RECIPES = {r.recipe_id: r for r in (DOUGH, PIZZA, GLASS, SPONGE, TIRAMISU)}


def snapshot(**mappings) -> Snapshot:
    return Snapshot(mappings=mappings, recipes=RECIPES)


def test_ingredient_mapping_deducts_quantity_times_factor():
    result = run_engine(
        [line("ESP", 5)],
        snapshot(ESP=IngredientTarget(COFFEE, Fraction("0.009"))),
        LOCATION,
    )
    assert result.movements == {(LOCATION, COFFEE): Decimal("-0.045")}


def test_recipe_mapping_takes_portions_per_item_and_divides_by_recipe_portions():
    result = run_engine(
        [line("PLATTER", 1)], snapshot(PLATTER=RecipeTarget(100, Fraction(4))), LOCATION
    )
    # 4 portions of a dough whose 10 portions take 1.8 kg of flour
    assert result.movements == {(LOCATION, FLOUR): Decimal("-0.72")}


def test_trim_grosses_up_and_sub_recipes_inherit_the_storage_of_their_parent():
    result = run_engine([line("P", 2)], snapshot(P=RecipeTarget(101, Fraction(1))), LOCATION)
    assert result.deductions == {
        (KITCHEN, FLOUR): Fraction("0.36"),
        (KITCHEN, MOZZARELLA): Fraction("0.25") / Fraction("0.96"),
    }
    assert result.movements[(KITCHEN, MOZZARELLA)] == Decimal("-0.260416667")


def test_storage_precedence_line_then_recipe_default_then_parent_then_location():
    result = run_engine(
        [line("G", 1), line("T", 3)],
        snapshot(G=RecipeTarget(102, Fraction(1)), T=RecipeTarget(104, Fraction(1))),
        LOCATION,
    )
    assert result.deductions == {
        (BAR, WINE): Fraction("0.2"),  # the line's own issue storage
        (PASTRY, EGGS): Fraction(1),  # the sub-recipe's default issue storage
        (PASTRY, FLOUR): Fraction("0.1"),
        (LOCATION, COFFEE): Fraction("0.015"),  # no rule: the location's storage unit
    }


def test_a_sub_recipe_line_storage_is_passed_down():
    top = recipe(200, sub(100, "5", storage=PASTRY))
    result = run_engine(
        [line("X", 1)],
        Snapshot({"X": RecipeTarget(200, Fraction(1))}, {**RECIPES, 200: top}),
        LOCATION,
    )
    assert result.deductions == {(PASTRY, FLOUR): Fraction("0.9")}


def test_refunds_net_against_sales_of_the_same_item():
    lines = [line("ESP", 3), line("ESP", -1, sale="S2"), line("ESP", 2, sale="S3")]
    result = run_engine(lines, snapshot(ESP=IngredientTarget(COFFEE, Fraction("0.01"))), LOCATION)
    assert result.item_quantities == {"ESP": Decimal(4)}
    assert result.movements == {(LOCATION, COFFEE): Decimal("-0.04")}


def test_a_day_of_only_refunds_returns_stock():
    result = run_engine(
        [line("ESP", -2)], snapshot(ESP=IngredientTarget(COFFEE, Fraction("0.01"))), LOCATION
    )
    assert result.movements == {(LOCATION, COFFEE): Decimal("0.02")}


def test_skipped_lines_carry_their_reason_and_take_nothing():
    lines = [
        line("ESP", 1, sale="C", cancelled=True),
        line("ESP", 1, sale="V", line_id="v1", voided=True),
        line("ESP", 1, sale="V", line_id="v2", parent_line_id="v1", kind=LineKind.MODIFIER),
        line("ESP", 1, sale="V", line_id="v3", parent_line_id="v2", kind=LineKind.MODIFIER),
        line(None, 1, name="Tip", kind=LineKind.NON_ITEM),
        line("ESP", 1, sale="OK"),
    ]
    result = run_engine(lines, snapshot(ESP=IngredientTarget(COFFEE, Fraction(1))), LOCATION)
    assert result.dispositions == [
        "skipped:cancelled_sale",
        "skipped:voided_line",
        "skipped:parent_voided",
        "skipped:parent_voided",
        "skipped:non_item",
        "mapped",
    ]
    assert result.stats["skipped"] == {
        "cancelled_sale": 1,
        "non_item": 1,
        "parent_voided": 2,
        "voided_line": 1,
    }
    assert result.movements == {(LOCATION, COFFEE): Decimal(-1)}


def test_modifiers_are_lines_of_their_own_mapped_like_any_item():
    lines = [
        line("BURGER", 1, line_id="b1"),
        line("CHEESE", 1, line_id="b2", parent_line_id="b1", kind=LineKind.MODIFIER),
    ]
    result = run_engine(
        lines,
        snapshot(BURGER=Ignored(), CHEESE=IngredientTarget(MOZZARELLA, Fraction("0.02"))),
        LOCATION,
    )
    assert result.movements == {(LOCATION, MOZZARELLA): Decimal("-0.02")}
    assert result.stats["ignored"] == 1 and result.stats["mapped"] == 1


def test_unmapped_items_are_reported_with_net_quantity_and_deduct_nothing():
    lines = [
        line("NEW", 2, name="Tiramisu"),
        line("NEW", 1, sale="S2", name="Tiramisu"),
        line(None, 1, name="Deliveroo  Burger"),
        line(None, 1, sale="S3", name="deliveroo burger"),
    ]
    result = run_engine(lines, snapshot(), LOCATION)
    assert result.movements == {}
    assert [(u.key, u.quantity, u.lines) for u in result.unmapped] == [
        ("NEW", Decimal(3), 2),
        ("name:deliveroo burger", Decimal(2), 2),
    ]
    assert result.stats["unmapped"] == 4 and result.stats["unmapped_items"] == 2


def test_rounding_happens_once_on_the_aggregate():
    third = recipe(300, ing(FLOUR, "1"), portions="3")
    lines = [line("X", 1, sale=f"S{i}") for i in range(3)]
    result = run_engine(
        lines, Snapshot({"X": RecipeTarget(300, Fraction(1))}, {300: third}), LOCATION
    )
    # three sales of a third each: exactly 1, not 3 × 0.333333333
    assert result.movements == {(LOCATION, FLOUR): Decimal(-1)}


def test_a_cycle_in_a_snapshot_is_an_engine_error_not_an_endless_loop():
    looping = {1: recipe(1, sub(2, "1")), 2: recipe(2, sub(1, "1"))}
    with pytest.raises(EngineError, match="contains itself"):
        run_engine([line("X", 1)], Snapshot({"X": RecipeTarget(1, Fraction(1))}, looping), 1)


def test_statistics_count_sales_lines_and_movements():
    lines = [line("ESP", 1, sale="A"), line("P", 1, sale="B"), line("TIP", 1, sale="B")]
    result = run_engine(
        lines,
        snapshot(
            ESP=IngredientTarget(COFFEE, Fraction(1)),
            P=RecipeTarget(101, Fraction(1)),
            TIP=Ignored(),
        ),
        LOCATION,
    )
    assert result.stats == {
        "sales": 2,
        "lines": 3,
        "mapped": 2,
        "unmapped": 0,
        "ignored": 1,
        "skipped": {},
        "items": 3,
        "unmapped_items": 0,
        "movements": 3,
        "quantities": {"ignored": "1", "mapped": "2"},
    }


def test_a_deduction_that_rounds_to_nothing_is_no_movement_and_not_counted():
    """A factor of 4·10⁻¹⁰ rounds to zero at nine places; 6·10⁻¹⁰ to one unit. The count
    in the stats is known before the movements are rounded (the COPY rounds them)."""
    mappings = {
        "DUST": IngredientTarget(FLOUR, Fraction(4, 10**10)),
        "SPECK": IngredientTarget(EGGS, Fraction(6, 10**10)),
    }
    result = run_engine([line("DUST", 1), line("SPECK", 1)], Snapshot(mappings, RECIPES), 1)
    assert result.stats["movements"] == 1
    assert dict(result.rounded()) == {(1, EGGS): Decimal("-1E-9")}
    assert result.movements == {(1, EGGS): Decimal("-1E-9")}
    assert list(result.rounded()) == list(result.movements.items())


def test_snapshot_survives_a_json_round_trip():
    original = snapshot(
        A=IngredientTarget(COFFEE, Fraction(1, 3)),
        B=RecipeTarget(104, Fraction(2)),
        C=Ignored(),
        D=None,
    )
    assert Snapshot.from_json(original.to_json()) == original


# --- properties -------------------------------------------------------------------------

KEYS = ["A", "B", "C", "D", "E"]
INGREDIENTS = [21, 22, 23, 24]
UNITS = [None, 31, 32]


@st.composite
def recipe_graphs(draw) -> dict[int, RecipeSpec]:
    """Acyclic by construction: recipe i only uses recipes below i."""
    recipes: dict[int, RecipeSpec] = {}
    for recipe_id in range(draw(st.integers(1, 5))):
        specs = []
        for _ in range(draw(st.integers(1, 4))):
            quantity = Fraction(draw(st.integers(1, 400)), draw(st.sampled_from([1, 3, 10, 100])))
            storage = draw(st.sampled_from(UNITS))
            if recipe_id and draw(st.booleans()):
                specs.append(sub(draw(st.integers(0, recipe_id - 1)), str(quantity), storage))
            else:
                trim = Fraction(draw(st.integers(0, 50)), 100)
                specs.append(
                    RecipeLineSpec(
                        draw(st.sampled_from(INGREDIENTS)), None, quantity, trim, storage
                    )
                )
        portions = str(draw(st.sampled_from([1, 2, 3, 7, 10])))
        recipes[recipe_id] = recipe(
            recipe_id, *specs, portions=portions, default=draw(st.sampled_from(UNITS))
        )
    return recipes


@st.composite
def snapshots(draw) -> Snapshot:
    recipes = draw(recipe_graphs())
    factor = st.builds(Fraction, st.integers(1, 500), st.sampled_from([1, 4, 1000]))
    target = st.one_of(
        st.none(),
        st.just(Ignored()),
        st.builds(IngredientTarget, st.sampled_from(INGREDIENTS), factor),
        st.builds(RecipeTarget, st.sampled_from(sorted(recipes)), factor),
    )
    return Snapshot({key: draw(target) for key in KEYS}, recipes)


quantities = st.decimals(
    min_value=-5, max_value=30, places=3, allow_nan=False, allow_infinity=False
)


@st.composite
def days(draw) -> list[SaleLine]:
    lines = []
    for index in range(draw(st.integers(0, 25))):
        lines.append(
            SaleLine(
                sale_id=f"S{draw(st.integers(0, 6))}",
                line_id=f"L{index}",
                pos_code=draw(st.sampled_from(KEYS)),
                name="x",
                quantity=draw(quantities),
                voided=draw(st.booleans()) and draw(st.booleans()),
                cancelled=draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
                kind=draw(st.sampled_from([LineKind.ITEM, LineKind.MODIFIER, LineKind.NON_ITEM])),
            )
        )
    return lines


def reference(lines: list[SaleLine], snap: Snapshot, location: int) -> dict:
    """The rules of DESIGN.md restated naively: line by line, recursion without memo."""
    totals: dict = defaultdict(Fraction)

    def walk(recipe_id: int, portions: Fraction, inherited: int) -> None:
        spec = snap.recipes[recipe_id]
        for spec_line in spec.lines:
            storage = spec_line.issue_storage_id or spec.default_issue_storage_id or inherited
            share = portions * spec_line.quantity / spec.portions
            if spec_line.ingredient_id is not None:
                totals[(storage, spec_line.ingredient_id)] += share / (1 - spec_line.trim)
            else:
                walk(spec_line.sub_recipe_id, share, storage)

    for sale_line in lines:
        if sale_line.cancelled or sale_line.voided or sale_line.kind is LineKind.NON_ITEM:
            continue
        target = snap.mappings.get(sale_line.key)
        sold = Fraction(sale_line.quantity)
        if isinstance(target, IngredientTarget):
            totals[(location, target.ingredient_id)] += sold * target.factor
        elif isinstance(target, RecipeTarget):
            walk(target.recipe_id, sold * target.factor, location)
    return {key: value for key, value in totals.items() if value != 0}


@settings(max_examples=200, deadline=None)
@given(snap=snapshots(), lines=days())
def test_engine_equals_the_reference_computation(snap, lines):
    assert run_engine(lines, snap, LOCATION).deductions == reference(lines, snap, LOCATION)


@settings(max_examples=200, deadline=None)
@given(snap=snapshots(), key=st.sampled_from(KEYS), count=st.integers(1, 40))
def test_n_sales_of_an_item_equal_n_times_one(snap, key, count):
    one = run_engine([SaleLine("S", "1", key, "x", Decimal(1))], snap, LOCATION).deductions
    as_lines = [SaleLine(f"S{i}", "1", key, "x", Decimal(1)) for i in range(count)]
    as_quantity = [SaleLine("S", "1", key, "x", Decimal(count))]
    expected = {k: v * count for k, v in one.items()}
    assert run_engine(as_lines, snap, LOCATION).deductions == expected
    assert run_engine(as_quantity, snap, LOCATION).deductions == expected


@settings(max_examples=100, deadline=None)
@given(snap=snapshots(), lines=days(), seed=st.randoms(use_true_random=False))
def test_the_order_of_lines_does_not_matter(snap, lines, seed):
    shuffled = list(lines)
    seed.shuffle(shuffled)
    assert (
        run_engine(shuffled, snap, LOCATION).movements
        == run_engine(lines, snap, LOCATION).movements
    )


@settings(max_examples=200, deadline=None)
@given(snap=snapshots(), lines=days())
def test_the_traced_contributions_of_every_deduction_add_up_to_it_exactly(snap, lines):
    result = run_engine(lines, snap, LOCATION)
    for stock_key, deducted in result.deductions.items():
        traced = contributions(lines, result.dispositions, snap, LOCATION, stock_key)
        assert sum(amount for _, amount in traced) == deducted
        assert all(result.dispositions[position] == "mapped" for position, _ in traced)
    for stock_key in {(unit, item) for unit in (LOCATION, 31, 32) for item in INGREDIENTS}:
        if stock_key not in result.deductions:
            traced = contributions(lines, result.dispositions, snap, LOCATION, stock_key)
            assert sum(amount for _, amount in traced) == 0


def test_a_connector_may_exclude_a_line_with_its_own_reason():
    lines = [line("ESP", -1, skip_reason="refund_not_restocked"), line("ESP", 2)]
    result = run_engine(lines, snapshot(ESP=IngredientTarget(COFFEE, Fraction(1))), LOCATION)
    assert result.dispositions == ["skipped:refund_not_restocked", "mapped"]
    assert result.stats["skipped"] == {"refund_not_restocked": 1}
    assert result.movements == {(LOCATION, COFFEE): Decimal(-2)}
