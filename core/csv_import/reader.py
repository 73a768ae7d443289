"""Reading a CSV file row by row into typed rows or placed problems.

The file is decoded as a stream (``io.TextIOWrapper`` over the binary file) and the csv
module reads one record at a time, so memory does not grow with the number of rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from stockpot.core.business_day import DayStart
from stockpot.core.cell_text import inert
from stockpot.core.csv_import.cells import business_date, parse_date, parse_quantity
from stockpot.core.csv_import.dialect import Dialect, UnreadableFile
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.nul_bytes import nul_fix, nul_place

MAX_CODE = 200
NEWLINE = b"\n"


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with a row: where (line of the file, column), the value, the fix."""

    line: int
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column '{self.column}'" if self.column else "")
        value = f" value '{inert(self.value)}'" if self.value is not None else ""
        return f"{where}:{value} {self.message}"


@dataclass(frozen=True)
class CsvRow:
    """What one rule of the profile reads from one record of the file."""

    line: int
    business_date: date
    location: str
    codes: tuple[str, ...]
    quantity: Decimal
    name: str = ""
    """What the rule's ``name_source_column`` calls the code, when the cell holds one code."""


@dataclass
class ReadRow:
    """A record of the file: a row per rule that found codes in it when it is valid, else
    its problems."""

    line: int
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class RuleColumns:
    """The columns one rule reads: its codes, and its own quantity, date and name if it
    names them (and the file has its name column)."""

    code: int
    quantity: int | None
    date: int | None
    name: int | None = None


@dataclass(frozen=True)
class Columns:
    rules: tuple[RuleColumns, ...]
    location: int | None
    names: tuple[str, ...]


def read_rows(
    stream: BinaryIO,
    profile: CsvProfile,
    dialect: Dialect,
    *,
    locations: Mapping[str, DayStart],
    default_date: date | None,
) -> Iterator[ReadRow]:
    """Every record of ``stream`` after the header, in order. Problems with the whole file
    (no header, a configured column missing, undecodable bytes) raise ``UnreadableFile``.
    ``locations``: each location's name with its day start, which places a date cell that
    carries a time on its business date."""
    text = io.TextIOWrapper(stream, encoding=dialect.encoding, newline="")
    try:
        yield from _read(text, profile, dialect, locations, default_date)
    finally:
        text.detach()  # the caller's stream stays open (it may be read again)


@dataclass(frozen=True)
class Start:
    """What the first record of a file fixes: the columns read, the locations by folded
    name, their day starts by name, and the first data record when the file has no header
    row."""

    columns: Columns
    locations: dict[str, str]
    first: tuple[int, list[str]] | None
    days: Mapping[str, DayStart]


def begin(
    records: Iterator[tuple[int, list[str]]],
    profile: CsvProfile,
    locations: Mapping[str, DayStart],
) -> Start:
    first = next(records, None)
    if first is None:
        raise UnreadableFile("the file is empty; export the sales again and upload that file")
    columns = columns_of(first[1], profile, bool(locations) and len(locations) > 1)
    by_name = {name.casefold(): name for name in locations}
    return Start(columns, by_name, None if profile.header_row else first, locations)


def no_rows(profile: CsvProfile) -> UnreadableFile:
    return UnreadableFile(
        "the file has a header but no rows of sales; export a period with sales"
        if profile.header_row
        else "the file has no rows of sales"
    )


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _read(
    text: io.TextIOWrapper,
    profile: CsvProfile,
    dialect: Dialect,
    locations: Mapping[str, DayStart],
    default_date: date | None,
) -> Iterator[ReadRow]:
    records = records_of(csv.reader(text, delimiter=dialect.delimiter), dialect)
    start = begin(records, profile, locations)
    if start.first is not None:
        records = _chain(start.first, records)
    seen = False
    for line, cells in records:
        if is_blank(cells):
            continue
        seen = True
        yield read_row(line, cells, start, profile, default_date)
    if not seen:
        raise no_rows(profile)


