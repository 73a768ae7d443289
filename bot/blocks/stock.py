"""Messages and modals of ``/stock`` and ``/ledger variance`` (quantities rounded for
people by ``bot.amounts.human``; the CLI, JSON and the ledger keep them exact).

A count sheet is a modal of one optional number input per ingredient, labelled with its
unit, under a header per group. A modal holds at most 100 blocks: a sheet longer than a page
is split into pages of at most ``PAGE_BLOCKS`` blocks, each submitted (and posted, as a
partial count of what it lists) on its own, the next page opening in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from stockpot.bot.amounts import human, human_together
from stockpot.bot.blocks.common import (
    MODAL_BLOCKS,
    Block,
    LazyLines,
    actions,
    button,
    clip,
    context,
    escape,
    header,
    lines_modal,
    lines_section,
    local_time,
    plural,
    section,
    who_did,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import VarianceValue
from stockpot.core.errors import first_problems
from stockpot.core.models import StockKind
from stockpot.core.stock.costs import money
from stockpot.core.stock.ledger import LiveCount
from stockpot.core.stock.services import StockResult
from stockpot.core.stock.variance import Variance, VarianceLine

PAGE_BLOCKS = 90
"""Blocks of a count sheet page: below the modal's 100, leaving room for its intro and the
notice of counts already posted that day."""
TITLE = 24
"""A modal title's limit."""


@dataclass(frozen=True)
class SheetRow:
    ingredient_id: int
    name: str
    unit: str
    counted: str | None = None
    """What a live count of that day already counted (``20.5 kg (count 42)``)."""


def sheet_pages(groups: dict[str, Sequence[SheetRow]]) -> list[list[Block]]:
    """The sheet's input blocks, split into pages that each fit a modal (a group continued
    on the next page repeats its header)."""
    pages: list[list[Block]] = [[]]
    for group, rows in groups.items():
        started = False
        for row in rows:
            page = pages[-1]
            if len(page) + (1 if started else 2) > PAGE_BLOCKS:
                pages.append([])
                page, started = pages[-1], False
            if not started:
                page.append(header(group))
                started = True
            page.append(
                {
                    "type": "input",
                    "block_id": f"{BlockId.STOCK_INGREDIENT_PREFIX}{row.ingredient_id}",
                    "optional": True,
                    "label": {"type": "plain_text", "text": clip(f"{row.name} ({row.unit})", 2000)},
                    "element": {
                        "type": "number_input",
                        "is_decimal_allowed": True,
                        "min_value": "0",
                        "action_id": ActionId.STOCK_QUANTITY,
                        "placeholder": {"type": "plain_text", "text": row.unit},
                    },
                }
            )
            if row.counted is not None:
                page[-1]["hint"] = {
                    "type": "plain_text",
                    "text": clip(f"Counted already that day: {row.counted}", 2000),
                }
    return pages


def counted_notice(
    unit: str, day: date, counts: Sequence[LiveCount], zone: ZoneInfo
) -> Block | None:
    """The sheet's word on the counts already posted for its unit and day: who, when (on the
    company's clock: in UTC a count at 00:30 in Berlin read as the day before), what, and how
    to count again (a counted ingredient is refused until its count is reversed)."""
    if not counts:
        return None
    shown = counts[:COUNTS_NAMED]
    named = "; ".join(
        f"count {c.posting_id} by {who_did(c.posted_by)} at {local_time(c.posted_at, zone)} "
        f"({plural(len(c.counted), 'ingredient')})"
        for c in shown
    )
    more = (
        f"; and {plural(len(counts) - len(shown), 'count')} more"
        if len(counts) > len(shown)
        else ""
    )
    correct = " or ".join(f"`/stock correct {c.posting_id}`" for c in shown)
    return context(
        f":warning: *{escape(unit)}* was already counted at the close of {day}: {named}{more}. "
        "What it counted is shown under its field and cannot be counted again that day: to "
        f"count it again, reverse that count first ({correct}), then open the sheet again."
    )


COUNTS_NAMED = 3
"""Counts named on a sheet (a day's sheet is posted page by page: a long one has several)."""


