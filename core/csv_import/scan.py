"""One streaming pass over a file: validate every row and total the valid ones.

The totals are kept per (business date, location, POS code), so memory is bounded by the
distinct codes and dates of the file, not by its rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, BinaryIO

from stockpot.core.business_day import DayStart
from stockpot.core.csv_import.cells import business_date, parse_date, parse_quantity
from stockpot.core.csv_import.dialect import SAMPLE_BYTES, Dialect, UnreadableFile, detect
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.csv_import.reader import (
    MAX_CODE,
    CsvRow,
    RowProblem,
    RuleColumns,
    begin,
    is_blank,
    no_rows,
    nul_refusal,
    read_error,
    read_row,
    records_of,
)
from stockpot.core.errors import ValidationFailed
from stockpot.core.words import grouped

MAX_ERRORS_SHOWN = 20
MAX_TOTALS = 100_000
"""Distinct (business date, location, POS code) a file may hold: what a scan keeps is
bounded by this, not by the file (a month of 3,000 articles is 90,000). About 35 MB."""
SAMPLE_ROWS = 5
Total = tuple[date, str, str]
"""(business date, location name, POS code)"""


class InvalidCsv(ValidationFailed):
    """A file with invalid rows: nothing of it was imported."""

    code = "csv_invalid"

    def __init__(self, file_name: str, errors: Sequence[RowProblem], count: int) -> None:
        self.errors, self.count = list(errors), count
        shown = "\n".join(f"  {problem}" for problem in errors)
        more = f"\n  … and {count - len(errors)} more" if count > len(errors) else ""
        super().__init__(
            f"{file_name}: {count} error{'s' if count != 1 else ''}, nothing was imported "
            f"(fix the file, or import the valid rows only):\n{shown}{more}"
        )


@dataclass
class Scan:
    file_name: str
    dialect: Dialect
    content_hash: str
    size: int
    rows: int = 0
    invalid_rows: int = 0
    error_count: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    sample: list[CsvRow] = field(default_factory=list)
    totals: dict[Total, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    names: dict[str, str] = field(default_factory=dict)
    """The first name a valid row's ``name_source_column`` gives each code it names alone:
    one entry per distinct code (``MAX_TOTALS`` bounds them), gathered in the one pass."""

    @property
    def dates(self) -> list[date]:
        return sorted({when for when, _, _ in self.totals})

    @property
    def days(self) -> list[tuple[str, date]]:
        return sorted({(location, when) for when, location, _ in self.totals})

    def by_day(self) -> dict[tuple[str, date], list[tuple[str, Decimal]]]:
        """Each (location, date)'s codes with their totals, by code, days in order: one pass
        over the totals (not one pass per day)."""
        grouped: dict[tuple[str, date], list[tuple[str, Decimal]]] = defaultdict(list)
        for (when, location, code), quantity in self.totals.items():
            grouped[(location, when)].append((code, quantity))
        return {day: sorted(grouped[day]) for day in sorted(grouped)}

    def by_code(self) -> dict[str, Decimal]:
        quantities: dict[str, Decimal] = defaultdict(Decimal)
        for (_, _, code), quantity in self.totals.items():
            quantities[code] += quantity
        return dict(quantities)

    def refuse_if_invalid(self) -> None:
        if self.error_count:
            raise InvalidCsv(self.file_name, self.errors, self.error_count)


@dataclass(frozen=True)
class WholeFile:
    """What one read of a file's bytes (in chunks) tells."""

    digest: str
    """SHA-256: the same file imported twice is refused unless forced."""
    size: int
    nul_at: int | None
    """The first NUL byte's offset: CSV text never holds one (``reader.nul_refusal``)."""


def whole_file(stream: BinaryIO) -> WholeFile:
    """The whole stream read in chunks; the stream is rewound."""
    digest, size, nul_at = hashlib.sha256(), 0, None
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        if nul_at is None and (found := chunk.find(b"\0")) >= 0:
            nul_at = size + found
        size += len(chunk)
    stream.seek(0)
    return WholeFile(digest.hexdigest(), size, nul_at)


