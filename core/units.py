"""Units of measure and conversion into an ingredient's base unit.

Three families convert among themselves (mass, volume, count). Crossing families needs the
ingredient's ``measures``: "one base unit is this much of another unit", e.g. one bottle of
wine measures 0.75 l. An impossible conversion raises; it never becomes a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

from stockpot.core.words import quoted


class Family(StrEnum):
    MASS = "mass"
    VOLUME = "volume"
    COUNT = "count"


class Unit(StrEnum):
    MG = "mg"
    G = "g"
    KG = "kg"
    ML = "ml"
    CL = "cl"
    DL = "dl"
    L = "l"
    PCS = "pcs"

    @property
    def family(self) -> Family:
        return _FAMILY[self]

    @property
    def size(self) -> Fraction:
        """How many of the family's smallest reference unit one of this unit is."""
        return _SIZE[self]


_FAMILY = {
    Unit.MG: Family.MASS,
    Unit.G: Family.MASS,
    Unit.KG: Family.MASS,
    Unit.ML: Family.VOLUME,
    Unit.CL: Family.VOLUME,
    Unit.DL: Family.VOLUME,
    Unit.L: Family.VOLUME,
    Unit.PCS: Family.COUNT,
}
_SIZE = {
    Unit.MG: Fraction(1),
    Unit.G: Fraction(1000),
    Unit.KG: Fraction(1_000_000),
    Unit.ML: Fraction(1),
    Unit.CL: Fraction(10),
    Unit.DL: Fraction(100),
    Unit.L: Fraction(1000),
    Unit.PCS: Fraction(1),
}
_ALIASES = {
    "gram": Unit.G,
    "grams": Unit.G,
    "kilogram": Unit.KG,
    "kilograms": Unit.KG,
    "milligram": Unit.MG,
    "litre": Unit.L,
    "liter": Unit.L,
    "litres": Unit.L,
    "liters": Unit.L,
    "lt": Unit.L,
    "millilitre": Unit.ML,
    "milliliter": Unit.ML,
    "pc": Unit.PCS,
    "piece": Unit.PCS,
    "pieces": Unit.PCS,
    "each": Unit.PCS,
    "ea": Unit.PCS,
    "stk": Unit.PCS,
}

KNOWN_UNITS = ", ".join(unit.value for unit in Unit)


class UnitError(ValueError):
    """A unit that does not exist, or a conversion that is impossible."""


def parse_unit(text: str) -> Unit:
    key = text.strip().casefold()
    try:
        return Unit(key)
    except ValueError:
        pass
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnitError(f"unknown unit {quoted(text)}; use one of {KNOWN_UNITS}")


def conversion_factor(
    unit: Unit, base_unit: Unit, measures: Mapping[Unit, Decimal], ingredient: str
) -> Fraction:
    """How many base units one ``unit`` is, for the ingredient with these measures.

    ``measures`` maps a unit to how much of it one base unit is (``{Unit.L: 0.75}`` for a
    0.75 l bottle counted in pcs).
    """
    if unit.family is base_unit.family:
        return unit.size / base_unit.size
    for measure_unit, amount in measures.items():
        if measure_unit.family is unit.family:
            return (unit.size / measure_unit.size) / Fraction(amount)
    raise UnitError(
        f"unit '{unit}' cannot be converted to '{base_unit}' for ingredient '{ingredient}'; "
        f"give the ingredient a measure in {unit.family} units (e.g. measures: {{{unit}: ...}})"
    )


FAMILY_ORDER = (Family.MASS, Family.VOLUME, Family.COUNT)
"""The order unit groups are shown in: weighed, then measured, then counted."""

SINGULAR = {"pcs": "pc", "portions": "portion"}


def with_unit(shown: str, unit: str) -> str:
    """A number as written with its unit, singular for one: ``1 pc``, ``1 portion``, ``2 pcs``
    ("Montepulciano 1 pcs" next to "Cola 9 pcs" read as a slip)."""
    one = shown.lstrip("-") == "1"
    return f"{shown} {SINGULAR.get(unit, unit) if one else unit}"


FAMILY_WORDS = {Family.MASS: "weighed", Family.VOLUME: "measured", Family.COUNT: "counted"}
"""What each unit group is called wherever it is named: the count sheet's headings, a
day's deductions ("18 weighed, 4 measured, 10 counted")."""

T = TypeVar("T")


def in_reference(quantity: Decimal, unit: str) -> Decimal:
    """``quantity`` of ``unit`` in its family's smallest unit (mg, ml, pcs): comparable with
    quantities of the same family only."""
    size = parse_unit(unit).size
    return quantity * Decimal(size.numerator) / Decimal(size.denominator)


def largest_by_family(
    items: Iterable[T], quantity: Callable[[T], Decimal], unit: Callable[[T], str]
) -> dict[Family, list[T]]:
    """``items`` per unit family, each family's largest magnitude first (grams are compared
    with kilograms after conversion). Families never mix: a kilogram is not more than a
    piece or a litre; without costs there is no common measure."""
    grouped: dict[Family, list[T]] = {}
    for item in items:
        grouped.setdefault(parse_unit(unit(item)).family, []).append(item)
    return {
        family: sorted(
            grouped[family], key=lambda item: -abs(in_reference(quantity(item), unit(item)))
        )
        for family in FAMILY_ORDER
        if family in grouped
    }


def in_turns(groups: dict[Family, list[T]], limit: int) -> list[T]:
    """Up to ``limit`` items taking the next largest of each family in turn (the unit-free
    ranking of the report's chart: the top weighed, the top counted, the top measured, …)."""
    queues = [list(items) for items in groups.values()]
    picked: list[T] = []
    while len(picked) < limit and any(queues):
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


def ranked(
    items: Iterable[T],
    quantity: Callable[[T], Decimal],
    unit: Callable[[T], str],
    value: Callable[[T], Decimal | None],
    limit: int,
) -> list[T]:
    """The ``limit`` items that matter most: by value (money) when every item has one, else
    the largest of each unit family in turns (``in_turns``). Never kilograms against pieces,
    and never grams of one ingredient added to kilograms of another."""
    listed = list(items)
    values = [value(item) for item in listed]
    if listed and all(v is not None for v in values):
        order = sorted(range(len(listed)), key=lambda i: -abs(values[i]))  # type: ignore[arg-type]
        return [listed[i] for i in order[:limit]]
    return in_turns(largest_by_family(listed, quantity, unit), limit)
