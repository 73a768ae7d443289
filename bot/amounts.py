"""Quantities as people read them: ``-523.33 pcs``, ``-1.6 kg``, ``16.8 g``.

Every message, chart label and Slack text shows quantities through ``human``; the ledger, the
CLI's ``--json`` and exported files keep the exact values (``core.exact.format_decimal``).

The rule: a weight is shown in kg from 1 kg up, else in g; a volume in l from
1 l up, else in ml; weights and volumes keep three significant digits (never rounding the
whole part: 1234.5 kg is ``1,235 kg``); a count keeps at most two decimals (one piece is
``1 pc``). Trailing zeros go.
Thousands are grouped as money's are (``core.words.grouped``): 1,000,000 kg.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from stockpot.core.units import Family, Unit, parse_unit, with_unit
from stockpot.core.words import grouped

SIGNIFICANT = 3
COUNT_DECIMALS = 2

_DISPLAY = {
    Family.MASS: (Unit.KG, Unit.G),
    Family.VOLUME: (Unit.L, Unit.ML),
}


def human(quantity: Decimal | int, unit: str) -> str:
    """``quantity`` of ``unit`` (a base unit, e.g. ``g``), rounded for reading."""
    value = Decimal(quantity)
    try:
        parsed = parse_unit(unit)
    except ValueError:
        return f"{_rounded(value, COUNT_DECIMALS)} {unit}".rstrip()
    if value == 0:
        return f"0 {parsed.value}"
    if parsed.family is Family.COUNT:
        return with_unit(_rounded(value, COUNT_DECIMALS), parsed.value)
    shown, factor = display_unit(value, unit)
    in_shown = value * factor
    whole_digits = len(str(int(abs(in_shown)))) if abs(in_shown) >= 1 else 0
    return f"{_rounded(in_shown, max(SIGNIFICANT - whole_digits, 0))} {shown}"


SIDE_BY_SIDE_DECIMALS = 3
"""At most grams of a kilogram (millilitres of a litre) when quantities are shown together."""


def human_together(quantities: Sequence[Decimal], unit: str) -> list[str]:
    """Quantities read side by side (used, sold and their difference) in one unit, the
    largest's, and with the decimals the smallest needs for three significant digits (at
    most three), so the figures add up as shown: ``used 61.8 kg, sold 56.6 kg → 5.11 kg``
    and ``used 1 kg, sold 900 g → 100 g`` did not read as one sum."""
    values = [Decimal(q) for q in quantities]
    try:
        parsed = parse_unit(unit)
    except ValueError:
        return [human(v, unit) for v in values]
    if parsed.family is Family.COUNT or not any(values):
        return [human(v, unit) for v in values]
    shown, factor = display_unit(max((abs(v) for v in values), default=Decimal(0)), unit)
    converted = [v * factor for v in values]
    decimals = max(
        (SIGNIFICANT - 1 - c.copy_abs().adjusted() for c in converted if c != 0), default=0
    )
    decimals = min(max(decimals, 0), SIDE_BY_SIDE_DECIMALS)
    return [f"{_rounded(c, decimals)} {shown}" for c in converted]


def count(quantity: Decimal | int) -> str:
    """A number of things sold or counted, without a unit: ``12``, ``2.5``."""
    return _rounded(Decimal(quantity), COUNT_DECIMALS)


def display_unit(magnitude: Decimal, unit: str) -> tuple[str, Decimal]:
    """The unit to show a quantity of about ``magnitude`` ``unit`` in, and the factor from
    ``unit`` to it (``240000 g`` → ``("kg", 0.001)``)."""
    try:
        parsed = parse_unit(unit)
    except ValueError:
        return unit, Decimal(1)
    if parsed.family is Family.COUNT:
        return parsed.value, Decimal(1)
    size = Decimal(parsed.size.numerator) / Decimal(parsed.size.denominator)
    choices = _DISPLAY[parsed.family]
    shown = choices[-1]
    for choice in choices:
        if abs(magnitude) * size >= Decimal(choice.size.numerator):
            shown = choice
            break
    return shown.value, size / Decimal(shown.size.numerator)


def _rounded(value: Decimal, decimals: int) -> str:
    exact = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if exact == 0:
        return "0" if value == 0 else ("≈0" if value > 0 else "≈-0")
    text = grouped(exact)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
