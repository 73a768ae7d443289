from decimal import Decimal
from fractions import Fraction

import pytest

from stockpot.core.exact import format_decimal, fraction_text, fraction_to_decimal, parse_decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(3, 20), "0.15"), (Fraction(1, 3), "1/3"), (Fraction(-7), "-7"), (Fraction(0), "0")],
)
def test_fraction_text_is_exact_and_readable(value, text):
    assert fraction_text(value) == text
    assert Fraction(text) == value


def test_rounding_is_half_even_at_nine_places():
    assert fraction_to_decimal(Fraction(1, 3)) == Decimal("0.333333333")
    assert fraction_to_decimal(Fraction(5, 10**10)) == Decimal("0")
    assert fraction_to_decimal(Fraction(15, 10**10)) == Decimal("0.000000002")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.800000000"), "1.8"),
        (Decimal("100"), "100"),
        (Decimal("-0E-9"), "0"),
        (Decimal("1E+2"), "100"),
    ],
)
def test_format_decimal_has_no_exponent_and_no_trailing_zeros(value, text):
    assert format_decimal(value) == text


def test_parse_decimal_takes_numbers_and_strings_but_not_nonsense():
    assert parse_decimal(0.1, what="q") == Decimal("0.1")
    assert parse_decimal(" 2.50 ", what="q") == Decimal("2.50")
    for bad in (True, None, "abc", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="q must be"):
            parse_decimal(bad, what="q")
