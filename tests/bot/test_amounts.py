"""Quantities shown rounded for people, in the unit the ingredient is counted in; ranked
without mixing units."""

from decimal import Decimal

import pytest

from stockpot.bot.amounts import count, human, human_together
from stockpot.core.recipes import amount_text
from stockpot.core.stock.costs import money
from stockpot.core.units import ranked
from stockpot.core.words import figure


@pytest.mark.parametrize(
    ("quantity", "unit", "shown"),
    [
        ("-523.333333333", "pcs", "-523 pcs"),
        ("-36.666666667", "pcs", "-36.7 pcs"),  # was -36.67 pcs beside -917 g
        ("-8.333333333", "pcs", "-8.33 pcs"),
        ("-1.603333333", "kg", "-1.6 kg"),
        ("16.833333333", "g", "16.8 g"),
        ("-1600.4", "g", "-1,600 g"),  # counted in g: was -1.6 kg
        ("-0.917", "kg", "-0.917 kg"),  # counted in kg: was -917 g
        ("240000", "g", "240,000 g"),
        ("1234.5", "kg", "1,235 kg"),
        ("1000000000", "g", "1,000,000,000 g"),
        ("-1234567.891", "pcs", "-1,234,568 pcs"),
        ("0.5", "g", "0.5 g"),
        ("-0.75", "l", "-0.75 l"),
        ("1500", "ml", "1,500 ml"),
        ("12.5", "cl", "12.5 cl"),
        ("0.0015", "kg", "0.002 kg"),  # at most a gram of a kilogram
        ("0", "kg", "0 kg"),
        ("0.0001", "pcs", "≈0 pcs"),
        ("3", "pcs", "3 pcs"),
    ],
)
def test_quantities_are_rounded_in_the_unit_the_ingredient_is_counted_in(quantity, unit, shown):
    assert human(Decimal(quantity), unit) == shown


def test_quantities_group_thousands_by_the_rule_money_does():
    """Money read 1,000,000.00 EUR beside a stock of 1000000 kg: one grouping rule now
    (``core.words.grouped``), for rounded quantities, exact ones (CLI tables) and money."""
    assert money(Decimal("1000000"), "EUR") == "1,000,000.00 EUR"
    assert human(Decimal(10**6), "kg") == "1,000,000 kg"
    assert human_together([Decimal(1_500_000), Decimal(2_250_000)], "pcs") == [
        "1,500,000 pcs",
        "2,250,000 pcs",
    ]
    assert count(Decimal("12345.5")) == "12,345.5"
    assert figure(Decimal("1000000.000")) == "1,000,000" and figure(0) == "0"
    assert figure(Decimal("1234.567890000")) == "1,234.56789"


def test_counts():
    assert count(Decimal("12.000")) == "12" and count(Decimal("2.505")) == "2.51"


def test_one_piece_is_one_pc():
    """ "Montepulciano 1 pcs (5.79 EUR)" next to "Cola 0,33l 9 pcs" read as a slip."""
    assert human(Decimal(1), "pcs") == "1 pc" and human(Decimal("-1.000"), "pcs") == "-1 pc"
    assert human(Decimal("1.004"), "pcs") == "1 pc" and human(Decimal("1.5"), "pcs") == "1.5 pcs"
    assert human(Decimal(11), "pcs") == "11 pcs" and human(Decimal("0.5"), "pcs") == "0.5 pcs"
    assert human_together([Decimal(121), Decimal(120), Decimal(1)], "pcs")[2] == "1 pc"
    # A mapping's exact amount follows the same rule: "1 pc of House red per sale".
    assert amount_text(Decimal(1), "pcs") == "1 pc" and amount_text(Decimal(2), "pcs") == "2 pcs"
    assert amount_text(Decimal(1), "portions") == "1 portion"


ROWS = [
    ("Oregano", Decimal(300), "g", None),
    ("Yeast", Decimal(900), "g", None),
    ("Mozzarella", Decimal(240), "kg", None),
    ("Cola", Decimal(120), "pcs", None),
    ("Wine", Decimal(3), "l", None),
]


def test_without_costs_each_kind_takes_its_turn_and_grams_meet_kilograms_converted():
    top = ranked(ROWS, lambda r: r[1], lambda r: r[2], lambda r: r[3], 4)
    assert [r[0] for r in top] == ["Mozzarella", "Wine", "Cola", "Yeast"]


def test_with_costs_value_decides():
    costs = [Decimal(c) for c in ("0.05", "0.01", "8", "1", "6")]
    priced = [(n, q, u, q * c) for (n, q, u, _), c in zip(ROWS, costs, strict=True)]
    top = ranked(priced, lambda r: r[1], lambda r: r[2], lambda r: r[3], 3)
    assert [r[0] for r in top] == ["Mozzarella", "Cola", "Wine"]


@pytest.mark.parametrize(
    ("quantities", "unit", "shown"),
    [
        # The demo's mozzarella: each figure alone read 61.8 - 56.6 = 5.11.
        (["61.751", "56.642", "5.109"], "kg", ["61.75 kg", "56.64 kg", "5.11 kg"]),
        (["1", "0.9", "0.1"], "kg", ["1 kg", "0.9 kg", "0.1 kg"]),  # was 1 kg, 900 g, 100 g
        (["0.45", "0.435", "0.015"], "kg", ["0.45 kg", "0.435 kg", "0.015 kg"]),  # was g
        (["1200", "1182.5", "17.5"], "g", ["1,200 g", "1,182.5 g", "17.5 g"]),  # was kg
        (["8.5", "8.04", "0.46"], "kg", ["8.5 kg", "8.04 kg", "0.46 kg"]),
        (["250", "240.5", "9.5"], "g", ["250 g", "240.5 g", "9.5 g"]),
        (["61.7512345", "61.7512", "0.0000345"], "kg", ["61.751 kg", "61.751 kg", "≈0 kg"]),
        (["31", "28", "3"], "pcs", ["31 pcs", "28 pcs", "3 pcs"]),
        (["0", "0", "0"], "l", ["0 l", "0 l", "0 l"]),
    ],
)
def test_quantities_side_by_side_share_a_unit_and_decimals(quantities, unit, shown):
    assert human_together([Decimal(q) for q in quantities], unit) == shown
