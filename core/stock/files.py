"""Stock postings written as files (YAML or CSV), as CLI arguments, and the count sheet of a
storage unit (its ingredients, grouped, and the CSV template people fill in).

YAML::

    storage_unit: Kitchen        # a move: from
    to: Bar                      # a move only
    date: 2026-11-30             # default: the unit's business day (core.company_clock)
    supplier: Metro              # receipts
    reference: DN-4411           # receipts
    reason: dropped a tray       # waste
    lines:
      - {ingredient: Flour, quantity: 25, unit: kg, unit_cost: 0.9}

CSV: a header row ``ingredient,quantity`` and optional ``unit`` and ``unit_cost`` columns;
the storage unit and date come from the command. A count CSV's empty quantity cells are not
counted (the template lists every ingredient of the unit with an empty quantity).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from datetime import date as Date  # noqa: N812 - the YAML key `date` shadows the type
from typing import Annotated

from pydantic import Field, StringConstraints
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from stockpot.core.csv_export import csv_text
from stockpot.core.documents import DocumentModel, parse_document, text_of
from stockpot.core.errors import InvalidDocument, Problem, ValidationFailed
from stockpot.core.models import (
    Company,
    Ingredient,
    LedgerMovement,
    StockCountLine,
    StorageUnit,
)
from stockpot.core.nul_bytes import nul_fix, nul_place
from stockpot.core.periods import sane_date
from stockpot.core.quantities import (
    COST_RANGE,
    TYPED_NUMBER,
    Cost,
    Quantity,
    parse_quantity_text,
)
from stockpot.core.stock.services import LineInput
from stockpot.core.units import FAMILY_WORDS
from stockpot.core.words import quoted
from stockpot.core.yaml_source import load_yaml

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
GROUPS = {family: word.capitalize() for family, word in FAMILY_WORDS.items()}


class StockLineDoc(DocumentModel):
    ingredient: Name
    quantity: Quantity
    unit: str | None = None
    unit_cost: Cost | None = None


class StockFileDoc(DocumentModel):
    storage_unit: Name | None = None
    to: Name | None = None
    date: Date | None = None
    supplier: str | None = None
    reference: str | None = None
    reason: str | None = None
    lines: list[StockLineDoc] = Field(default_factory=list)


@dataclass
class StockFile:
    """What a file says; the command's options fill what it leaves out."""

    lines: list[LineInput]
    storage_unit: str | None = None
    to: str | None = None
    business_date: date | None = None
    supplier: str | None = None
    reference: str | None = None
    reason: str | None = None
    skipped: list[str] = field(default_factory=list)
    """Ingredients left empty in a count sheet (not counted)."""


def read_stock_file(text: str, *, source: str) -> StockFile:
    """A YAML or CSV stock file (by its name, else by its first line)."""
    lowered = source.lower()
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    is_csv = lowered.endswith((".csv", ".txt")) or (
        not lowered.endswith((".yaml", ".yml")) and first.lower().startswith("ingredient")
    )
    return read_csv(text, source=source) if is_csv else read_yaml(text, source=source)


def read_yaml(text: str, *, source: str) -> StockFile:
    document = load_yaml(text, source=source)
    doc = parse_document(document, StockFileDoc)
    return StockFile(
        lines=[
            LineInput(
                line.ingredient,
                line.quantity,
                line.unit,
                line.unit_cost,
                document.line_of(("lines", index)),
            )
            for index, line in enumerate(doc.lines)
        ],
        storage_unit=doc.storage_unit,
        to=doc.to,
        business_date=doc.date,
        supplier=doc.supplier,
        reference=doc.reference,
        reason=doc.reason,
    )


