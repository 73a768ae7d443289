"""The one writer of every CSV file Stockpot hands out (``/ledger``'s movements file, and
any later export): text cells are neutralised as CSV-derived cells are, so a storage unit or
ingredient named ``=HYPERLINK(...)`` stays text in a spreadsheet; numbers are written as
exact decimals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from stockpot.core.cell_text import neutral
from stockpot.core.exact import format_decimal

Cell = str | int | Decimal | None


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, int):
        return str(value)
    return neutral(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(name) for name in header])
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()
