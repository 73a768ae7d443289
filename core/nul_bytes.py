"""A NUL byte in a CSV file people give Stockpot (a till's export, a count sheet, a delivery):
CSV text never holds one, PostgreSQL refuses one in text, and a file holding one is most
often no text at all (an Excel workbook, an image, UTF-16 text). One rule for every such file:
refused whole, at the line and column of its first NUL, saying how to make the file text."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from stockpot.core.cell_text import inert
from stockpot.core.lookup import NUL_REFUSED


@dataclass(frozen=True)
class NulPlace:
    line: int
    column: str | None
    """``'Name'`` (quoted) by the header's name, else the column's number; ``None`` when the
    file stops being CSV before the NUL (its line alone is known)."""

    @property
    def field(self) -> str:
        """``column 'Name'``, or ``""`` where the column is not known."""
        return f"column {self.column}" if self.column else ""

    def __str__(self) -> str:
        return f"line {self.line}" + (f", {self.field}" if self.column else "")


def nul_fix(what: str) -> str:
    """What a file with a NUL is told to do; ``what``: how its kind of file is made as CSV
    (``export the sales``, ``save the file``)."""
    return (
        f"{NUL_REFUSED} from the file, or, if the file is not text (an Excel workbook, an "
        f"image, UTF-16 text), {what} as CSV (in Excel: Save as → CSV UTF-8)"
    )


def nul_place(
    text: TextIO,
    *,
    delimiter: str,
    header: Callable[[list[str]], Sequence[str]] | None,
    line: int,
) -> NulPlace:
    """Where the first NUL of ``text`` (a CSV file decoded with errors replaced) is: its
    record's line and its column, named by the header row when the file has one (``header``:
    the names the file's reader gives its first record). ``line``: the NUL's line counted in
    the bytes, said alone when the file is not CSV up to it."""
    reader = csv.reader(text, delimiter=delimiter)
    names: Sequence[str] | None = None
    start = 1
    try:
        for cells in reader:
            at = next((p for p, value in enumerate(cells) if "\0" in value), None)
            if at is not None:
                if names is not None and at < len(names):
                    return NulPlace(start, f"'{inert(names[at], 40)}'")
                return NulPlace(start, str(at + 1))
            if header is not None and names is None:
                names = header(cells)
            start = reader.line_num + 1
    except csv.Error:
        pass
    return NulPlace(line, None)