def _csv_rows(text: str, *, source: str) -> list[list[str]]:
    """The file's rows, or ``InvalidDocument`` with the line where it stops being CSV: a cell
    over the csv module's 131,072 characters raised ``_csv.Error`` (a traceback), and a quote
    left open swallowed every later line into one cell, those counts silently lost. A NUL
    is refused at its place, as in every CSV file people give (``core.nul_bytes``)."""
    text = text.lstrip("\ufeff")
    if (nul := text.find("\0")) >= 0:
        line = text.count("\n", 0, nul) + 1
        rows = io.StringIO(text, newline="")
        place = nul_place(rows, delimiter=",", header=_header_names, line=line)
        raise InvalidDocument(source, [Problem(place.field, nul_fix("save it"), place.line)])
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        return list(reader)
    except csv.Error as error:
        message = f"not readable as CSV ({error}); check the quotes up to this line"
        raise InvalidDocument(source, [Problem("", message, reader.line_num)]) from None


def read_shared_csv(data: bytes, *, source: str) -> StockFile:
    """A count file as shared in Slack, held to the rules of a file given to the CLI: UTF-8
    text (``documents.text_of``; its bytes were read with bad ones replaced, so a UTF-16 or
    binary file was refused for columns named ``\ufffd``), then ``read_csv``."""
    return read_csv(text_of(data, source=source), source=source)


def _header_names(cells: list[str]) -> list[str]:
    """A stock CSV's columns as its header row names them."""
    return [cell.strip() for cell in cells]


def read_csv(text: str, *, source: str) -> StockFile:
    rows = _csv_rows(text, source=source)
    if not rows:
        raise InvalidDocument(source, [Problem("", "the file is empty", 1)])
    header = [name.casefold().replace(" ", "_") for name in _header_names(rows[0])]
    missing = [name for name in ("ingredient", "quantity") if name not in header]
    unknown = [
        name for name in header if name not in ("ingredient", "quantity", "unit", "unit_cost")
    ]
    if missing or unknown:
        problems = [Problem("header", f"missing column '{name}'", 1) for name in missing]
        problems += [
            Problem(
                "header",
                f"unknown column '{name}'; columns are ingredient, quantity, unit, unit_cost",
                1,
            )
            for name in unknown
        ]
        raise InvalidDocument(source, problems)
    problems: list[Problem] = []
    result = StockFile(lines=[])
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        name = cells.get("ingredient", "")
        if not name:
            problems.append(Problem("ingredient", "the ingredient is empty", number))
            continue
        if not cells.get("quantity"):
            result.skipped.append(name)
            continue
        try:
            column = "quantity"
            quantity = parse_quantity_text(cells[column])
            column = "unit_cost"
            cost = (
                parse_quantity_text(cells[column], limits=COST_RANGE) if cells.get(column) else None
            )
        except ValueError as error:
            problems.append(Problem(column, str(error), number))
            continue
        result.lines.append(LineInput(name, quantity, cells.get("unit") or None, cost, number))
    if problems:
        raise InvalidDocument(source, problems)
    return result


ARGUMENT = re.compile(r"^\s*(?P<name>.+?)\s*=\s*(?P<amount>[^@]*?)\s*(?:@\s*(?P<cost>[^@]*?))?\s*$")
"""A line: ingredient=amount, optionally @cost; the amount and the cost are read on their own,
so that a number written wrongly there (``1e309``, ``€12``) is told what is wrong with it."""
RUN_TOGETHER = re.compile(r"[^\W\d_]\s*=")
"""A name= after a line's amount or cost: the next line, typed without its comma."""
AMOUNT = re.compile(
    rf"(?P<quantity>{TYPED_NUMBER})"
    r"\s*(?P<unit>[^\W\d_]*)"
)
"""A quantity and the unit after it, letters only: ``0x10g`` is no 0 of a unit ``x10g`` (it
was refused as "got 0"), it is not a number (``parse_quantity_text`` says so). The quantity
is written as ``parse_quantity_text`` reads it, ``.5`` and ``2.`` too (a form, a count file
and a CSV import take them; here ``.5kg`` was told it "is not a number")."""


