"""Exact arithmetic helpers: rationals inside the engine, decimal strings at the edges.

Dividing by portions or by ``1 - trim`` can give non-terminating decimals (1/3 of a dough),
so the engine computes with exact rationals and rounds exactly once, when a movement is posted:
``Fraction`` at the edges (snapshots, catalog), gmpy2's ``mpq`` (the same values, about ten
times faster, equal and hashing equal to ``Fraction``) in the engine's arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from gmpy2 import mpq

from stockpot.core.db import SCALE
from stockpot.core.words import quoted


def to_fraction(value: Decimal | Fraction | int | str) -> Fraction:
    return value if isinstance(value, Fraction) else Fraction(value)


def fraction_to_decimal(value: Fraction | mpq) -> Decimal:
    """Round a rational to the stored scale (half-even), exactly.

    Integer arithmetic only: a ``Decimal`` division rounds to the context's 28 digits first,
    so a large or finely divided value could be rounded twice. Here the count of 10⁻⁹ units
    is rounded once, half to even, and the decimal is built from its text (no context)."""
    numerator = int(value.numerator) * 10**SCALE
    denominator = int(value.denominator)
    units, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and units % 2):
        units += 1
    if units == 0 and numerator < 0:
        return Decimal(f"-0e-{SCALE}")
    return Decimal(f"{units}e-{SCALE}")


HALF_UNIT = mpq(1, 2 * 10**SCALE)
"""Half of the stored scale's unit: ``fraction_to_decimal`` rounds a value within it (its
end included, half to even) to zero."""


def rounds_to_zero(value: Fraction | mpq) -> bool:
    """Whether ``fraction_to_decimal(value)`` is zero, known without rounding (a comparison
    against ``HALF_UNIT``; rounding a value is ten times as long)."""
    return -HALF_UNIT <= value <= HALF_UNIT


def fraction_text(value: Fraction) -> str:
    """``"0.15"`` when the value is a terminating decimal, else ``"1/3"``: exact either way."""
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    exponent = max(twos, fives)
    scaled = value.numerator * (10**exponent // value.denominator)
    return format_decimal(Decimal(scaled).scaleb(-exponent))


def decimal_fractions() -> Callable[[Decimal], Fraction]:
    """Decimal → Fraction, memoised (catalog quantities repeat a lot; ``Fraction(Decimal)``
    is slow)."""
    memo: dict[Decimal, Fraction] = {}

    def convert(value: Decimal) -> Fraction:
        result = memo.get(value)
        if result is None:
            result = memo[value] = Fraction(*value.as_integer_ratio())
        return result

    return convert


def format_decimal(value: Decimal) -> str:
    """Plain notation, no exponent, no trailing zeros: ``1.800000000`` → ``1.8``."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def write_a_number(point: str = ".") -> str:
    """The one fix for text that is not a number, wherever a number is read (Slack, YAML,
    count files, sales lines; a CSV import with its profile's decimal separator)."""
    return f"write it with the digits 0-9 and a '{point}' for decimals, e.g. 2 or 1{point}5"


def written_number_problem(text: str) -> str | None:
    """Why ``text`` is not a number as people write it (``write_a_number``), or ``None``.
    ``Decimal`` itself reads ``١٢`` and ``٣`` as 12 and 3 and ``1_000`` as 1000, which nobody
    reading the file back would see: only ASCII digits, without ``_``; and text ``Decimal``
    cannot read (``0x10``, ``lots``) is not a number either, nor what it reads as no finite
    number (``NaN``, ``inf``, ``-Infinity``): refused by the sentence a CSV cell's ``NaN``
    gets, not as a number out of range. Scientific notation (``1e3``) is a number, held to
    the range like any other."""
    if not text.isascii() or "_" in text:
        return write_a_number()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return write_a_number()
    return None if number.is_finite() else write_a_number()


def not_a_number(written: str, problem: str) -> str:
    """``'0x10' is not a number; write it with …``: the one sentence of every refusal of a
    number typed or written in a file, naming what was written (at most its start)."""
    return f"{quoted(written)} is not a number; {problem}"


def parse_decimal(value: object, *, what: str) -> Decimal:
    """A decimal from a JSON/YAML number or string; floats go through their shortest repr."""
    shown = value if isinstance(value, Decimal) else repr(value)
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number, got {shown}")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    problem = written_number_problem(text)
    if problem is not None:
        raise ValueError(f"{what}: {not_a_number(text, problem)}")
    return Decimal(text)
