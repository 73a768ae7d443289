"""The unmapped working list and the mapping modal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

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
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import MappingRowValue, MappingsPageValue
from stockpot.core.exact import format_decimal
from stockpot.core.mapping import MappingPage, MappingRow
from stockpot.core.recipes import amount_text
from stockpot.core.unmapped import WINDOW_DAYS, Target, UnmappedRow
from stockpot.core.words import figure

ROWS_SHOWN = 20
"""Two blocks a row; the message keeps room for its header and footer within 50 blocks."""


def sold_days(row: UnmappedRow, quantity: str) -> str:
    """What an unmapped item sold, and on which days, as the list and the daily report say
    it. The quantity is over the list's window (``WINDOW_DAYS``), said on every row: rows
    stand one under another, and one that left it out read as another window than its
    neighbour's. When mapping it would rerun more days than those (``UnmappedRow.offered``:
    days before the window), those are named too, as Reprocess counts them."""
    sold = f"sold {quantity} in the last {WINDOW_DAYS} days ({_days(row.days)})"
    offered = row.offered if row.offered is not None else row.days
    return sold if offered == row.days else f"{sold} · in all: {_days(offered)}"


def _days(days: set[tuple[int, date]]) -> str:
    """A day is a location's day, as Reprocess counts them after the item is mapped: two
    locations selling it on one date are two days to rerun."""
    dates = sorted({day for _, day in days})
    if len(days) <= 3 and len(dates) == len(days):
        return ", ".join(str(d) for d in dates)
    span = str(dates[0]) if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
    return f"{plural(len(days), 'day')}, {span}"


def unmapped_blocks(
    company: str, rows: Sequence[UnmappedRow], *, admin: bool, transferred: bool = True
) -> list[Block]:
    """The working list; with no day transferred yet it says so instead of claiming that
    everything sold is mapped (nothing was checked)."""
    if not rows and not transferred:
        return [
            section(
                f"No day of {escape(company)} is transferred yet, so no sold item was checked. "
                "Activate a location (`/pos locations`) or share a till's CSV export; what "
                "sold unmapped then shows here."
            )
        ]
    if not rows:
        return [section(f"Everything {escape(company)} sold recently is mapped. :tada:")]
    # The total, counted as the doctor and App Home count it: "128 more" under 20 rows was
    # read as about 138 next to the doctor's 148.
    blocks: list[Block] = [
        header(f"Unmapped items of {company}"),
        context(
            f"{plural(len(rows), 'item')} sold unmapped in the last {WINDOW_DAYS} days, "
            "most sold first"
        ),
    ]
    for row in rows[:ROWS_SHOWN]:
        code = f" ({escape(row.code)})" if row.code else ""
        blocks.append(
            section(
                f"*{escape(row.name)}*{code} · {escape(row.connection)}\n"
                f"{sold_days(row, figure(row.quantity))}"
            )
        )
        if admin and row.pos_item_id is not None:
            value = str(row.pos_item_id)
            blocks.append(
                actions(
                    button("Map", ActionId.MAP_OPEN, value, style="primary"),
                    button(
                        "Ignore",
                        ActionId.ITEM_IGNORE,
                        value,
                        confirm=confirm(
                            "Ignore this item?",
                            f"Selling *{escape(row.name)}* will take nothing from stock "
                            "(e.g. a tip or a note); `/pos mappings` can un-ignore it.",
                            "Ignore",
                        ),
                    ),
                )
            )
    if len(rows) > ROWS_SHOWN:
        blocks.append(
            context(
                f"{len(rows) - ROWS_SHOWN} more below these {ROWS_SHOWN}; map these first, "
                "they sold most."
            )
        )
    return blocks


def target_option(target: Target, label: str = "") -> dict:
    per = f"{target.unit} per sale"
    return {
        "text": {"type": "plain_text", "text": clip(f"{label}{target.name} ({per})", 75)},
        "value": target.value,
    }


OPTIONS_LIMIT = 100
"""Slack shows at most 100 options in a select, over all its groups."""


def target_options(found: Sequence[Target], suggested: Sequence[Target] = ()) -> list[dict]:
    """Option groups for the external select: close names first (labelled as suggestions,
    never pre-selected), then ingredients, then recipes; 100 options at most."""
    groups = []
    room = OPTIONS_LIMIT
    if suggested:
        options = [target_option(t) for t in suggested][:room]
        room -= len(options)
        label = "Suggestions: close names, check first"
        groups.append({"label": {"type": "plain_text", "text": label}, "options": options})
    for kind, label in (("ingredient", "Ingredients"), ("recipe", "Recipes")):
        options = [target_option(t) for t in found if t.kind == kind][: min(50, room)]
        room -= len(options)
        if options:
            groups.append({"label": {"type": "plain_text", "text": label}, "options": options})
    return groups


def map_modal(
    metadata: str,
    item_name: str,
    current: tuple[Target, Decimal] | None,
    suggested: Sequence[Target] = (),
) -> dict:
    """The mapping modal. Editing opens with the current target and factor, so Save without a
    change keeps the mapping; a new mapping opens with nothing chosen."""
    select: dict = {
        "type": "external_select",
        "action_id": ActionId.MAP_TARGET,
        "min_query_length": 0,
        "placeholder": {"type": "plain_text", "text": "Search ingredients and recipes"},
    }
    factor = "1"
    if current is not None:
        target, amount = current
        select["initial_option"] = target_option(target)
        factor = format_decimal(amount)
        hint = f"Now: {factor} {target.unit} of {target.name}. Change it only if it is wrong."
    elif suggested:
        names = ", ".join(t.name for t in suggested[:3])
        hint = f"Type part of a name. Close names are listed first ({names}); pick one yourself."
    else:
        hint = "Type part of a name."
    title = "Edit a mapping" if current is not None else "Map a POS item"
    return {
        "type": "modal",
        "callback_id": CallbackId.MAP_ITEM,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"What does selling *{escape(clip(item_name, 200))}* take from stock?"),
            {
                "type": "input",
                "block_id": BlockId.MAP_TARGET,
                "label": {"type": "plain_text", "text": "Ingredient or recipe"},
                "hint": {"type": "plain_text", "text": clip(hint, 150)},
                "element": select,
            },
            {
                "type": "input",
                "block_id": BlockId.MAP_FACTOR,
                "label": {"type": "plain_text", "text": "Quantity per item sold"},
                "hint": {
                    "type": "plain_text",
                    "text": "In the unit shown next to the choice: the ingredient's base unit, "
                    "or portions of the recipe.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": ActionId.MAP_FACTOR,
                    "initial_value": factor,
                },
            },
        ],
    }


def reprocess_button(days: int, value: str) -> Block | None:
    """The offer to rerun every live day that sold the item (its deductions change)."""
    if not days:
        return None
    label = f"Reprocess {plural(days, 'affected day')}"
    return actions(
        button(
            label,
            ActionId.REPROCESS,
            value,
            confirm=confirm(
                f"{label}?",
                "Those days are transferred again with the current mappings; their movements "
                "are replaced in the ledger.",
                "Reprocess",
                danger=False,
            ),
        )
    )


def changed_blocks(text: str, days: int, value: str) -> list[Block]:
    """A mapping change's answer: what it is now, and the days it changes."""
    blocks = [section(text)]
    offer = reprocess_button(days, value)
    if offer is not None:
        blocks.append(offer)
        blocks.append(
            context(
                f"{plural(days, 'transferred day')} sold this item; "
                "the ledger changes only when they are reprocessed."
            )
        )
    return blocks