NEXT_LINE = re.compile(r",\s*(?=[^,=]*=)")
"""A comma that starts the next line of Slack's short form (``Flour=25kg, Basil=200g``):
one before another ``name=``. A comma inside a quantity (``Flour=1,5kg``) is a decimal
comma, and ``Flour=1,000kg`` reaches the rule that refuses it as ambiguous."""


QUANTITY_RUN_ON = re.compile(r"[0-9]+[^\W\d_]*\s+[^=]*\S\s*=")
"""A part that starts with the rest of a decimal-comma quantity and then names the next line
(``5kg Basil=`` of ``Mozzarella=0,5kg Basil=30g``): the comma was the quantity's."""


def split_lines(text: str) -> list[str]:
    """The lines of ``Flour=1,5kg@0,9, Basil=200g``, cut at ``NEXT_LINE`` commas. A comma
    between digits whose next part reads as the quantity's rest followed by a name
    (``Mozzarella=0,5kg Basil=30g``: two lines run together with a space) is kept in its line,
    which is then told that it names two ingredients, not "got 0" and "unknown '5kg Basil'"."""
    parts: list[str] = []
    start, bare_comma = 0, False
    for comma in (*NEXT_LINE.finditer(text), None):
        end = len(text) if comma is None else comma.start()
        part = text[start:end]
        if bare_comma and parts[-1][-1:].isdigit() and QUANTITY_RUN_ON.match(part):
            parts[-1] += "," + part
        else:
            parts.append(part)
        if comma is not None:
            start, bare_comma = comma.end(), comma.group() == ","
    return [part for part in parts if part.strip()]


def read_arguments(texts: Sequence[str], *, source: str = "arguments") -> StockFile:
    """``Flour=25kg@0.9`` (ingredient=quantity, optional unit, optional @cost per that unit),
    one per argument or comma-separated in Slack's short form."""
    lines: list[LineInput] = []
    problems: list[Problem] = []
    for number, text in enumerate(texts, start=1):
        line = _argument(text, number)
        (lines if isinstance(line, LineInput) else problems).append(line)  # type: ignore[arg-type]
    if problems:
        raise InvalidDocument(source, problems)
    return StockFile(lines=lines)


def _argument(text: str, number: int) -> LineInput | Problem:
    """One line of the short form, or what is wrong with it: a number written wrongly
    (``1e309``, ``€12``, ``12 EUR`` as a cost) is told so by the one rule for typed numbers
    (``parse_quantity_text``); anything else is shown the form."""
    match = ARGUMENT.match(text)
    if match is not None and RUN_TOGETHER.search(match["amount"] + (match["cost"] or "")):
        # Two lines run together (a space or ';' where a comma goes) are not a bad number.
        return Problem(
            "",
            f"{quoted(text)} names {text.count('=')} ingredients: one ingredient=quantity a "
            "line (typed after the command, lines are separated by commas: "
            "Flour=2kg, Basil=30g)",
            number,
        )
    amount = AMOUNT.fullmatch(match["amount"]) if match is not None else None
    if match is not None and amount is None and any(c.isdigit() for c in match["amount"]):
        try:
            parse_quantity_text(match["amount"])
        except ValueError as error:
            return Problem("quantity", f"{quoted(text)}: {error}", number)
    if match is None or amount is None or match["cost"] == "":
        return Problem(
            "",
            f"{quoted(text)} should read ingredient=quantity[unit][@unit cost], "
            "e.g. Flour=25kg@0.9",
            number,
        )
    place = "quantity"
    try:
        quantity = parse_quantity_text(amount["quantity"])
        place = "unit_cost"
        cost = (
            None if match["cost"] is None else parse_quantity_text(match["cost"], limits=COST_RANGE)
        )
    except ValueError as error:
        return Problem(place, f"{quoted(text)}: {error}", number)
    return LineInput(match["name"], quantity, amount["unit"] or None, cost, number)


