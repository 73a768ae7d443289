from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from gmpy2 import mpq
from hypothesis import example, given
from hypothesis import strategies as st

from stockpot.core.db import QUANTUM
from stockpot.core.exact import (
    format_decimal,
    fraction_text,
    fraction_to_decimal,
    parse_decimal,
    rounds_to_zero,
)


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


def _decimal_rounding(value: Fraction) -> Decimal:
    """Decimal's own half-even quantize of the exact rational. The division is carried far
    enough that its last digit cannot move a value onto or off a tie: a rational with
    denominator q is either exactly a tie or at least 1/(2·10⁹·q) away from one."""
    digits = len(str(abs(value.numerator))) + 2 * len(str(value.denominator)) + 30
    with localcontext() as context:
        context.prec = digits
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


@given(
    st.fractions(max_denominator=10**30)
    | st.integers(-(10**40), 10**40).map(lambda n: Fraction(n, 2 * 10**9))
    | st.builds(Fraction, st.integers(-(10**60), 10**60), st.integers(1, 10**45))
)
@example(Fraction(1, 3))
@example(Fraction(-5, 10**10))
@example(Fraction(25, 10**10))
@example(Fraction(10**40 + 1, 3))
@example(Fraction(5, 10**10) + Fraction(1, 10**30))
def test_rounding_equals_decimal_quantize_of_the_exact_rational(value):
    expected = _decimal_rounding(value)
    assert fraction_to_decimal(value) == expected
    assert fraction_to_decimal(mpq(value.numerator, value.denominator)) == expected
    assert fraction_to_decimal(value).as_tuple().exponent == expected.as_tuple().exponent
    assert rounds_to_zero(value) is (expected == 0)
    assert rounds_to_zero(mpq(value.numerator, value.denominator)) is (expected == 0)


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
    for bad in (True, None):
        with pytest.raises(ValueError, match="q must be"):
            parse_decimal(bad, what="q")
    for bad in ("NaN", "Infinity", "-inf", float("nan")):
        with pytest.raises(ValueError, match=r"^q: '\S+' is not a number; write it with the"):
            parse_decimal(bad, what="q")
    with pytest.raises(ValueError, match=r"^q: 'abc' is not a number; write it with the digits"):
        parse_decimal("abc", what="q")
