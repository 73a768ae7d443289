"""The daily report: one message per company, a section per location."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from stockpot.bot.amounts import count, human
from stockpot.bot.blocks.common import (
    MESSAGE_BLOCKS,
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    local_time,
    plural,
    section,
)
from stockpot.bot.blocks.mapping import sold_days
from stockpot.bot.ids import ActionId
from stockpot.core import units
from stockpot.core.exact import format_decimal
from stockpot.core.reports import DailyReport, LocationDay
from stockpot.core.stock.costs import money
from stockpot.core.words import grouped, named_day

STATE_ICONS = {
    "posted": ":white_check_mark:",
    "unchanged": ":white_check_mark:",
    "failed": ":x:",
    "pending": ":hourglass_flowing_sand:",
    "not transferred": ":grey_question:",
    "paused": ":double_vertical_bar:",
    "not due yet": ":clock6:",
}


def _deducted(row: LocationDay) -> str:
    """How many ingredients were deducted, per kind: quantities of different ingredients
    (grams of yeast, kilograms of mozzarella) are never added up."""
    total = sum(row.deducted_count.values())
    if not total:
        return "nothing deducted"
    kinds = ", ".join(
        f"{grouped(n)} {units.FAMILY_WORDS[units.Family(family)]}"
        for family, n in row.deducted_count.items()
    )
    return f"{plural(total, 'ingredient')} deducted ({kinds})"


def _largest(row: LocationDay, currency: str) -> str:
    if all(d.value is not None for d in row.deductions):
        return "Largest deductions by value: " + ", ".join(
            f"{escape(d.ingredient)} {human(d.quantity, d.unit)} ({money(d.value, currency)})"
            for d in row.deductions
        )
    return "Largest deductions (the top of each kind: weighed, measured, counted): " + ", ".join(
        f"{escape(d.ingredient)} {human(d.quantity, d.unit)}" for d in row.deductions
    )


def _location(row: LocationDay, currency: str) -> list[Block]:
    head = f"{STATE_ICONS.get(row.state, '')} *{escape(row.name)}*: {row.state}"
    if row.due_at is not None:
        head += f" · transferred at {local_time(row.due_at, ZoneInfo(row.timezone))}"
    if row.run_id is not None:
        # "315 lines, 177 unmapped" beside the doctor's "148 items" read as items
        unmapped = (
            f"{grouped(row.unmapped_lines)} of them unmapped"
            if row.unmapped_lines
            else "none unmapped"
        )
        head += f" · {plural(row.lines, 'sales line')}, {unmapped} · {_deducted(row)}"
    blocks = [section(head)]
    if row.deductions:
        blocks.append(context(_largest(row, currency)))
    if row.failure:
        blocks.append(context(f":warning: {escape(row.failure)}"))
    if row.failed_job_id is not None:
        blocks.append(actions(button("Retry", ActionId.JOB_RETRY, str(row.failed_job_id))))
    return blocks


NEGATIVE_SHOWN = 5


def _negative(report: DailyReport) -> Block:
    """Balances below zero, short: how many per storage unit and the few that matter most
    (``units.ranked``: by value when every one has a cost); ``/ledger balances`` has each."""
    negative = report.negative
    per_unit: dict[str, int] = {}
    for line in negative:
        per_unit[line.storage_unit] = per_unit.get(line.storage_unit, 0) + 1
    where = ", ".join(f"{escape(unit)} {number}" for unit, number in per_unit.items())
    top = units.ranked(
        negative, lambda b: b.quantity, lambda b: b.unit, lambda b: b.value, NEGATIVE_SHOWN
    )
    lines = [
        f"{escape(line.ingredient)} ({escape(line.storage_unit)}): "
        f"{human(line.quantity, line.unit)}"
        + (f" · {money(line.value, report.currency)}" if line.value is not None else "")
        for line in top
    ]
    text = (
        f":warning: *{plural(len(negative), 'ingredient')} below zero* ({where}): count or "
        "receive stock."
    )
    if len(negative) > len(top):
        by_value = all(line.value is not None for line in negative)
        text += f"\n_{'Largest by value' if by_value else 'Largest of each kind'}_"
    text += "".join(f"\n{line}" for line in lines)
    if len(negative) > len(top):
        text += "\n`/ledger balances` shows every one."
    return section(text)


def report_blocks(report: DailyReport) -> list[Block]:
    blocks: list[Block] = [header(f"{report.company}: {named_day(report.day)}")]
    if not report.locations:
        blocks.append(section("No active location yet: `/pos locations` to activate one."))
    for row in report.locations:
        blocks.extend(_location(row, report.currency))
    blocks.append(divider())
    share = (
        f"{format_decimal((report.coverage * 100).quantize(1))} %"
        if report.coverage is not None
        else "no sales transferred yet"
    )
    blocks.append(section(f"*Mapping coverage* (last 7 days, by quantity sold): {share}"))
    for row in report.top_unmapped:
        if row.pos_item_id is None:
            continue
        code = f" ({escape(row.code)})" if row.code else ""
        blocks.append(
            section(
                f"Unmapped: *{escape(row.name)}*{code}, {sold_days(row, count(row.quantity))}",
                button("Map", ActionId.MAP_OPEN, str(row.pos_item_id), style="primary"),
            )
        )
    if report.negative:
        blocks.append(_negative(report))
    blocks.append(context("`/pos unmapped` for the full list · `/transfer status` for every run"))
    return blocks[:MESSAGE_BLOCKS]