def scan(
    stream: BinaryIO,
    profile: CsvProfile,
    *,
    file_name: str,
    locations: Mapping[str, DayStart],
    default_date: date | None,
    max_bytes: int,
) -> Scan:
    """Validate and total ``stream`` (a seekable binary file) by ``profile``. ``locations``:
    the profile's location names with their day starts (a date cell with a time is placed
    on its location's business date, ``cells.business_date``)."""
    whole = whole_file(stream)
    if whole.size > max_bytes:
        raise UnreadableFile(
            f"{file_name} is {whole.size / 1_048_576:.1f} MB, over the limit of "
            f"{max_bytes / 1_048_576:.0f} MB; split it by date and import the parts"
        )
    dialect = detect(stream.read(SAMPLE_BYTES), profile)
    stream.seek(0)
    if whole.nul_at is not None:
        raise nul_refusal(stream, profile, dialect, whole.nul_at)
    result = Scan(file_name, dialect, whole.digest, whole.size)
    text = io.TextIOWrapper(stream, encoding=dialect.encoding, newline="")
    try:
        _Tally(result, profile, locations, default_date).read(text)
    finally:
        text.detach()  # the caller's stream stays open (it may be read again)
    return result


MEMO_LIMIT = 100_000
"""Distinct cells remembered per kind (codes, quantities, dates, locations) before the memo
starts over: bounded memory whatever the file."""
PENDING_LIMIT = 2 * MAX_TOTALS
"""Distinct (date, location, codes) summed before they are folded into the totals."""


