from decimal import Decimal
from fractions import Fraction

import pytest

from stockpot.core.units import Unit, UnitError, conversion_factor, parse_unit


@pytest.mark.parametrize(
    ("unit", "base", "factor"),
    [
        (Unit.G, Unit.KG, Fraction(1, 1000)),
        (Unit.KG, Unit.G, Fraction(1000)),
        (Unit.MG, Unit.KG, Fraction(1, 1_000_000)),
        (Unit.CL, Unit.L, Fraction(1, 100)),
        (Unit.DL, Unit.ML, Fraction(100)),
        (Unit.PCS, Unit.PCS, Fraction(1)),
    ],
)
def test_conversion_within_a_family_is_built_in(unit, base, factor):
    assert conversion_factor(unit, base, {}, "x") == factor


def test_measures_cross_families_both_ways():
    bottle = {Unit.L: Decimal("0.75")}
    assert conversion_factor(Unit.CL, Unit.PCS, bottle, "wine") * 15 == Fraction(1, 5)
    eggs_by_weight = {Unit.PCS: Decimal(16)}  # one kg is 16 eggs
    assert conversion_factor(Unit.PCS, Unit.KG, eggs_by_weight, "eggs") == Fraction(1, 16)


def test_an_impossible_conversion_says_how_to_fix_it():
    with pytest.raises(UnitError) as caught:
        conversion_factor(Unit.G, Unit.PCS, {Unit.L: Decimal("0.75")}, "House red")
    assert str(caught.value) == (
        "unit 'g' cannot be converted to 'pcs' for ingredient 'House red'; give the ingredient "
        "a measure in mass units (e.g. measures: {g: ...})"
    )


@pytest.mark.parametrize(("text", "unit"), [("KG", Unit.KG), (" L ", Unit.L), ("pieces", Unit.PCS)])
def test_units_are_read_forgivingly(text, unit):
    assert parse_unit(text) is unit


def test_unknown_units_list_the_known_ones():
    with pytest.raises(
        UnitError, match="unknown unit 'oz'; use one of mg, g, kg, ml, cl, dl, l, pcs"
    ):
        parse_unit("oz")
