"""The one rule for every quantity Stockpot reads: a catalog quantity, trim, measure or
portion count, a mapping factor, a CSV cell, a CSV profile's default quantity, a factor typed
into Slack, and every sales line before it is stored.

Quantities are stored as NUMERIC(30, 9) on PostgreSQL and as integers of 10⁻⁹ units on
SQLite, whose 64-bit integers end at about 9.2 × 10⁹ units. Every value stored, read or
computed for a movement is therefore held to nine integer digits and nine decimal places,
which fits both databases; sums of many (a balance) are exact on both, SQLite's own ``SUM``
replaced by one without its overflow (``core.db``). A movement worked out from a sum (a count's
adjustment) is held to the same range when it is posted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from stockpot.core.db import SCALE
from stockpot.core.exact import not_a_number, write_a_number, written_number_problem
from stockpot.core.units import UnitError, parse_unit
from stockpot.core.words import echoed, grouped, quoted

LIMIT = Decimal(10) ** 9
"""Every quantity's magnitude stays below this."""
LARGEST = LIMIT - Decimal(1).scaleb(-SCALE)
QUANTITY_RANGE = (
    f"quantities must lie between -{grouped(LARGEST)} and {grouped(LARGEST)}, with at most "
    f"{SCALE} decimal places"
)


def cost_range(currency: str | None = None, unit: object = None) -> str:
    """The limits of a unit cost, said in its own terms: money in the company's currency per
    unit of the line (stored by the rule of quantities, never negative). ``currency`` and
    ``unit`` when known (a posting's company and line), else said in words."""
    per = f"{currency} per {unit}" if currency and unit else "per unit, in the company's currency"
    return (
        f"a unit cost must lie between 0 and {grouped(LARGEST)} {per}, with at most {SCALE} "
        "decimal places"
    )


COST_RANGE = cost_range()


def range_problem(value: Decimal, limits: str = QUANTITY_RANGE) -> str | None:
    """What is wrong with ``value`` as a number Stockpot stores, said of it (``is too large;
    quantities must lie between …``), or ``None``; ``limits`` is the sentence of the field's
    range (``QUANTITY_RANGE``, ``cost_range``). A CSV cell's refusal puts it after the
    value it quotes, ``quantity_problem`` after the number's name.

    Decided from the digits and the exponent alone: arithmetic on a value like ``1e99999999``
    (a YAML, JSON or Slack input) raises ``decimal.Overflow``, and writing it out in full
    would make a message of that many digits."""
    if not value.is_finite():
        return f"is not a number; {write_a_number()}"
    if value != 0 and value.adjusted() >= LIMIT.adjusted():
        return f"is too large; {limits}"
    if value.as_tuple().exponent < -SCALE:  # type: ignore[operator]
        return f"has more than {SCALE} decimal places; {limits}"
    return None


def quantity_problem(
    value: Decimal | int, *, written: str | None = None, limits: str = QUANTITY_RANGE
) -> str | None:
    """Why ``value`` cannot be a quantity (for a message that names its place), or ``None``:
    ``range_problem`` said of what was ``written`` when it was typed (quoted as typed,
    ``'1e-400'``), else of the value as people read it (``shown``)."""
    value = Decimal(value)
    problem = range_problem(value, limits)
    if problem is None:
        return None
    return f"{shown(value) if written is None else quoted(written)} {problem}"


SHOWN_DIGITS = 40
"""Longer numbers are shown in messages as ``Decimal`` writes them (``1E+400``)."""


def shown(value: Decimal) -> str:
    """A ``value`` for a message: grouped like every number shown to people (``1,234.5``,
    its decimals as given), or as ``Decimal`` writes it when that would take more than
    ``SHOWN_DIGITS`` digits (``1E+999999``, ``1.5E-400``: its own digits and exponent, at
    most ``ECHO_LIMIT`` characters)."""
    if not value.is_finite():
        return str(value)
    if len(value.as_tuple().digits) <= SHOWN_DIGITS and abs(value.adjusted()) <= SHOWN_DIGITS:
        return grouped(value)
    return echoed(str(value))


def check_quantity(
    value: Decimal, *, written: str | None = None, limits: str = QUANTITY_RANGE
) -> Decimal:
    """``value`` if it is a quantity Stockpot can store, else ``ValueError`` saying why
    (``quantity_problem``)."""
    problem = quantity_problem(value, written=written, limits=limits)
    if problem is not None:
        raise ValueError(problem)
    return plain(value)


