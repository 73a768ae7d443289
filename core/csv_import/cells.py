"""Turning cells into values, and values back into text that is safe to show.

Nothing read from a file is ever evaluated. A cell that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@`` first) is kept as text, and shown with a leading apostrophe
wherever it is written back out (Slack, messages, CSV files), so pasting it anywhere cannot
turn it into a formula.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from stockpot.core.periods import outside_dates
from stockpot.core.quantities import check_quantity

CACHED = 4096
"""Distinct cells remembered by the parsers: bounded, so memory stays flat on any file."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
"""ASCII digits only: a bare digit class also matches ``١٢``, ``１２`` and ``²``, which
``Decimal`` then read as 12, 12 and 2 (a till's export writes ASCII digits; anything else is
refused with its line, like any cell that is not a number)."""
_THOUSANDS = {
    ",": re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", re.ASCII),
    ".": re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", re.ASCII),
}


def is_number(value: str) -> bool:
    return bool(_NUMBER.fullmatch(value))


@lru_cache(maxsize=CACHED)
def parse_quantity(value: str, decimal_separator: str) -> Decimal:
    """A decimal written with ``decimal_separator`` (``1,5`` or ``1.5``; thousands groups
    such as ``1.234,5`` are understood). Raises ``ValueError`` with the fix. Remembered:
    an export repeats the same few quantities (and dates) on every row."""
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    other = "." if decimal_separator == "," else ","
    if _THOUSANDS[decimal_separator].fullmatch(text):
        text = text.replace(other, "")
    if other in text:
        raise ValueError(
            f"uses '{other}' but this profile's decimal separator is '{decimal_separator}'; "
            f"write it like 1{decimal_separator}5 or change decimal_separator"
        )
    text = text.replace(decimal_separator, ".")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"is not a number; write quantities like 2 or 1{decimal_separator}5")
    try:
        quantity = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError("is not a number") from None
    return check_quantity(quantity)


def parse_date(value: str, formats: list[str]) -> date:
    """The date in ``value`` by the first of ``formats`` that reads it; a time after the date
    (``27.11.2026 14:32``) is allowed and ignored. Raises ``ValueError`` with the fix.
    A date outside the ones Stockpot works with (``core.periods.sane_date``) is a problem
    too: a typed year (``27.11.2999``, ``01.01.1900``) was imported and posted."""
    day = _parse_date(value, tuple(formats))
    outside = outside_dates(day, date.today())  # noqa: DTZ011 - the range is a year wide
    if outside is not None:
        raise ValueError(f"is {day.isoformat()}, {outside}")
    return day


@lru_cache(maxsize=CACHED)
def _parse_date(value: str, formats: tuple[str, ...]) -> date:
    text = value.strip()
    candidates = [text, text.split(" ")[0].split("T")[0]] if text else []
    for pattern in formats:
        for candidate in candidates:
            try:
                # a business date, not an instant: no time zone to attach
                return datetime.strptime(candidate, pattern).date()  # noqa: DTZ007
            except ValueError:
                continue
    example = date(2026, 11, 27)
    shown = " or ".join(f"{pattern} (e.g. {example.strftime(pattern)})" for pattern in formats)
    raise ValueError(f"is not a date in the format {shown}; fix the date or date_formats")