def mapped_blocks(
    item: str, target: Target, factor: Decimal, days: int, value: str, *, changed: bool = True
) -> list[Block]:
    """The confirmation of a mapping, offering to rerun every day that sold the item; a save
    that changed nothing says so and offers nothing to rerun."""
    what = _per_sale(target, factor)
    if not changed:
        return [section(f"*{escape(item)}* still takes {what}: nothing changed.")]
    return changed_blocks(f"*{escape(item)}* now takes {what}.", days, value)


def kept_blocks(item: str, now: tuple[Target, Decimal] | None, ignored: bool) -> list[Block]:
    """A button pressed on a copy of a list from before the item's mapping changed (Ignore
    on ``/pos unmapped``, Remove or Un-ignore on ``/pos mappings``): the change made since
    stays; what it is, and where to change it."""
    unmapped = now is None and not ignored
    where = "To map it: `/pos unmapped`" if unmapped else f"To change it: `/pos mappings {item}`"
    return [
        section(
            f"*{escape(item)}* was changed meanwhile: it {escape(_state(now, ignored))}; "
            f"nothing changed. {escape(where)}."
        )
    ]


def changed_meanwhile(item: str, now: tuple[Target, Decimal] | None, ignored: bool) -> str:
    """A mapping modal's Save refused: the mapping changed after the modal opened (plain
    text, under the modal's target field)."""
    state = _state(now, ignored)
    return f"{item} was changed meanwhile: it {state}; Cancel and open it again to change it"[:150]