def parse_quantity_text(
    text: str, unit: str | None = None, *, limits: str = QUANTITY_RANGE
) -> Decimal:
    """A quantity typed by a person (``0,5`` or ``0.5``), checked by the same rule; ``unit``
    is what the field counts (``kg``, ``portions``), for the refusal of a number written
    with a unit; ``limits`` the field's range (``COST_RANGE`` for a unit cost).

    Only ASCII digits, without ``_``: ``Decimal`` itself reads ``١٢`` as 12 and ``1_000``
    as 1000, which nobody reading the form back would see. A comma may be a decimal comma
    (``1,5``), but not where it reads as a thousands separator as well (``ambiguous_comma``)."""
    written = text.strip()
    beside = written_beside(written, unit)
    if beside is not None:
        raise ValueError(beside)
    number = decimal_point(written)
    problem = written_number_problem(number)
    if problem is not None:
        raise ValueError(not_a_number(written, problem))
    return check_quantity(Decimal(number), written=written, limits=limits)


def decimal_point(number: str) -> str:
    """A number typed by a person with its decimal comma written as a point (``1,5`` →
    ``1.5``); ``ValueError`` when the comma reads as a thousands separator too
    (``ambiguous_comma``). The one reading of a comma, in Slack, count files and YAML."""
    ambiguous = ambiguous_comma(number) or thousands_separated(number)
    if ambiguous is not None:
        raise ValueError(ambiguous)
    return number.replace(",", ".")


TYPED_NUMBER = r"[-+]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?"
"""What reads as a number where people type one (``90``, ``-5``, ``1,5``, ``.5``, ``2.``,
``1e309``), before ``parse_quantity_text`` says whether it is one Stockpot takes: the one
pattern for finding a number in typed text (a stock line's amount, a migration's days)."""


_GROUPED = re.compile(
    r"([+-]?[1-9][0-9]{0,2})(?:([.,])([0-9]{3}(?:\2[0-9]{3})*)(?:([.,])([0-9]+))?)",
    re.ASCII,
)
"""A number with thousands separators: ``1.200,5`` (German), ``1,200.5`` (English),
``1.200.000``, ``1,200,000``."""


def thousands_separated(text: str) -> str | None:
    """What to write instead of a number with thousands separators, or ``None``. Each
    reads one way only, but a separator is never skipped: a point is always the decimal
    point (``1.200`` is 1.2), so reading ``1.200,5`` as 1200.5 would teach that a point
    groups thousands. They got "not a number; write it with … a '.' for decimals", which
    says nothing of the separator."""
    match = _GROUPED.fullmatch(text)
    if match is None:
        return None
    whole, grouping, groups, point, decimals = match.groups()
    if (point is None and len(groups) == 3) or point == grouping:
        return None  # 1.200 is 1.2, 1,200 ambiguous_comma's, 1.200.5 no number
    digits = whole + groups.replace(grouping, "")
    written = digits if point is None else f"{digits}{point}{decimals}"
    return (
        f"{text} has a thousands separator ({grouping!r}), which is not read: write {written}"
        + ("" if grouping == "," else " (a '.' is the decimal point: 1.200 is 1.2)")
    )


_THOUSANDS_OR_DECIMAL = re.compile(r"([+-]?)([1-9][0-9]{0,2}),([0-9]{3})", re.ASCII)
"""``1,000``, ``12,500``: an English thousands separator, or a decimal comma before three
decimals. ``0,125`` (no thousands start with 0), ``1,5`` and ``2,2500`` are decimals only."""


def ambiguous_comma(text: str) -> str | None:
    """What to write instead of ``text`` when its comma reads both ways (``1,000`` is a
    thousand to some and one to others: a thousandfold error in a count or a receipt), or
    ``None``. Only for numbers typed by people; a CSV profile declares its decimal
    separator, so its cells are read by it (``csv_import.cells.parse_quantity``)."""
    match = _THOUSANDS_OR_DECIMAL.fullmatch(text)
    if match is None:
        return None
    sign, whole, part = match.groups()
    thousands = f"{sign}{whole}{part}"
    decimal = f"{Decimal(f'{sign}{whole}.{part}').normalize():f}"
    return (
        f"{text} could be {thousands} or {decimal}: write {thousands}, "
        f"or {sign}{whole}.{part} for {decimal}"
    )


def written_beside(written: str, unit: str | None = None) -> str | None:
    """What to write instead of a number given with a unit (``1.5 kg``: the field's unit is
    given beside it) or a currency (``€12``, ``12 €``, ``EUR 12``: a cost is in the company's
    currency), or ``None``; ``unit`` as in ``parse_quantity_text``."""
    beside = _WITH_UNIT.fullmatch(written)
    found = (beside.group(1), beside.group(2)) if beside else _with_currency(written)
    if found is not None:
        number = decimal_point(found[0])  # 1.200,5 kg: told of its separator
        if written_number_problem(number) is None:  # 1.200.5 kg: no number, said so
            return _number_alone(number, found[1], unit)
    percent = _PERCENT.fullmatch(written)
    if percent is not None:
        share = Decimal(decimal_point(percent.group(1))) / 100
        return f"write the number alone: {written} is {share.normalize():f}"
    return None


