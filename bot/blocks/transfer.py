"""Messages of ``/transfer``: a preview with its "Post to ledger" button, and results."""

from __future__ import annotations

from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    context,
    escape,
    header,
    lines_section,
    section,
)
from stockpot.bot.blocks.jobs import fix_buttons
from stockpot.bot.blocks.text import render
from stockpot.bot.ids import ActionId
from stockpot.core.exact import format_decimal
from stockpot.core.transfer.runner import TransferReport

TOP_MOVEMENTS = 15


def _stats(report: TransferReport) -> str:
    return render("transfer_stats.txt", stats=report.stats)


def report_blocks(report: TransferReport, *, post_value: str | None = None) -> list[Block]:
    """The result of a run (or a preview when ``post_value`` offers to post it)."""
    titles = {
        "preview": f"Preview: {report.location}, {report.business_date}",
        "posted": f"Posted: {report.location}, {report.business_date}",
        "unchanged": f"Unchanged: {report.location}, {report.business_date}",
    }
    blocks: list[Block] = [header(titles[report.outcome.value]), section(_stats(report))]
    movements = sorted(report.movements, key=lambda m: m.quantity)
    if movements:
        lines = [
            f"{escape(m.storage_unit)} · {escape(m.ingredient)}: "
            f"{format_decimal(m.quantity)} {m.unit}"
            for m in movements[:TOP_MOVEMENTS]
        ]
        blocks.append(lines_section("Largest deductions", lines))
        if len(movements) > TOP_MOVEMENTS:
            blocks.append(context(f"{len(movements) - TOP_MOVEMENTS} more movements in the ledger"))
    if report.unmapped:
        lines = [
            f"{escape(item['name'])} ({escape(item['pos_code'] or '-')}): sold {item['quantity']}"
            for item in report.unmapped
        ]
        blocks.append(lines_section("Unmapped (not deducted)", lines))
    if report.outcome.value == "unchanged":
        blocks.append(context("Same sales, mappings and recipes as the live run: nothing posted."))
    if post_value is not None:
        blocks.append(
            actions(button("Post to ledger", ActionId.TRANSFER_POST, post_value, style="primary"))
        )
    blocks.append(
        context(
            f"run {report.run_id} · "
            + (f"replaces run {report.superseded_run_id} · " if report.superseded_run_id else "")
            + f"`/transfer log {escape(report.location)} {report.business_date}`"
        )
    )
    return blocks


def failure_blocks(
    location: str,
    day: str,
    reason: str,
    *,
    retry_job: int | None = None,
    reconnect: int | None = None,
) -> list[Block]:
    """A transfer that did not happen, with the buttons that fix it: try again, or reconnect
    the POS when its credentials stopped working."""
    blocks = [
        header(f"Not transferred: {location}, {day}"),
        section(f":warning: {escape(reason)}"),
        context("Nothing was posted; the attempt is in the transfer log."),
    ]
    if retry_job is not None:
        blocks.append(fix_buttons(retry_job, reconnect))
    return blocks