def _state(now: tuple[Target, Decimal] | None, ignored: bool) -> str:
    """What an item's mapping is now, in words (plain text)."""
    if now is not None:
        target, factor = now
        return f"now takes {amount_text(factor, target.unit)} of {target.name} per sale"
    return "is now ignored" if ignored else "is now unmapped"


def _per_sale(target: Target, factor: Decimal) -> str:
    return f"{amount_text(factor, target.unit)} of *{escape(target.name)}* per sale"


PAGE_SIZE = 20
"""Two blocks a row (the item, its buttons): 40, plus header, search line and page buttons,
within Slack's 50 blocks a message."""


def _row_text(row: MappingRow) -> str:
    code = f" ({escape(row.pos_code)})" if row.pos_code else ""
    what = (
        "_ignored_: sold, never taken from stock"
        if row.target_kind == "ignored"
        else f"{amount_text(Decimal(str(row.factor)), row.unit)} of *{escape(row.target or '')}*"
    )
    return f"*{escape(row.pos_name)}*{code} · {escape(row.connection_shown)}\n→ {what}"


def _row_buttons(row: MappingRow, shown: MappingsPageValue) -> Block:
    """Edit (or Map), and Remove (or Un-ignore), which also carry the search and page they are
    shown on and the mapping they were drawn for (``<item>:<MappingRowValue>``): the page is
    redrawn in place after them (after Edit or Map, once the modal is saved), and a mapping
    changed since is not removed."""
    drawn = MappingRowValue(text=shown.text, page=shown.page, seen=row.state)
    undo = f"{row.pos_item_id}:{drawn.dump()}"
    name = escape(row.pos_name)
    if row.target_kind == "ignored":
        return actions(
            button("Map", ActionId.MAP_OPEN, undo),
            button(
                "Un-ignore",
                ActionId.ITEM_UNIGNORE,
                undo,
                confirm=confirm(
                    "Un-ignore this item?",
                    f"*{name}* goes back to the unmapped list; its days can then be reprocessed.",
                    "Un-ignore",
                    danger=False,
                ),
            ),
        )
    return actions(
        button("Edit", ActionId.MAP_OPEN, undo),
        button(
            "Remove",
            ActionId.MAPPING_REMOVE,
            undo,
            confirm=confirm(
                "Remove this mapping?",
                f"Selling *{name}* will take nothing from stock until it is mapped again; "
                "it goes back to the unmapped list.",
                "Remove",
            ),
        ),
    )


def mappings_blocks(
    company: str, page: MappingPage, share: Decimal | None, text: str, *, admin: bool
) -> list[Block]:
    """One page of the mappings (search with `/pos mappings <text>`), with the share of last
    week's sales they cover; admins can edit, remove and un-ignore each."""
    covered = (
        f"{(share * 100).quantize(Decimal(1))} % of the quantity sold in the last 7 transferred "
        "days is mapped"
        if share is not None
        else "no transferred days yet"
    )
    searched = f" matching “{escape(text)}”" if text else ""
    blocks: list[Block] = [header(f"Mappings of {company}"), context(covered)]
    if not page.total:
        if text:
            return [*blocks, section(f"No mapped or ignored item{searched}.")]
        return [*blocks, section("Nothing is mapped yet: start with `/pos unmapped`.")]
    first = (page.page - 1) * PAGE_SIZE + 1
    last = first + len(page.rows) - 1
    blocks.append(
        context(
            f"{plural(page.total, 'item')}{searched}"
            + (f"; showing {first}–{last}" if page.total > len(page.rows) else "")
            + ". Search with `/pos mappings &lt;text&gt;`."
        )
    )
    shown = MappingsPageValue(text=text[:200], page=page.page)
    for row in page.rows:
        blocks.append(section(_row_text(row)))
        if admin:
            blocks.append(_row_buttons(row, shown))
    turns = []
    if page.page > 1:
        value = MappingsPageValue(text=text, page=page.page - 1).dump()
        turns.append(button("Previous", ActionId.MAPPINGS_PAGE, value))
    if page.page < page.pages:
        value = MappingsPageValue(text=text, page=page.page + 1).dump()
        turns.append(button(f"Next ({page.page + 1}/{page.pages})", ActionId.MAPPINGS_PAGE, value))
    if turns:
        blocks.append(actions(*turns))
    return blocks
