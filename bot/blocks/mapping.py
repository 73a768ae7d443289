"""The unmapped working list and the mapping modal."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    header,
    section,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.core.exact import format_decimal
from stockpot.core.mapping import MappingRow
from stockpot.core.unmapped import Target, UnmappedRow

ROWS_SHOWN = 20
"""Two blocks a row; the message keeps room for its header and footer within 50 blocks."""


def _days(row: UnmappedRow) -> str:
    dates = sorted({day for _, day in row.days})
    if len(dates) <= 3:
        return ", ".join(str(d) for d in dates)
    return f"{len(dates)} days, {dates[0]} to {dates[-1]}"


def unmapped_blocks(company: str, rows: Sequence[UnmappedRow], *, admin: bool) -> list[Block]:
    if not rows:
        return [section(f"Everything {escape(company)} sold recently is mapped. :tada:")]
    blocks: list[Block] = [header(f"Unmapped items of {company}")]
    for row in rows[:ROWS_SHOWN]:
        code = f" ({escape(row.code)})" if row.code else ""
        blocks.append(
            section(
                f"*{escape(row.name)}*{code} · {escape(row.connection)}\n"
                f"sold {format_decimal(row.quantity)} · {_days(row)}"
            )
        )
        if admin and row.pos_item_id is not None:
            value = str(row.pos_item_id)
            blocks.append(
                actions(
                    button("Map", ActionId.MAP_OPEN, value, style="primary"),
                    button("Ignore", ActionId.ITEM_IGNORE, value),
                )
            )
    if len(rows) > ROWS_SHOWN:
        blocks.append(context(f"{len(rows) - ROWS_SHOWN} more; map these first, they sold most."))
    return blocks


def target_option(target: Target) -> dict:
    per = f"{target.unit} per sale"
    return {
        "text": {"type": "plain_text", "text": clip(f"{target.name} ({per})", 75)},
        "value": target.value,
    }


def target_options(found: Sequence[Target]) -> list[dict]:
    """Option groups for the external select: ingredients, then recipes, 100 at most."""
    groups = []
    for kind, label in (("ingredient", "Ingredients"), ("recipe", "Recipes")):
        options = [target_option(t) for t in found if t.kind == kind][:50]
        if options:
            groups.append({"label": {"type": "plain_text", "text": label}, "options": options})
    return groups


def map_modal(metadata: str, item_name: str, suggestion: Target | None) -> dict:
    select: dict = {
        "type": "external_select",
        "action_id": ActionId.MAP_TARGET,
        "min_query_length": 0,
        "placeholder": {"type": "plain_text", "text": "Search ingredients and recipes"},
    }
    if suggestion is not None:
        select["initial_option"] = target_option(suggestion)
    hint = (
        f"Suggested by name: {suggestion.name}. Check it before saving."
        if suggestion is not None
        else "Type part of a name."
    )
    return {
        "type": "modal",
        "callback_id": CallbackId.MAP_ITEM,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Map a POS item"},
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
                    "initial_value": "1",
                },
            },
        ],
    }


def mapped_blocks(item: str, target: Target, factor: str, days: int, value: str) -> list[Block]:
    """The confirmation of a mapping, offering to rerun exactly the days it was missing from."""
    text = f"*{escape(item)}* now takes {factor} {target.unit} of *{escape(target.name)}* per sale."
    blocks = [section(text)]
    if days:
        label = f"Reprocess {days} affected day{'s' if days != 1 else ''}"
        blocks.append(actions(button(label, ActionId.REPROCESS, value)))
    return blocks


MAPPINGS_SHOWN = 40


def mappings_blocks(
    company: str, rows: Sequence[MappingRow], share: Decimal | None, *, admin: bool
) -> list[Block]:
    """The mappings, with the share of last week's sales they cover; admins can edit each."""
    mapped = [row for row in rows if row.target_kind is not None]
    covered = (
        f"{(share * 100).quantize(Decimal(1))} % of the quantity sold in the last 7 transferred "
        "days is mapped"
        if share is not None
        else "no transferred days yet"
    )
    blocks: list[Block] = [header(f"Mappings of {company}"), context(covered)]
    if not mapped:
        return [*blocks, section("Nothing is mapped yet: start with `/pos unmapped`.")]
    for row in mapped[:MAPPINGS_SHOWN]:
        code = f" ({escape(row.pos_code)})" if row.pos_code else ""
        what = (
            "ignored"
            if row.target_kind == "ignored"
            else f"{row.factor} {row.unit} of {escape(row.target or '')}"
        )
        text = f"*{escape(row.pos_name)}*{code} → {what}"
        edit = button("Edit", ActionId.MAP_OPEN, str(row.pos_item_id)) if admin else None
        blocks.append(section(text, edit))
    if len(mapped) > MAPPINGS_SHOWN:
        blocks.append(
            context(f"{len(mapped) - MAPPINGS_SHOWN} more; `stockpot mappings list` shows all.")
        )
    return blocks
