"""Messages of ``/ledger``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from stockpot.bot.amounts import human
from stockpot.bot.blocks.common import (
    Block,
    LazyLines,
    context,
    escape,
    header,
    lines_section,
    section,
)
from stockpot.core.csv_export import csv_text
from stockpot.core.ledger import MovementTotal, StockLine
from stockpot.core.stock.costs import money
from stockpot.core.units import largest_by_family


def balances_blocks(
    company: str, rows: Sequence[StockLine], unit_filter: str | None, currency: str = "EUR"
) -> list[Block]:
    """Stock per storage unit, each line with its value at cost where the ingredient has one,
    and each unit's total value (money adds up; quantities of different things do not)."""
    title = f"Stock of {company}" + (f" in {unit_filter}" if unit_filter else "")
    if not rows:
        return [header(title), section("No movements yet.")]
    blocks: list[Block] = [header(title)]
    by_unit: dict[str, list[StockLine]] = {}
    totals: dict[str, Decimal] = {}
    for row in rows:
        if row.value is not None:
            totals[row.storage_unit] = totals.get(row.storage_unit, Decimal(0)) + row.value
        by_unit.setdefault(row.storage_unit, []).append(row)

    def line(row: StockLine) -> str:
        text = f"{escape(row.ingredient)}: {human(row.quantity, row.unit)}"
        return text if row.value is None else f"{text} · {money(row.value, currency)}"

    for unit, unit_rows in list(by_unit.items())[:40]:
        title = escape(unit)
        if unit in totals:
            title += f" ({money(totals[unit], currency)} at cost)"
        blocks.append(lines_section(title, LazyLines(unit_rows, line)))
    return blocks


TOTALS_SHOWN = 30


def totals_blocks(
    company: str, period: str, rows: Sequence[MovementTotal], unit_filter: str | None
) -> list[Block]:
    """A period's net change per ingredient: per storage unit, the largest of each unit family
    first (weighed, by volume, counted; kilograms are never ranked against pieces). Rounded
    here; the CSV file keeps the exact values."""
    title = f"Movements of {company}, {period}" + (f", {unit_filter}" if unit_filter else "")
    if not rows:
        return [header(title), section("No movements in that period.")]
    lines = [
        f"{escape(r.storage_unit)} · {escape(r.ingredient)}: {human(r.quantity, r.unit)} "
        f"({r.movements} movement{'s' if r.movements != 1 else ''})"
        for r in ranked(rows)[:TOTALS_SHOWN]
    ]
    blocks = [header(title), lines_section("Net change", lines)]
    if len(rows) > TOTALS_SHOWN:
        blocks.append(context(f"All {len(rows)} lines are in the CSV file posted with this."))
    return blocks


def ranked(rows: Sequence[MovementTotal]) -> list[MovementTotal]:
    by_unit: dict[str, list[MovementTotal]] = {}
    for row in rows:
        by_unit.setdefault(row.storage_unit, []).append(row)
    return [
        row
        for unit in sorted(by_unit)
        for group in largest_by_family(
            sorted(by_unit[unit], key=lambda r: r.ingredient),
            lambda r: r.quantity,
            lambda r: r.unit,
        ).values()
        for row in group
    ]


def totals_csv(rows: Sequence[MovementTotal]) -> str:
    return csv_text(
        ["storage_unit", "ingredient", "unit", "quantity", "movements"],
        ([r.storage_unit, r.ingredient, r.unit, r.quantity, r.movements] for r in rows),
    )
