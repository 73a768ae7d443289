"""Quantities as people read them: ``-523 pcs``, ``-1.6 kg``, ``16.8 g``.

Every message, chart label and Slack text shows quantities through ``human``; the ledger, the
CLI's ``--json`` and exported files keep the exact values (``core.exact.format_decimal``).

The rule: a quantity is shown in the unit it is kept in, the ingredient's base unit, which is
the unit it is counted in (the count sheet asks Oregano in g and Mascarpone in kg; a balance
of "-917 g" of Mascarpone and a variance of "1.2 kg" of Oregano read as other ingredients).
Every family keeps three significant digits, never rounding the whole part (1234.5 kg is
``1,235 kg``, 36.67 pcs is ``36.7 pcs``), with at most three decimals for a weight or a volume
(a gram of a kilogram) and two for a count (one piece is ``1 pc``). Trailing zeros go.
Thousands are grouped as money's are (``core.words.grouped``): 1,000,000 kg.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from stockpot.core.units import Family, Unit, parse_unit, with_unit
from stockpot.core.words import grouped

SIGNIFICANT = 3
COUNT_DECIMALS = 2
MAX_DECIMALS = {Family.MASS: 3, Family.VOLUME: 3, Family.COUNT: COUNT_DECIMALS}
"""At most grams of a kilogram (millilitres of a litre), hundredths of a piece."""


def human(quantity: Decimal | int, unit: str) -> str:
    """``quantity`` of ``unit`` (a base unit, e.g. ``g``), rounded for reading."""
    return human_together([Decimal(quantity)], unit)[0]


def human_together(quantities: Sequence[Decimal], unit: str) -> list[str]:
    """Quantities read side by side (used, sold and their difference) with the decimals the
    smallest needs for three significant digits, so the figures add up as shown: ``used
    61.8 kg, sold 56.6 kg → 5.11 kg`` did not read as one sum (``61.75 kg, 56.64 kg →
    5.11 kg``)."""
    values = [Decimal(q) for q in quantities]
    try:
        parsed = parse_unit(unit)
    except ValueError:
        return [f"{_rounded(v, COUNT_DECIMALS)} {unit}".rstrip() for v in values]
    decimals = min(
        max((SIGNIFICANT - 1 - v.copy_abs().adjusted() for v in values if v != 0), default=0),
        MAX_DECIMALS[parsed.family],
    )
    return [_shown(v, max(decimals, 0), parsed) for v in values]


def _shown(value: Decimal, decimals: int, unit: Unit) -> str:
    return f"0 {unit.value}" if value == 0 else with_unit(_rounded(value, decimals), unit.value)


def count(quantity: Decimal | int) -> str:
    """A number of things sold or counted, without a unit: ``12``, ``2.5``."""
    return _rounded(Decimal(quantity), COUNT_DECIMALS)


def _rounded(value: Decimal, decimals: int) -> str:
    exact = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if exact == 0:
        return "0" if value == 0 else ("≈0" if value > 0 else "≈-0")
    text = grouped(exact)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