_PERCENT = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*%")
"""A share written as a percentage (``trim: 4%``): said as the number it is (0.04)."""


def _number_alone(number: str, written: str, field: str | None) -> str:
    """What to write instead of ``number`` ``written`` in a field counting ``field``: the
    number converted when ``written`` is another unit of the field's family ("80 g" where kg
    are counted is 0.08, never 80)."""
    try:
        given, counted = parse_unit(written), parse_unit(field or "")
    except UnitError:
        given = counted = None
    if given is None or counted is None or given is counted:
        return f"write the number alone, {number}, without {quoted(written)}"
    if given.family is not counted.family:
        return f"write the number alone, in {counted}: {quoted(written)} is not {counted}"
    ratio = given.size / counted.size
    converted = Decimal(number) * ratio.numerator / ratio.denominator
    return f"write the number alone, in {counted}: {converted.normalize():f} ({number} {given})"


_WITH_SIGN = re.compile(
    r"(?P<before>[A-Za-z]{3}|[^\w\s.,+-])?\s*(?P<number>[0-9]+(?:[.,][0-9]+)*)\s*"
    r"(?P<after>[^\w\s.,+-])?"
)
"""A number with a currency sign before or after it, or a currency code before it."""


def _with_currency(written: str) -> tuple[str, str] | None:
    """The number and the currency written with it (``€12``, ``12 €``, ``EUR 12``, ``$12``),
    or ``None``; ``12 EUR`` is a number with a unit after it (``_WITH_UNIT``)."""
    match = _WITH_SIGN.fullmatch(written)
    if match is None or (match["before"] is None) == (match["after"] is None):
        return None
    mark = match["before"] or match["after"]
    if len(mark) == 1 and unicodedata.category(mark) != "Sc":
        return None
    return match["number"], mark


_WITH_UNIT = re.compile(r"([0-9]+(?:[.,][0-9]+)*)\s*([^\W\d_][^\W\d_ ]{0,11})")
"""A number with a unit after it (``1.5 kg``, ``12pcs``): said plainly, not as "no number"."""


def _written(limits: str) -> Callable[[object], object]:
    """A number given as a string in a file (``quantity: "٣"``, ``quantity: 1,5``) follows
    the rule of one typed in Slack: pydantic's ``Decimal`` reads other scripts' digits and
    ``_``, a decimal comma is a decimal (``decimal_point``), ``1,000`` is refused saying
    both readings (pydantic's own "Input should be a valid decimal" said neither what was
    wrong nor what to write, and refused ``1,5``), and one out of range is quoted as
    written (``'1e-400' has more than 9 decimal places``)."""

    def read(value: object) -> object:
        if isinstance(value, bool | date):
            # YAML reads `yes` and `2026-11-27` as no string: pydantic's "Decimal input
            # should be an integer, float, string or Decimal object" named neither.
            shown = "yes/no" if isinstance(value, bool) else str(value)
            raise PydanticCustomError("quantity_text", not_a_number(shown, write_a_number()))
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            problem = written_beside(text) or written_number_problem(decimal_point(text))
        except ValueError as error:
            problem = str(error)
        if problem is not None:
            raise PydanticCustomError("quantity_text", not_a_number(text, problem))
        number = decimal_point(text)
        out_of_range = quantity_problem(Decimal(number), written=text, limits=limits)
        if out_of_range is not None:
            raise PydanticCustomError("quantity_range", out_of_range)
        return number

    return read


def _validated(limits: str) -> Callable[[Decimal], Decimal]:
    def check(value: Decimal) -> Decimal:
        problem = quantity_problem(value, limits=limits)
        if problem is not None:
            raise PydanticCustomError("quantity_range", problem)
        return plain(value)

    return check


def plain(value: Decimal) -> Decimal:
    """Zero as ``0``: ``-0`` and ``0E+100`` are zero too, and are never shown as written."""
    return Decimal(0) if value.is_zero() else value


Quantity = Annotated[
    Decimal,
    Field(allow_inf_nan=True),
    BeforeValidator(_written(QUANTITY_RANGE)),
    AfterValidator(_validated(QUANTITY_RANGE)),
]
"""A quantity field of an input document (pydantic): finite, in range, at most 9 places."""
PositiveQuantity = Annotated[Quantity, Field(gt=0)]
FractionBelowOne = Annotated[Quantity, Field(ge=0, lt=1)]
Cost = Annotated[
    Decimal,
    Field(allow_inf_nan=True),
    BeforeValidator(_written(COST_RANGE)),
    AfterValidator(_validated(COST_RANGE)),
    Field(ge=0),
]
"""A cost per unit in a document (a stock line's ``unit_cost``, an ingredient's ``cost``):
read like a quantity, refused with the limits of money (``COST_RANGE``)."""
