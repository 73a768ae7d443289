"""Messages of ``/ledger``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from stockpot.bot.amounts import human
from stockpot.bot.blocks.common import (
    Block,
    LazyLines,
    button,
    clip,
    context,
    escape,
    header,
    lines_modal,
    lines_section,
    plural,
    section,
)
from stockpot.bot.ids import ActionId
from stockpot.core import units
from stockpot.core.csv_export import csv_text
from stockpot.core.ledger import MovementTotal, StockLine
from stockpot.core.stock.costs import money
from stockpot.core.units import largest_by_family

BALANCES_SHOWN = 5
"""Lines per storage unit in ``/ledger balances``: the ones that matter most; **Show all**
opens the rest."""
BALANCES_UNITS = 40
MODAL_CHUNK = 25
"""Stock lines per section of the modal: 25 lines of at most ~110 characters stay under a
section's 3000."""


def _by_unit(rows: Sequence[StockLine]) -> dict[str, list[StockLine]]:
    by_unit: dict[str, list[StockLine]] = {}
    for row in rows:
        by_unit.setdefault(row.storage_unit, []).append(row)
    return by_unit


def _stock_line(row: StockLine, currency: str) -> str:
    text = f"{escape(clip(row.ingredient, 60))}: {human(row.quantity, row.unit)}"
    return text if row.value is None else f"{text} · {money(row.value, currency)}"


def _unit_summary(unit: str, rows: Sequence[StockLine], currency: str) -> str:
    """``Küche``: how many ingredients, their value at cost (money adds up; quantities of
    different things do not) and how many are below zero."""
    values = [row.value for row in rows if row.value is not None]
    below = sum(1 for row in rows if row.quantity < 0)
    parts = [f"*{escape(clip(unit, 80))}*", plural(len(rows), "ingredient")]
    if values:
        parts.append(f"{money(sum(values, Decimal(0)), currency)} at cost")
    if below:
        parts.append(f"{below} below zero (used, not yet received or counted)")
    return " · ".join(parts)


def balances_blocks(
    company: str, rows: Sequence[StockLine], unit_filter: str | None, currency: str = "EUR"
) -> list[Block]:
    """A short summary per storage unit: its ingredients, value at cost and how many are
    below zero, then the few lines that matter most (``units.ranked``: by value when every
    line has one, else the largest of each kind in turns) and **Show all**, a modal with every
    line. Rounded here; ``stockpot ledger balances --json`` keeps the exact values."""
    title = f"Stock of {company}" + (f" in {unit_filter}" if unit_filter else "")
    if not rows:
        return [header(title), section("No movements yet.")]
    blocks: list[Block] = [header(title)]
    by_unit = _by_unit(rows)
    for unit, unit_rows in list(by_unit.items())[:BALANCES_UNITS]:
        top = units.ranked(
            unit_rows, lambda r: r.quantity, lambda r: r.unit, lambda r: r.value, BALANCES_SHOWN
        )
        by_value = all(row.value is not None for row in unit_rows)
        text = _unit_summary(unit, unit_rows, currency)
        if len(unit_rows) > BALANCES_SHOWN:
            text += "\n_" + ("Largest by value" if by_value else "Largest of each kind") + "_"
        text += "".join(f"\n{_stock_line(row, currency)}" for row in top)
        more = (
            button("Show all", ActionId.LEDGER_BALANCES_ALL, clip(unit, 2000))
            if len(unit_rows) > BALANCES_SHOWN
            else None
        )
        blocks.append(section(text, more))
    if len(by_unit) > BALANCES_UNITS:
        blocks.append(
            context(
                f"{len(by_unit) - BALANCES_UNITS} more storage units: "
                "`/ledger balances <storage unit>` shows one."
            )
        )
    return blocks


def balances_modal(unit: str, rows: Sequence[StockLine], currency: str = "EUR") -> Block:
    """Every stock line of one storage unit, by ingredient, in a modal (``/ledger balances``'
    **Show all**); lines are formatted only while the modal's 100 blocks hold them."""
    return lines_modal(
        "Stock",
        _unit_summary(unit, rows, currency),
        LazyLines(rows, lambda row: _stock_line(row, currency)),
        per_section=MODAL_CHUNK,
        more="…and {n} more: `stockpot ledger balances` lists every one.",
    )


TOTALS_SHOWN = 30


def totals_blocks(
    company: str, period: str, rows: Sequence[MovementTotal], unit_filter: str | None
) -> list[Block]:
    """A period's net change per ingredient: per storage unit, the largest of each unit family
    first (weighed, measured, counted; kilograms are never ranked against pieces). Rounded
    here; the CSV file keeps the exact values."""
    title = f"Movements of {company}, {period}" + (f", {unit_filter}" if unit_filter else "")
    if not rows:
        return [header(title), section("No movements in that period.")]
    # One storage unit asked for: the title names it, each line need not.
    where = (lambda r: "") if unit_filter else (lambda r: f"{escape(r.storage_unit)} · ")
    lines = [
        f"{where(r)}{escape(r.ingredient)}: {human(r.quantity, r.unit)} "
        f"({plural(r.movements, 'movement')})"
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
