"""Messages of ``/transfer``: a preview with its "Post to ledger" button (or saying the day
already matches what is posted), and results."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stockpot.bot.amounts import count, human
from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    clip,
    confirm,
    context,
    escape,
    header,
    plural,
    section,
)
from stockpot.bot.blocks.jobs import fix_buttons
from stockpot.bot.blocks.text import render
from stockpot.bot.ids import ActionId
from stockpot.core.ledger import StockLine
from stockpot.core.stock.costs import money
from stockpot.core.transfer.runner import TransferReport
from stockpot.core.units import FAMILY_WORDS, largest_by_family, ranked

LEFT_OUT = {
    "cancelled_sale": ("line of a cancelled sale", "lines of cancelled sales"),
    "voided_line": ("voided line", "voided lines"),
    "parent_voided": ("line under a voided item", "lines under voided items"),
    "non_item": ("tip, fee or discount line", "tip, fee or discount lines"),
    "refund_not_restocked": ("refund not put back in stock", "refunds not put back in stock"),
}
"""Why lines were left out, as a count reads ("4 voided lines", never "voided line 4", which
reads as line number 4)."""


def left_out(skipped: dict[str, int]) -> str:
    phrases = []
    for reason, number in skipped.items():
        one, many = LEFT_OUT.get(reason, (reason.replace("_", " "),) * 2)
        phrases.append(f"{number} {one if number == 1 else many}")
    return ", ".join(phrases)


def _stats(report: TransferReport) -> str:
    return render(
        "transfer_stats.txt",
        stats=report.stats,
        left_out=left_out(report.stats.get("skipped") or {}),
    )


TOP_DEDUCTIONS = 5
TOP_UNMAPPED = 5


def _deductions(report: TransferReport, currency: str | None) -> list[Block]:
    """How many ingredients move, per kind, and the largest, as amounts taken: by value (each
    with its value) when every one has a value, else the largest of each kind in turns
    (``units.ranked``). Stock put back (an item refunded more than sold) is no deduction,
    as in the daily report: said apart, never as a negative amount taken."""
    moved = [m for m in report.movements if m.quantity < 0]
    back = _put_back([m for m in report.movements if m.quantity > 0])
    if not moved:
        return [section("*Deductions*: none" + back)]
    groups = largest_by_family(moved, lambda m: m.quantity, lambda m: m.unit)
    kinds = ", ".join(f"{len(items)} {FAMILY_WORDS[family]}" for family, items in groups.items())
    top = ranked(moved, lambda m: m.quantity, lambda m: m.unit, lambda m: m.value, TOP_DEDUCTIONS)
    by_value = all(m.value is not None for m in moved)
    units = {m.storage_unit for m in top}
    one_unit = len(units) == 1
    lines = [
        f"{escape(clip(m.ingredient, 60))} {human(-m.quantity, m.unit)}"
        + (f" ({money(-m.value, currency)})" if m.value is not None and currency else "")
        + ("" if one_unit else f" from {escape(clip(m.storage_unit, 40))}")
        for m in top
    ]
    title = "Largest by value" if by_value else "Largest of each kind"
    if one_unit:
        title += f", all from {escape(clip(next(iter(units)), 40))}"
    return [
        section(f"*{plural(len(moved), 'deduction')}* ({kinds})\n{title}: {', '.join(lines)}{back}")
    ]


def _put_back(added: list[StockLine]) -> str:
    if not added:
        return ""
    top = ranked(added, lambda m: m.quantity, lambda m: m.unit, lambda m: m.value, TOP_DEDUCTIONS)
    shown = ", ".join(f"{escape(clip(m.ingredient, 60))} {human(m.quantity, m.unit)}" for m in top)
    return f"\n{plural(len(added), 'ingredient')} put back (more refunded than sold): {shown}"


def _unmapped(report: TransferReport) -> list[Block]:
    items = sorted(report.unmapped, key=lambda item: -Decimal(str(item["quantity"])))
    lines = [
        f"{escape(clip(item['name'], 60))} ({escape(clip(item['pos_code'] or '-', 20))}) sold "
        f"{count(Decimal(str(item['quantity'])))}"
        for item in items[:TOP_UNMAPPED]
    ]
    # Items, not lines: the stats above count sales lines (one item sells on many lines).
    noun = "item" if len(items) == 1 else "items"
    text = f"*{len(items)} unmapped {noun}* (not deducted): " + ", ".join(lines)
    if len(items) <= TOP_UNMAPPED:
        return [section(text)]
    return [
        section(
            text + f", and {len(items) - TOP_UNMAPPED} more",
            button("Show all", ActionId.TRANSFER_UNMAPPED, str(report.run_id)),
        )
    ]


def report_blocks(
    report: TransferReport, *, post_value: str | None = None, currency: str | None = None
) -> list[Block]:
    """A run (or a preview when ``post_value`` offers to post it) as a short summary: its
    lines, how many deductions and the largest (with their value in ``currency``), the
    most-sold unmapped items with a way to see all; the ledger and ``/transfer log`` have the
    rest. A preview of a day that matches its live run says so instead of offering to post:
    posting would change nothing."""
    titles = {
        "preview": f"Preview: {report.location}, {report.business_date}",
        "posted": f"Posted: {report.location}, {report.business_date}",
        "unchanged": f"Unchanged: {report.location}, {report.business_date}",
    }
    blocks: list[Block] = [header(titles[report.outcome.value]), section(_stats(report))]
    if report.movements or report.outcome.value != "unchanged":
        blocks.extend(_deductions(report, currency))
    if report.unmapped:
        blocks.extend(_unmapped(report))
    if report.outcome.value == "unchanged":
        blocks.append(context("Same sales, mappings and recipes as the live run: nothing posted."))
    if report.matches_live_run_id is not None:
        blocks.append(section(":white_check_mark: Matches what is posted: nothing to post."))
    elif post_value is not None:
        blocks.append(
            actions(
                button(
                    "Post to ledger",
                    ActionId.TRANSFER_POST,
                    post_value,
                    style="primary",
                    confirm=confirm(
                        "Post to the ledger?",
                        f"The deductions of *{escape(report.location)}*, "
                        f"{report.business_date} are posted (a later rerun replaces them).",
                        "Post",
                        danger=False,
                    ),
                )
            )
        )
    # Run ids are the log's, not the manager's: the command that lists the day's runs is.
    blocks.append(
        context(
            ("replaces what was posted for this day before · " if report.superseded_run_id else "")
            + f"`/transfer log {escape(report.location)} {report.business_date}` lists the "
            "day's runs"
        )
    )
    return blocks


def unmapped_modal(location: str, day: str, items: list[dict[str, Any]]) -> Block:
    """Every unmapped item of a run, most sold first."""
    ordered = sorted(items, key=lambda item: -Decimal(str(item["quantity"])))
    lines = [
        f"{escape(clip(item['name'], 60))} ({escape(clip(item['pos_code'] or '-', 20))}): sold "
        f"{count(Decimal(str(item['quantity'])))}"
        for item in ordered
    ]
    chunks: list[Block] = []
    # 25 lines of at most ~95 characters stay under a section's 3000.
    for start in range(0, len(lines), 25):
        chunks.append(section("\n".join(lines[start : start + 25])))
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Unmapped items"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            section(
                f"*{escape(location)}, {day}*: {plural(len(items), 'item')} sold but not mapped"
            ),
            *chunks[:90],
            context("`/pos unmapped` maps them, most sold first."),
        ],
    }


def failure_blocks(
    location: str,
    day: str,
    reason: str,
    *,
    retry_job: int | None = None,
    reconnect: int | None = None,
) -> list[Block]:
    """A transfer that did not happen, with the buttons that fix it: try again, or reconnect
    the POS when its credentials stopped working (its automatic transfers wait meanwhile:
    said once here, not by a failure every day)."""
    waiting = (
        " Automatic transfers from this POS wait until it is reconnected, then do the days since."
        if reconnect is not None
        else ""
    )
    blocks = [
        header(f"Not transferred: {location}, {day}"),
        section(f":warning: {escape(reason)}"),
        context(f"Nothing was posted; the attempt is in the transfer log.{waiting}"),
    ]
    if retry_job is not None:
        blocks.append(fix_buttons(retry_job, reconnect))
    return blocks