def count_modal(
    metadata: str,
    unit: str,
    day: date,
    page: list[Block],
    number: int,
    pages: int,
    counts: Sequence[LiveCount],
    zone: ZoneInfo,
) -> Block:
    intro = context(
        f"Counted stock of *{escape(unit)}* at the close of {day}. Leave an ingredient empty "
        "if you did not count it: only what you fill in is counted."
        + (
            f" Page {number + 1} of {pages}: each page is posted when you go on."
            if pages > 1
            else ""
        )
    )
    last = number + 1 >= pages
    notice = [b for b in [counted_notice(unit, day, counts, zone)] if b is not None]
    return {
        "type": "modal",
        "callback_id": CallbackId.STOCK_COUNT,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": clip(f"Count {unit}", TITLE)},
        "submit": {"type": "plain_text", "text": "Post count" if last else "Post, next page"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [intro, *notice, *page][:MODAL_BLOCKS],
    }


def stock_form_modal(
    metadata: str, kind: str, unit: str, to_unit: str | None, day: date | None = None
) -> Block:
    """Receive, waste or move: lines typed one per row (``Flour=25kg@0.9``) and a note;
    ``day``: the date typed with the command, the date picker's start."""
    where = f"{unit} → {to_unit}" if to_unit else unit
    picker: Block = {"type": "datepicker", "action_id": ActionId.STOCK_DATE}
    if day is not None:
        picker["initial_date"] = day.isoformat()
    note = {"receipt": "Supplier and delivery note", "waste": "Reason", "move": "Note"}[kind]
    return {
        "type": "modal",
        "callback_id": CallbackId.STOCK_FORM,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": clip(f"{kind.capitalize()}: {where}", TITLE)},
        "submit": {"type": "plain_text", "text": "Post"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.STOCK_LINES,
                "label": {"type": "plain_text", "text": "One ingredient per line"},
                "hint": {
                    "type": "plain_text",
                    "text": "ingredient=quantity[unit][@cost per that unit], e.g. Flour=25kg@0.9",
                },
                "element": {
                    "type": "plain_text_input",
                    "multiline": True,
                    "action_id": ActionId.STOCK_LINES,
                },
            },
            {
                "type": "input",
                "block_id": BlockId.STOCK_DATE,
                "optional": True,
                "label": {
                    "type": "plain_text",
                    # A picker started on the typed date does not say "today" beside it.
                    "text": "Business date"
                    + (" (default: today's business day)" if day is None else ""),
                },
                "element": picker,
            },
            {
                "type": "input",
                "block_id": BlockId.STOCK_NOTE,
                "optional": True,
                "label": {"type": "plain_text", "text": note},
                "element": {"type": "plain_text_input", "action_id": ActionId.STOCK_NOTE},
            },
        ],
    }


VERBS = {
    "count": "counted",
    "receipt": "received",
    "waste": "wasted",
    "move": "moved",
    "correction": "corrected",
}


def posted_blocks(result: StockResult, user_id: str | None) -> list[Block]:
    """What a posting did, and who posted it (every posting says who)."""
    who = f"<@{user_id}>" if user_id else escape(result.posted_by)
    where = escape(result.storage_unit) + (
        f" → {escape(result.to_storage_unit)}" if result.to_storage_unit else ""
    )
    kind = result.kind.value
    lines = []
    for line in result.lines:
        text = f"{escape(line.ingredient)}: {human(line.quantity, line.unit)}"
        if line.adjustment is not None:
            text += f" (adjustment {human(line.adjustment, line.unit)})"
        if line.value is not None:
            text += f" · {money(line.value, result.currency)}"
        lines.append(text)
    verb = VERBS.get(kind, kind)
    reference = f"Posting {result.posting_id}" + (
        ""
        if result.kind is StockKind.CORRECTION
        else f" · `/stock correct {result.posting_id}` reverses it"
    )
    blocks = [
        section(f"{who} {verb} in {where} for {result.business_date}"),
        lines_section(verb.capitalize(), lines),
    ]
    if not result.dry_run:  # a preview (a count file's) has no posting to name or correct
        blocks.append(context(reference))
    below = below_zero_block(result)
    if below is not None:
        blocks.append(below)
    if result.absorbed:
        blocks.append(
            context(
                f"{plural(len(result.absorbed), 'change')} dated before a later count "
                + ("was" if len(result.absorbed) == 1 else "were")
                + " absorbed by that count: a count fixes the balance at its day."
            )
        )
    return blocks


BELOW_ZERO_SHOWN = 10
"""Balances named by a posting that took them below zero (a correction of a big count may
take many); the rest are counted."""


