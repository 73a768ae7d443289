"""How a run keeps the sales lines it read: one compact value per run, not one row per line.

A day is 2,000 to 200,000 lines. Stored as rows, every line cost a COPY row and a foreign-key
check inside the transfer; the lines are only ever read back whole (to rerun a CSV day, to
trace a movement), so a run stores them as one compressed text, in a canonical order (by
sale, then line). The same text is the lines' digest: lines fetched again in another order,
or with ``1.0`` for ``1``, encode and hash the same.

The text is one record per line, fields separated by the ASCII unit separator and records by
the record separator: one f-string a line, no per-line objects for the garbage collector to
walk. Lines whose own text holds a separator (nothing a POS sends, but anything a CSV may
hold) are written as JSON instead; the first character says which.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from stockpot.core.exact import format_decimal
from stockpot.core.transfer.lines import LineKind, SaleLine

FORMAT = 1
"""The layout of the stored text; kept with the lines so a later layout can still read it."""
FIELDS, RECORDS = "\x1f", "\x1e"
PLAIN, AS_JSON = "T", "J"
_VOIDED, _CANCELLED = 1, 2
_COMPRESSION_LEVEL = 1
"""Fastest: a day's text compresses about 8× already at level 1."""
_FIELD_COUNT = 9


@dataclass(frozen=True)
class EncodedLines:
    lines: list[SaleLine]
    """The lines in their canonical order: the order the engine reads and positions refer to."""
    digest: str
    """SHA-256 of the canonical text."""
    text: bytes
    """The canonical text."""

    @cached_property
    def body(self) -> bytes:
        """The canonical text, compressed: what a posted run stores (an unchanged rerun or a
        preview stores none, and does not pay for it)."""
        return zlib.compress(self.text, _COMPRESSION_LEVEL)


def encode_lines(lines: Sequence[SaleLine]) -> EncodedLines:
    text_of: dict[Decimal, str] = {}
    records = []
    for line in lines:
        quantity = text_of.get(line.quantity)
        if quantity is None:
            quantity = text_of[line.quantity] = format_decimal(line.quantity)
        flags = (_VOIDED if line.voided else 0) | (_CANCELLED if line.cancelled else 0)
        records.append(
            f"{line.sale_id}\x1f{line.line_id}\x1f{line.pos_code or ''}\x1f{line.name}\x1f"
            f"{quantity}\x1f{line.parent_line_id or ''}\x1f{line.kind.value}\x1f{flags}\x1f"
            f"{line.skip_reason or ''}"
        )
    order = sorted(range(len(records)), key=records.__getitem__)
    ordered = [lines[index] for index in order]
    body = RECORDS.join([records[index] for index in order])
    if body.count(FIELDS) == len(records) * (_FIELD_COUNT - 1) and body.count(RECORDS) == max(
        len(records) - 1, 0
    ):
        text = PLAIN + body
    else:
        text = AS_JSON + json.dumps(
            [_fields(line) for line in ordered], ensure_ascii=False, separators=(",", ":")
        )
    data = text.encode()
    return EncodedLines(lines=ordered, digest=hashlib.sha256(data).hexdigest(), text=data)


def _fields(line: SaleLine) -> list[str]:
    flags = (_VOIDED if line.voided else 0) | (_CANCELLED if line.cancelled else 0)
    return [
        line.sale_id,
        line.line_id,
        line.pos_code or "",
        line.name,
        format_decimal(line.quantity),
        line.parent_line_id or "",
        line.kind.value,
        str(flags),
        line.skip_reason or "",
    ]


def decode_lines(body: bytes, layout: int = FORMAT) -> list[SaleLine]:
    if layout != FORMAT:
        raise ValueError(f"stored lines of layout {layout} cannot be read by this version")
    text = zlib.decompress(body).decode()
    kind, content = text[:1], text[1:]
    if kind == PLAIN:
        rows = [record.split(FIELDS) for record in content.split(RECORDS)] if content else []
    else:
        rows = json.loads(content)
    quantity_of: dict[str, Decimal] = {}
    lines = []
    for sale_id, line_id, pos_code, name, quantity, parent, line_kind, flags, skip in rows:
        amount = quantity_of.get(quantity)
        if amount is None:
            amount = quantity_of[quantity] = Decimal(quantity)
        bits = int(flags)
        lines.append(
            SaleLine(
                sale_id=sale_id,
                line_id=line_id,
                pos_code=pos_code or None,
                name=name,
                quantity=amount,
                parent_line_id=parent or None,
                voided=bool(bits & _VOIDED),
                cancelled=bool(bits & _CANCELLED),
                kind=LineKind(line_kind),
                skip_reason=skip or None,
            )
        )
    return lines
