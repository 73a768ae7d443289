"""How a run keeps the sales lines it read: one compact value per run, not one row per line.

A day is 2,000 to 200,000 lines. Stored as rows, every line cost a COPY row and a foreign-key
check inside the transfer; the lines are only ever read back whole (to rerun a CSV day, to
trace a movement), so a run stores them as one zlib-compressed JSON array, in a canonical
order (by sale, then line). The same serialisation is the lines' digest: lines fetched again
in another order, or with ``1.0`` for ``1``, encode and hash the same.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from stockpot.core.exact import format_decimal
from stockpot.core.transfer.lines import LineKind, SaleLine

FORMAT = 1
"""The layout of an encoded line; stored with the lines so a later layout can still read it."""
_VOIDED, _CANCELLED = 1, 2
_COMPRESSION_LEVEL = 1
"""Fastest: the JSON of a day compresses about 10× already at level 1."""


@dataclass(frozen=True)
class EncodedLines:
    lines: list[SaleLine]
    """The lines in their canonical order: the order the engine reads and positions refer to."""
    digest: str
    """SHA-256 of the canonical JSON."""
    body: bytes
    """The canonical JSON, compressed: what the run stores."""


def encode_lines(lines: Sequence[SaleLine]) -> EncodedLines:
    text_of: dict[Decimal, str] = {}
    rows = []
    for line in lines:
        quantity = text_of.get(line.quantity)
        if quantity is None:
            quantity = text_of[line.quantity] = format_decimal(line.quantity)
        flags = (_VOIDED if line.voided else 0) | (_CANCELLED if line.cancelled else 0)
        rows.append(
            (
                (
                    line.sale_id,
                    line.line_id,
                    line.pos_code or "",
                    line.name,
                    quantity,
                    line.parent_line_id or "",
                    line.kind.value,
                    flags,
                    line.skip_reason or "",
                ),
                line,
            )
        )
    rows.sort(key=lambda row: row[0])
    text = json.dumps([row[0] for row in rows], ensure_ascii=False, separators=(",", ":"))
    data = text.encode()
    return EncodedLines(
        lines=[row[1] for row in rows],
        digest=hashlib.sha256(data).hexdigest(),
        body=zlib.compress(data, _COMPRESSION_LEVEL),
    )


def decode_lines(body: bytes, layout: int = FORMAT) -> list[SaleLine]:
    if layout != FORMAT:
        raise ValueError(f"stored lines of layout {layout} cannot be read by this version")
    quantity_of: dict[str, Decimal] = {}
    lines = []
    for sale_id, line_id, pos_code, name, quantity, parent, kind, flags, skip in json.loads(
        zlib.decompress(body)
    ):
        amount = quantity_of.get(quantity)
        if amount is None:
            amount = quantity_of[quantity] = Decimal(quantity)
        lines.append(
            SaleLine(
                sale_id=sale_id,
                line_id=line_id,
                pos_code=pos_code or None,
                name=name,
                quantity=amount,
                parent_line_id=parent or None,
                voided=bool(flags & _VOIDED),
                cancelled=bool(flags & _CANCELLED),
                kind=LineKind(kind),
                skip_reason=skip or None,
            )
        )
    return lines
