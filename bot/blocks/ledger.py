"""Messages of ``/ledger``."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks.common import Block, escape, header, lines_section, section
from core.exact import format_decimal
from core.ledger import StockLine


def balances_blocks(
    company: str, rows: Sequence[StockLine], unit_filter: str | None
) -> list[Block]:
    title = f"Stock of {company}" + (f" in {unit_filter}" if unit_filter else "")
    if not rows:
        return [header(title), section("No movements yet.")]
    blocks: list[Block] = [header(title)]
    by_unit: dict[str, list[str]] = {}
    for row in rows:
        by_unit.setdefault(row.storage_unit, []).append(
            f"{escape(row.ingredient)}: {format_decimal(row.quantity)} {row.unit}"
        )
    for unit, lines in list(by_unit.items())[:40]:
        blocks.append(lines_section(escape(unit), lines))
    return blocks
