"""The daily report: one message per company, a section per location."""

from __future__ import annotations

from stockpot.bot.blocks.common import (
    MESSAGE_BLOCKS,
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    lines_section,
    section,
)
from stockpot.bot.ids import ActionId
from stockpot.core.exact import format_decimal
from stockpot.core.reports import DailyReport, LocationDay
from stockpot.core.stock.costs import money

STATE_ICONS = {
    "posted": ":white_check_mark:",
    "unchanged": ":white_check_mark:",
    "failed": ":x:",
    "pending": ":hourglass_flowing_sand:",
    "not transferred": ":grey_question:",
    "paused": ":double_vertical_bar:",
}


def _location(row: LocationDay, currency: str) -> list[Block]:
    head = f"{STATE_ICONS.get(row.state, '')} *{escape(row.name)}*: {row.state}"
    if row.run_id is not None:
        totals = ", ".join(
            f"{format_decimal(quantity)} {unit}"
            for unit, quantity in sorted(row.deducted_total.items())
        )
        head += (
            f" · {row.lines} lines, {row.unmapped_lines} unmapped · deducted {totals or 'nothing'}"
        )
        if row.deducted_value:
            head += f" ({money(row.deducted_value, currency)} at cost)"
    blocks = [section(head)]
    if row.deductions:
        blocks.append(
            context(
                "Top deductions: "
                + ", ".join(
                    f"{escape(d.ingredient)} {format_decimal(d.quantity)} {d.unit}"
                    + (f" ({money(d.value, currency)})" if d.value is not None else "")
                    for d in row.deductions
                )
            )
        )
    if row.failure:
        blocks.append(context(f":warning: {escape(row.failure)}"))
    if row.failed_job_id is not None:
        blocks.append(actions(button("Retry", ActionId.JOB_RETRY, str(row.failed_job_id))))
    return blocks


def report_blocks(report: DailyReport) -> list[Block]:
    blocks: list[Block] = [header(f"{report.company}: {report.day:%A %d %B %Y}")]
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
                f"Unmapped: *{escape(row.name)}*{code}, sold {format_decimal(row.quantity)}",
                button("Map", ActionId.MAP_OPEN, str(row.pos_item_id), style="primary"),
            )
        )
    if report.negative:
        lines = [
            f"{escape(line.storage_unit)} · {escape(line.ingredient)}: "
            f"{format_decimal(line.quantity)} {line.unit}"
            for line in report.negative
        ]
        blocks.append(
            lines_section(
                ":warning: Negative balances (`/stock count` or `/stock receive` them)", lines
            )
        )
    blocks.append(context("`/pos unmapped` for the full list · `/transfer status` for every run"))
    return blocks[:MESSAGE_BLOCKS]