def _chain(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def records_of(reader: Iterator[list[str]], dialect: Dialect) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells), turning decoding and CSV errors into clear ones."""
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as error:
            raise read_error(error, dialect, line) from None
        yield line, cells
        line = reader.line_num + 1  # type: ignore[attr-defined]


def read_error(error: Exception, dialect: Dialect, line: int) -> UnreadableFile:
    """A decoding or CSV error met in the record that starts at ``line``, said clearly."""
    if isinstance(error, UnicodeDecodeError):
        return UnreadableFile(
            f"the file is not valid {dialect.encoding} near line {line}; set the profile's "
            "encoding (e.g. cp1252 for Windows exports) or export as UTF-8"
        )
    return UnreadableFile(
        f"line {line}: the file cannot be read as CSV ({error}); check its quotes"
    )


def column_names(header: list[str], profile: CsvProfile) -> tuple[str, ...]:
    """The columns as the first record names them, or their numbers without a header row."""
    if profile.header_row:
        return tuple(cell.strip().lstrip("\ufeff") for cell in header)
    return tuple(str(number) for number in range(1, len(header) + 1))


def columns_of(header: list[str], profile: CsvProfile, needs_location: bool) -> Columns:
    profile.require_rules()
    names = column_names(header, profile)
    index = {name.casefold(): position for position, name in enumerate(names)}
    missing = []

    def find(setting: str, column: str | None, *, required: bool = True) -> int | None:
        if column is None:
            return None
        position = index.get(column.strip().casefold())
        if position is None and required:
            missing.append(f"{setting} '{column}'")
        return position

    rules = [
        (
            find("source_column", rule.source_column),
            find("quantity_source_column", rule.quantity_source_column),
            find("date_source_column", rule.date_source_column),
            # names only label codes: a file without the column still imports
            find("name_source_column", rule.name_source_column, required=False),
        )
        for rule in profile.rules
    ]
    location = find("location_column", profile.location_column)
    if missing:
        found = ", ".join(f"'{inert(name, 40)}'" for name in names[:30])
        raise UnreadableFile(
            f"the file has no column {' and no column '.join(missing)}; its columns are "
            f"{found}. Rename the column in the export or fix the profile"
        )
    if location is None and needs_location:
        raise UnreadableFile(
            "this profile has several locations but no location_column: set location_column "
            "to the column naming the location, or import into a profile with one location"
        )
    return Columns(
        tuple(
            RuleColumns(code, quantity, when, name)
            for code, quantity, when, name in rules
            if code is not None
        ),
        location,
        names,
    )


def cell(cells: list[str], position: int | None) -> str | None:
    if position is None:
        return None
    return cells[position] if position < len(cells) else ""


def read_row(
    line: int,
    cells: list[str],
    start: Start,
    profile: CsvProfile,
    default_date: date | None,
) -> ReadRow:
    """Every rule applied to one record: each rule whose code column holds codes is a sale
    of those codes, with the rule's quantity and date (or the defaults); a date with a time
    is placed on the business date of the row's location (``cells.business_date``)."""
    read = ReadRow(line)
    columns, locations = start.columns, start.locations

    def problem(position: int | None, value: str | None, message: str) -> None:
        column = columns.names[position] if position is not None else None
        read.problems.append(RowProblem(line, column, value, message))

    sales = []
    for rule in columns.rules:
        raw_codes = cell(cells, rule.code) or ""
        parts = raw_codes.split(profile.code_separator) if profile.code_separator else [raw_codes]
        codes = tuple(code.strip() for code in parts if code.strip())
        if not codes:
            continue
        if any(len(code) > MAX_CODE for code in codes):
            problem(rule.code, raw_codes, f"holds a code longer than {MAX_CODE} characters")
        quantity = _quantity(cells, rule, profile, problem)
        when = _date(cells, rule, profile, default_date, problem)
        name = (cell(cells, rule.name) or "").strip() if len(codes) == 1 else ""
        sales.append((codes, quantity, when, rule.date, name))
    if not sales:
        problem(columns.rules[0].code, None, "has no POS code; fill it in or delete the row")
    location = next(iter(locations.values()), "")
    raw_location = cell(cells, columns.location)
    if raw_location is not None:
        found = locations.get(raw_location.strip().casefold())
        if found is None:
            known = ", ".join(f"'{name}'" for name in locations.values())
            problem(
                columns.location,
                raw_location,
                f"is not a location of this profile ({known}); add it to the profile's "
                "locations or fix the cell",
            )
        else:
            location = found
    if not location and not read.problems:
        problem(None, None, "this profile has no location; add one to its locations")
    if read.problems:
        return read
    day, rows = start.days[location], []
    for codes, quantity, when, date_at, name in sales:
        if when is None:
            continue
        try:
            rows.append(CsvRow(line, business_date(when, day), location, codes, quantity, name))
        except ValueError as error:
            problem(date_at, cell(cells, date_at), str(error))
    if not read.problems:
        read.rows = rows
    return read


Problem = Callable[[int | None, str | None, str], None]


def _quantity(
    cells: list[str], rule: RuleColumns, profile: CsvProfile, problem: Problem
) -> Decimal:
    raw = cell(cells, rule.quantity)
    if raw is not None and raw.strip():
        try:
            return parse_quantity(raw, profile.decimal_separator)
        except ValueError as error:
            problem(rule.quantity, raw, str(error))
    elif raw is not None:
        problem(rule.quantity, None, "is empty; fill in the quantity sold (negative: refund)")
    return profile.default_quantity


def _date(
    cells: list[str],
    rule: RuleColumns,
    profile: CsvProfile,
    default_date: date | None,
    problem: Problem,
) -> date | None:
    raw = cell(cells, rule.date)
    if raw is not None and raw.strip():
        try:
            return parse_date(raw, profile.date_formats)
        except ValueError as error:
            problem(rule.date, raw, str(error))
            return None
    if default_date is None:
        problem(rule.date, None, "has no date and none was given; give the date of the sales")
    return default_date


def nul_refusal(
    stream: BinaryIO, profile: CsvProfile, dialect: Dialect, offset: int
) -> UnreadableFile:
    """The file refused for the NUL byte at ``offset`` (its first), said at its line and
    column (``core.nul_bytes``)."""
    line = _lines_before(stream, offset) + 1
    text = io.TextIOWrapper(stream, encoding=dialect.encoding, errors="replace", newline="")
    try:
        names = (lambda cells: column_names(cells, profile)) if profile.header_row else None
        place = nul_place(text, delimiter=dialect.delimiter, header=names, line=line)
    finally:
        text.detach()
        stream.seek(0)
    return UnreadableFile(f"{place}: {nul_fix('export the sales')}")


def _lines_before(stream: BinaryIO, offset: int) -> int:
    """Line breaks in the stream's first ``offset`` bytes, read in chunks (bounded memory)."""
    stream.seek(0)
    count = 0
    while offset > 0 and (chunk := stream.read(min(offset, 1 << 20))):
        count += chunk.count(NEWLINE)
        offset -= len(chunk)
    stream.seek(0)
    return count