def sheet(session: Session, company: Company, unit_id: int) -> dict[str, list[Ingredient]]:
    """A storage unit's count sheet: the active ingredients it has held (any movement or
    count there), else every active ingredient; grouped by how they are counted."""
    held = or_(
        exists(
            select(1).where(
                LedgerMovement.storage_unit_id == unit_id,
                LedgerMovement.ingredient_id == Ingredient.id,
            )
        ),
        exists(
            select(1).where(
                StockCountLine.storage_unit_id == unit_id,
                StockCountLine.ingredient_id == Ingredient.id,
            )
        ),
    )
    base = select(Ingredient).where(
        Ingredient.company_id == company.id, Ingredient.active.is_(True)
    )
    ingredients = session.scalars(base.where(held).order_by(Ingredient.name)).all()
    if not ingredients:
        ingredients = session.scalars(base.order_by(Ingredient.name)).all()
    groups: dict[str, list[Ingredient]] = {}
    for family, label in GROUPS.items():
        members = [i for i in ingredients if i.base_unit.family is family]
        if members:
            groups[label] = members
    return groups


def template(groups: dict[str, list[Ingredient]]) -> str:
    """The count CSV of a sheet: every ingredient with its base unit and an empty quantity."""
    return csv_text(
        ["ingredient", "quantity", "unit"],
        [[i.name, None, i.base_unit.value] for members in groups.values() for i in members],
    )


def count_file_name(unit: str, day: str | None = None) -> str:
    """What a count CSV is called: ``count-Kitchen.csv`` (the template, or a count of today),
    ``count-Kitchen-2026-11-30.csv`` for a day (``day`` as written, ``YYYY-MM-DD`` alike)."""
    return f"count-{unit}-{day}.csv" if day else f"count-{unit}.csv"


COUNT_FILE = re.compile(
    r"^count[-_ ](?P<unit>.+?)(?:[-_ ](?P<day>\d{1,4}[-./]\d{1,2}[-./]\d{1,4}))?\.(?:csv|txt)$",
    re.IGNORECASE,
)


def count_file(name: str) -> tuple[str, str | None] | None:
    """A count CSV shared in a channel is named for its storage unit, as the template is:
    ``count-Kitchen.csv`` (today) or ``count-Kitchen-2026-11-30.csv``; else ``None``. The
    date is returned as written (``count_day`` reads it): a name dated another way
    (``count-Lager-27.11.2026.csv``) or on no day (``…-2026-02-29``) is still a count file,
    refused for its date, not taken for a till export or a unit called ``Lager-27.11.2026``."""
    match = COUNT_FILE.match(name.strip())
    if match is None:
        return None
    return match["unit"], match["day"]


def count_day(name: str, unit: str, written: str | None, today: date) -> date | None:
    """The day a count file's name gives (``count_file``), or ``None`` for ``today`` (the
    unit's business day, ``company_clock.posting_day``: the example of a refusal names it)."""
    if written is None:
        return None
    try:
        day = date.fromisoformat(written)
    except ValueError:
        raise ValidationFailed(
            f"{quoted(name)}: {quoted(written)} is not a date; name a count file "
            f"{count_file_name(unit, 'YYYY-MM-DD')} "
            f"(e.g. {count_file_name(unit, today.isoformat())})"
        ) from None
    return sane_date(day, today)


def unit_names(session: Session, company_id: int) -> tuple[list[str], list[str]]:
    """The company's storage units by name: those in use, and the archived ones."""
    rows = session.execute(
        select(StorageUnit.name, StorageUnit.archived_at)
        .where(StorageUnit.company_id == company_id)
        .order_by(StorageUnit.name)
    ).all()
    in_use = [name for name, archived in rows if archived is None]
    return in_use, [name for name, archived in rows if archived is not None]


def ingredient_names(session: Session, company_id: int, ids: Sequence[int]) -> dict[int, str]:
    """Names of the company's ingredients among ``ids`` (a count sheet's inputs carry ids)."""
    rows = session.execute(
        select(Ingredient.id, Ingredient.name).where(
            Ingredient.company_id == company_id, Ingredient.id.in_(list(ids))
        )
    )
    return dict(rows.tuples().all())