class _Tally:
    """The lean scan: every record is checked and totalled with one parse per distinct cell
    and no object per row. A record the fast path cannot vouch for (a problem, a blank
    record, a short record, the first rows kept as the sample) goes through ``read_row``,
    the one reading of a row, so its problems and line numbers are exactly the reader's.
    Valid records only add to a sum per (date, location, codes), folded into the totals at
    the end: ``read_rows`` over the same file gives the same totals (tests/core/csv_import/
    test_fuzz.py)."""

    def __init__(
        self,
        result: Scan,
        profile: CsvProfile,
        locations: Mapping[str, DayStart],
        default_date: date | None,
    ) -> None:
        self.result, self.profile = result, profile
        self.locations, self.default_date = locations, default_date
        self.pending: dict[tuple[date, str, tuple[str, ...]], Decimal] = {}

    def read(self, text: io.TextIOWrapper) -> None:
        dialect = self.result.dialect
        reader = csv.reader(text, delimiter=dialect.delimiter)
        start = begin(records_of(reader, dialect), self.profile, self.locations)
        self.start = start
        if start.first is not None:
            self.slow(*start.first)
        if len(start.columns.rules) == 1:
            self._one_rule_rows(reader)
        else:
            self._rows(reader)
        self.fold()
        if not self.result.rows:
            raise no_rows(self.profile)

    def _rows(self, reader: Any) -> None:
        result, profile, start = self.result, self.profile, self.start
        columns = start.columns
        rules = [(rule.code, rule.quantity, rule.date, rule.name) for rule in columns.rules]
        positions = [p for rule in rules for p in rule if p is not None]
        if columns.location is not None:
            positions.append(columns.location)
        width = max(positions) + 1
        location_at = columns.location
        only_location = next(iter(start.locations.values()), "")
        separator = profile.code_separator
        default_quantity, default_date = profile.default_quantity, self.default_date
        decimal_separator, formats = profile.decimal_separator, profile.date_formats
        code_memo = _Memo(lambda raw: _codes(raw, separator))
        quantity_memo = _Memo(lambda raw: _quantity(raw, decimal_separator))
        date_memo = _Memo(lambda raw: _date(raw, formats, default_date))
        location_memo = _Memo(lambda raw: start.locations.get(raw.strip().casefold()))
        placed = _placed(start.days)
        pending = self.pending
        totals, names = result.totals, result.names
        sampling = len(result.sample) < SAMPLE_ROWS
        following = reader.line_num + 1
        try:
            for cells in reader:
                line, following = following, reader.line_num + 1
                if sampling or len(cells) < width:
                    self.slow(line, cells)
                    sampling = len(result.sample) < SAMPLE_ROWS
                    continue
                if location_at is None:
                    location = only_location
                else:
                    location = location_memo[cells[location_at]]
                if not location:
                    self.slow(line, cells)
                    continue
                sales = []
                for code_at, quantity_at, date_at, name_at in rules:
                    codes = code_memo[cells[code_at]]
                    if codes is None:
                        break
                    if not codes:
                        continue
                    if quantity_at is None:
                        quantity = default_quantity
                    else:
                        quantity = quantity_memo[cells[quantity_at]]
                        if quantity is None:
                            break
                    when = default_date if date_at is None else date_memo[cells[date_at]]
                    if when is None:
                        break
                    if when.__class__ is datetime:  # a time: its location's business date
                        when = placed[(when, location)]
                        if when is None:
                            break
                    sales.append((when, codes, quantity, name_at))
                else:
                    if sales:
                        result.rows += 1
                        for when, codes, quantity, name_at in sales:
                            if name_at is not None and len(codes) == 1 and codes[0] not in names:
                                name = cells[name_at].strip()
                                if name:
                                    names[codes[0]] = name
                            key = (when, location, codes)
                            before = pending.get(key)
                            if before is not None:
                                pending[key] = before + quantity
                                continue
                            pending[key] = quantity
                            for code in codes:
                                if (when, location, code) not in totals:
                                    totals[(when, location, code)] = Decimal()
                            self.check_size(line)
                        if len(pending) > PENDING_LIMIT:
                            self.fold()
                        continue
                self.slow(line, cells)
        except (UnicodeDecodeError, csv.Error) as error:
            raise read_error(error, self.result.dialect, following) from None

    def _one_rule_rows(self, reader: Any) -> None:
        """The usual profile (one rule): a record is summed under its raw cells (code, date,
        location); only a first sight of those cells is parsed and checked. The quantity
        cell is checked on every record (through its own memo)."""
        result, profile, start = self.result, self.profile, self.start
        columns = start.columns
        rule = columns.rules[0]
        positions = [
            p for p in (rule.code, rule.date, columns.location, rule.name) if p is not None
        ]
        raw_key = itemgetter(*positions)
        keyed = _KeyReader(self, rule, columns.location)
        width = max([*positions, rule.quantity or 0]) + 1
        quantity_at = rule.quantity
        default_quantity = profile.default_quantity
        decimal_separator = profile.decimal_separator
        quantity_memo = _Memo(lambda raw: _quantity(raw, decimal_separator))
        meaning = keyed.meaning
        totals = result.totals
        following = reader.line_num + 1
        try:
            for cells in reader:
                line, following = following, reader.line_num + 1
                if len(cells) < width or len(result.sample) < SAMPLE_ROWS:
                    self.slow(line, cells)
                    continue
                if quantity_at is None:
                    quantity = default_quantity
                else:
                    quantity = quantity_memo[cells[quantity_at]]
                    if quantity is None:
                        self.slow(line, cells)
                        continue
                key = raw_key(cells)
                places = meaning.get(key)
                if places is None:
                    places = keyed.first_sight(key, line)
                    if places is None:
                        self.slow(line, cells)
                        continue
                result.rows += 1
                for place in places:
                    totals[place] += quantity
        except (UnicodeDecodeError, csv.Error) as error:
            raise read_error(error, self.result.dialect, following) from None

    def slow(self, line: int, cells: list[str]) -> None:
        """One record read by ``read_row``: problems recorded, valid rows totalled."""
        if is_blank(cells):
            return
        result = self.result
        start = self.start
        read = read_row(line, cells, start, self.profile, self.default_date)
        result.rows += 1
        if read.problems:
            result.invalid_rows += 1
            result.error_count += len(read.problems)
            room = MAX_ERRORS_SHOWN - len(result.errors)
            result.errors.extend(read.problems[: max(room, 0)])
            return
        for row in read.rows:
            if len(result.sample) < SAMPLE_ROWS:
                result.sample.append(row)
            if row.name and row.codes[0] not in result.names:
                result.names[row.codes[0]] = row.name
            for code in row.codes:
                result.totals[(row.business_date, row.location, code)] += row.quantity
            self.check_size(row.line)

    def check_size(self, line: int) -> None:
        if len(self.result.totals) > MAX_TOTALS:
            raise UnreadableFile(
                f"{self.result.file_name} has more than {grouped(MAX_TOTALS)} different "
                f"combinations of date, location and POS code (line {line}); a till export has "
                "a few thousand codes: check that source_column is the article code, or split "
                "the file by date"
            )

    def fold(self) -> None:
        totals = self.result.totals
        for (when, location, codes), quantity in self.pending.items():
            for code in codes:
                totals[(when, location, code)] += quantity
        self.pending.clear()


