"""One streaming pass over a file: validate every row and total the valid ones.

The totals are kept per (business date, location, POS code), so memory is bounded by the
distinct codes and dates of the file, not by its rows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from stockpot.core.csv_import.dialect import SAMPLE_BYTES, Dialect, UnreadableFile, detect
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.csv_import.reader import CsvRow, RowProblem, read_rows
from stockpot.core.errors import ValidationFailed

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

    @property
    def dates(self) -> list[date]:
        return sorted({when for when, _, _ in self.totals})

    @property
    def days(self) -> list[tuple[str, date]]:
        return sorted({(location, when) for when, location, _ in self.totals})

    def by_code(self) -> dict[str, Decimal]:
        quantities: dict[str, Decimal] = defaultdict(Decimal)
        for (_, _, code), quantity in self.totals.items():
            quantities[code] += quantity
        return dict(quantities)

    def refuse_if_invalid(self) -> None:
        if self.error_count:
            raise InvalidCsv(self.file_name, self.errors, self.error_count)


def content_hash(stream: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of the whole stream, read in chunks; the stream is rewound."""
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def scan(
    stream: BinaryIO,
    profile: CsvProfile,
    *,
    file_name: str,
    locations: Sequence[str],
    default_date: date | None,
    max_bytes: int,
) -> Scan:
    """Validate and total ``stream`` (a seekable binary file) by ``profile``."""
    digest, size = content_hash(stream)
    if size > max_bytes:
        raise UnreadableFile(
            f"{file_name} is {size / 1_048_576:.1f} MB, over the limit of "
            f"{max_bytes / 1_048_576:.0f} MB; split it by date and import the parts"
        )
    dialect = detect(stream.read(SAMPLE_BYTES), profile)
    stream.seek(0)
    result = Scan(file_name, dialect, digest, size)
    for read in read_rows(stream, profile, dialect, locations=locations, default_date=default_date):
        result.rows += 1
        if read.problems:
            result.invalid_rows += 1
            result.error_count += len(read.problems)
            room = MAX_ERRORS_SHOWN - len(result.errors)
            result.errors.extend(read.problems[: max(room, 0)])
            continue
        for row in read.rows:
            if len(result.sample) < SAMPLE_ROWS:
                result.sample.append(row)
            for code in row.codes:
                result.totals[(row.business_date, row.location, code)] += row.quantity
            if len(result.totals) > MAX_TOTALS:
                raise UnreadableFile(
                    f"{file_name} has more than {MAX_TOTALS:,} different combinations of date, "
                    f"location and POS code (line {row.line}); a till export has a few "
                    "thousand codes: check that source_column is the article code, or split "
                    "the file by date"
                )
    return result