def below_zero_block(result: StockResult) -> Block | None:
    """What a posting took below zero, and that it was posted all the same."""
    if not result.below_zero:
        return None
    named, more = first_problems(
        [
            f"*{escape(item.ingredient)}* in {escape(item.storage_unit)} "
            f"{human(item.balance, item.unit)}"
            for item in result.below_zero
        ],
        BELOW_ZERO_SHOWN,
    )
    units = sorted({item.storage_unit for item in result.below_zero})
    counts = " or ".join(f"`/stock count {escape(unit)}`" for unit in units[:3])
    return context(
        f":warning: Now below zero: {'; '.join(named)}{' ' + more if more else ''}. Posted all "
        f"the same (stock may go negative); a count sets it right: {counts}."
    )


VARIANCE_SHOWN = 5


def _variance_line(line: VarianceLine, currency: str) -> str:
    percent = "" if line.percent is None else f" ({line.percent} %)"
    used, sold, difference = human_together(
        [line.actual, line.theoretical, line.variance], line.unit
    )
    return (
        f"{escape(line.ingredient)}: used {used}, sold {sold} → {difference}"
        f"{percent} · {money(line.value, currency)}"
    )


def variance_blocks(report: Variance) -> list[Block]:
    """A period's variance, short: the total and the few largest by money; **Show all**
    opens every line in a modal."""
    title = f"Variance of {report.storage_unit}: {report.opening_date} → {report.closing_date}"
    if not report.lines:
        return [header(clip(title, 150)), section("The closing count counted nothing.")]
    lines = [_variance_line(line, report.currency) for line in report.lines[:VARIANCE_SHOWN]]
    more = None
    if len(report.lines) > VARIANCE_SHOWN:
        value = VarianceValue.made(
            storage_unit=report.storage_unit,
            opening=report.opening_date,
            closing=report.closing_date,
        )
        more = button("Show all", ActionId.VARIANCE_ALL, value.dump())
    listed = lines_section("Largest by money (actual − theoretical usage)", lines)
    if more is not None:
        listed["accessory"] = more
    blocks = [header(clip(title, 150)), *_untransferred(report)]
    blocks += [
        section(f"*Total variance: {money(report.total_value, report.currency)}*"),
        listed,
    ]
    notes = ["Positive: more used than the POS sales explain."]
    if len(report.lines) > VARIANCE_SHOWN:
        notes.append(f"{len(report.lines) - VARIANCE_SHOWN} more: *Show all*.")
    if report.uncosted:
        notes.append(f"No cost, not in the total: {escape(', '.join(report.uncosted[:10]))}.")
    blocks.append(context(*notes))
    return blocks


def _untransferred(report: Variance) -> list[Block]:
    """The days theoretical usage cannot count yet, as a warning (none when all are in)."""
    pending = report.note(f"`/ledger variance {report.storage_unit}`")
    return [] if pending is None else [context(f":warning: {escape(pending)}")]


def variance_modal(report: Variance) -> Block:
    """Every line of a period's variance, largest by money first (its **Show all**), under
    the same warning as the message when some days are not transferred."""
    modal = lines_modal(
        "Variance",
        f"*{escape(report.storage_unit)}, {report.opening_date} → {report.closing_date}*: "
        f"total variance {money(report.total_value, report.currency)}",
        LazyLines(report.lines, lambda line: _variance_line(line, report.currency)),
        per_section=20,  # lines of at most ~140 characters stay under a section's 3000
        more="…and {n} more: `stockpot ledger variance`.",
        reserved=3,  # the heading, the warning, the "more"
    )
    modal["blocks"][1:1] = _untransferred(report)
    return modal


def count_file_blocks(
    name: str, result: StockResult, value: str, skipped: Sequence[str]
) -> list[Block]:
    """A count CSV's preview: what posting it would count and adjust, with Post / Cancel."""
    blocks = [
        section(
            f"*Count file {escape(name)}*: {escape(result.storage_unit)} at the close of "
            f"{result.business_date}, {plural(len(result.lines), 'ingredient')}. "
            "Nothing is posted yet."
        ),
        *posted_blocks(result, None)[1:],
    ]
    if skipped:
        blocks.append(context(f"Left empty, not counted: {escape(', '.join(skipped[:30]))}"))
    blocks.append(
        actions(
            button("Post count", ActionId.STOCK_FILE_POST, value, style="primary"),
            button("Cancel", ActionId.STOCK_FILE_CANCEL, value),
        )
    )
    return blocks


def problems_blocks(name: str, problems: Sequence[str]) -> list[Block]:
    first, more = first_problems(problems)
    shown = [escape(problem) for problem in first]
    return [
        section(
            f":warning: *Count file {escape(name)}* was not posted; fix it and share it again:"
        ),
        lines_section("Problems", [*shown, more] if more else shown),
    ]