class _Memo(dict[Any, Any]):
    """Cells parsed once per distinct text or key (``memo[text]``: a dictionary lookup in C when
    seen, ``parse`` when not); it starts over past ``MEMO_LIMIT`` entries, so memory stays
    bounded whatever the file."""

    def __init__(self, parse: Callable[[Any], Any]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, raw: Any) -> Any:
        if len(self) > MEMO_LIMIT:
            self.clear()
        value = self[raw] = self.parse(raw)
        return value


class _KeyReader:
    """The meaning of a one-rule record's raw key cells (code, then date, location and name,
    those the profile reads): the totals they add to, parsed once per distinct key. The name
    is part of the key so that a code's first name is taken at the first sight of its key
    (``Scan.names``), never looked up per record."""

    def __init__(self, tally: _Tally, rule: RuleColumns, location_at: int | None) -> None:
        self.tally = tally
        self.meaning: dict[Any, tuple[Total, ...]] = {}
        self.has_date = rule.date is not None
        self.has_location = location_at is not None
        self.has_name = rule.name is not None
        self.single = not (self.has_date or self.has_location or self.has_name)
        profile = tally.profile
        self.separator, self.formats = profile.code_separator, profile.date_formats
        self.only_location = next(iter(tally.start.locations.values()), "")
        self.placed = _placed(tally.start.days)

    def first_sight(self, key: Any, line: int) -> tuple[Total, ...] | None:
        """The totals the key's cells add to (registered in order, their count checked at
        ``line``), or ``None`` when ``read_row`` finds them invalid."""
        cells = (key,) if self.single else key
        codes = _codes(cells[0], self.separator)
        if not codes:
            return None
        position = 1
        when = self.tally.default_date
        if self.has_date:
            when = _date(cells[position], self.formats, when)
            position += 1
        if when is None:
            return None
        location = self.only_location
        if self.has_location:
            location = self.tally.start.locations.get(cells[position].strip().casefold())
        if not location:
            return None
        if when.__class__ is datetime:
            when = self.placed[(when, location)]
            if when is None:
                return None
        if self.has_name and len(codes) == 1 and codes[0] not in self.tally.result.names:
            name = cells[-1].strip()
            if name:
                self.tally.result.names[codes[0]] = name
        if len(self.meaning) > MEMO_LIMIT:
            self.meaning.clear()
        totals = self.tally.result.totals
        places = []
        for code in codes:
            place = (when, location, code)
            if place not in totals:
                totals[place] = Decimal()
            places.append(place)
        self.tally.check_size(line)
        found = self.meaning[key] = tuple(places)
        return found


def _placed(days: Mapping[str, DayStart]) -> _Memo:
    """The business date of a (date with a time, location name), worked out once per pair
    (``cells.business_date``), ``None`` when ``read_row`` would find a problem; a date
    without a time is its own and never looked up here."""

    def place(timed: tuple[datetime, str]) -> date | None:
        try:
            return business_date(timed[0], days[timed[1]])
        except ValueError:
            return None

    return _Memo(place)


def _codes(raw: str, separator: str | None) -> tuple[str, ...] | None:
    """The codes of a cell as ``read_row`` splits them; ``None`` when one is too long."""
    parts = raw.split(separator) if separator else [raw]
    codes = tuple(code.strip() for code in parts if code.strip())
    return None if any(len(code) > MAX_CODE for code in codes) else codes


def _quantity(raw: str, decimal_separator: str) -> Decimal | None:
    """The quantity of a non-missing cell, ``None`` when ``read_row`` would find a problem."""
    if not raw.strip():
        return None
    try:
        return parse_quantity(raw, decimal_separator)
    except ValueError:
        return None


def _date(raw: str, formats: list[str], default: date | None) -> date | None:
    """The date of a cell (or the default for an empty one), a ``datetime`` when it has a
    time (``cells.parse_date``); ``None`` for a problem."""
    if not raw.strip():
        return default
    try:
        return parse_date(raw, formats)
    except ValueError:
        return None
