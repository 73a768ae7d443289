"""Messages that say why a number is what it is: a recipe (``/pos recipe``) and the sales
behind an ingredient's deduction (``/ledger why``, the Why? picker of ``/ledger``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from stockpot.bot.amounts import human
from stockpot.bot.blocks.common import (
    Block,
    clip,
    context,
    escape,
    header,
    lines_section,
    plural,
    section,
)
from stockpot.bot.ids import ActionId
from stockpot.core.recipes import RecipeLineView, RecipeView, amount_text, trim_text
from stockpot.core.why import Why
from stockpot.core.words import figure

ITEMS_SHOWN = 8
"""Top contributors in the message; every line is in the attached file."""
LINES_IN_MESSAGE = 20
"""Up to this many sales lines, the message says it all and no file is attached."""
OPTION_VALUE = 150
"""Slack's limit on a select option's value."""


def _recipe_lines(lines: Sequence[RecipeLineView], depth: int = 0) -> list[str]:
    out = []
    for line in lines:
        pad = "\u2003" * depth
        trim = f", {trim_text(line.trim)}" if line.trim else ""
        name = f"*{escape(line.name)}*"
        if line.kind == "recipe":
            makes = line.makes or Decimal(1)
            name += (
                " _(recipe)_"
                if makes == 1
                else f" _(recipe; its lines make {amount_text(makes, 'portions')})_"
            )
        out.append(
            f"{pad}• {amount_text(line.quantity, line.unit)} {name}{trim} · "
            f"from {escape(line.issue_storage)}"
        )
        out.extend(_recipe_lines(line.lines, depth + 1))
    return out


def recipe_blocks(view: RecipeView) -> list[Block]:
    portions = amount_text(view.portions, "portions")
    state = "" if view.active else " · inactive: mappings to it are refused"
    where = (
        f"issued from {escape(view.default_issue_storage)} unless a line says otherwise"
        if view.default_issue_storage
        else "issued from each line's storage, else the selling location's storage unit"
    )
    blocks: list[Block] = [
        header(f"Recipe: {view.name}"),
        context(f"makes {portions} · {where}{state}"),
        lines_section("Lines (quantities for the whole recipe)", _recipe_lines(view.lines)),
    ]
    facts = []
    if view.sold_as:
        facts.append("*Sold as:* " + escape("; ".join(view.sold_as)))
    if view.used_in:
        facts.append("*Used in:* " + escape(", ".join(view.used_in)))
    if facts:
        blocks.append(section(clip("\n".join(facts), 3000)))
    return blocks


def why_blocks(why: Why) -> list[Block]:
    where = f" in {why.storage_unit}" if why.storage_unit else ""
    period = str(why.first) if why.first == why.last else f"{why.first} to {why.last}"
    title = f"Why {why.ingredient}{where}: {period}"
    if not why.items:
        found = (
            f"No sales took {escape(why.ingredient)}{escape(where)} on {period}."
            if not why.from_sales
            else f"Sales took {human(why.from_sales, why.unit)}, but the lines behind it "
            "could not be read back."
        )
        blocks = [header(title), section(found)]
    else:
        lines = len(why.lines)
        summary = (
            f"*{human(why.from_sales, why.unit)}* of {escape(why.ingredient)} from sales: "
            f"{plural(len(why.items), 'item')}, {plural(lines, 'sales line')}, "
            f"{plural(why.days, 'transferred day')}."
        )
        several = len({item.location for item in why.items}) > 1
        rows = [
            f"*{escape(item.name)}*"
            + (f" ({escape(item.pos_code)})" if item.pos_code else "")
            + (f" · {escape(item.location)}" if several else "")
            + f": {figure(item.sold)} sold → {human(item.contribution, why.unit)}"
            + (f"\n\u2003_{escape(item.path)}_" if item.path else "")
            for item in why.items[:ITEMS_SHOWN]
        ]
        blocks = [header(title), section(summary), lines_section("Largest contributors", rows)]
        rest = len(why.items) - ITEMS_SHOWN
        notes = []
        if rest > 0:
            notes.append(f"{plural(rest, 'more item')}.")
        if lines > LINES_IN_MESSAGE or rest > 0:
            notes.append("Every sales line, with exact values, is in the attached file.")
        if notes:
            blocks.append(context(" ".join(notes)))
    if why.other:
        other = ", ".join(
            f"{kind.lower().replace('_', ' ')} {human(q, why.unit)}"
            for kind, q in sorted(why.other.items())
        )
        blocks.append(context(f"Not from sales, same period: {other}."))
    return blocks


def why_needs_file(why: Why) -> bool:
    return len(why.lines) > LINES_IN_MESSAGE or len(why.items) > ITEMS_SHOWN


def why_value(ingredient: str, storage: str, first: str, last: str) -> str | None:
    """A Why? option's value, or ``None`` when the names do not fit Slack's 150 characters."""
    value = json.dumps([ingredient, storage, first, last], ensure_ascii=False)
    return value if len(value) <= OPTION_VALUE else None


def why_picker(choices: Sequence[tuple[str, str]], first: str, last: str) -> Block | None:
    """The Why? select under ``/ledger``'s lines: one option per (storage unit, ingredient)."""
    options = []
    for storage, ingredient in choices:
        value = why_value(ingredient, storage, first, last)
        if value is None:
            continue
        options.append(
            {
                "text": {"type": "plain_text", "text": clip(f"{storage} · {ingredient}", 75)},
                "value": value,
            }
        )
    if not options:
        return None
    return {
        "type": "actions",
        "elements": [
            {
                "type": "static_select",
                "action_id": ActionId.LEDGER_WHY,
                "placeholder": {"type": "plain_text", "text": "Why? Pick a line"},
                "options": options[:100],
            }
        ],
    }
