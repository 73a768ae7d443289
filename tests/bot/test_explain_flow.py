"""Seeing why a number is what it is, from Slack over HTTP against the SIDES sandbox: a
recipe (`/pos recipe`), and the sales behind a deduction (`/ledger why`, the Why? picker)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from stockpot.bot.blocks.explain import ITEMS_SHOWN, why_blocks, why_needs_file
from stockpot.bot.ids import ActionId
from stockpot.core.db import unit_of_work
from stockpot.core.mapping import RecipeChoice, set_mapping
from stockpot.core.models import Ingredient, LedgerMovement, PosItem, Recipe, TransferDay
from stockpot.core.transfer.trace import TracedLine
from stockpot.core.why import Why, WhyItem, WhyLine
from tests.bot.conftest import ADMIN, VIEWER
from tests.bot.test_slack_app import posted, reply, texts


@pytest.fixture
def salami_as_margherita(day_posted):
    bot = day_posted
    with unit_of_work(bot.database.factory) as session:
        salami = session.scalar(select(PosItem).where(PosItem.key == "5017"))
        margherita = session.scalar(select(Recipe).where(Recipe.name == "Margherita"))
        set_mapping(session, salami, RecipeChoice(margherita.id, Decimal(1)))
    bot.drain()
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow --now", user=ADMIN)
    posted(bot, "replaces what was posted for this day before")
    return bot


def test_a_recipe_shows_lines_trim_sub_recipes_and_storage(day_posted):
    bot = day_posted
    bot.send.command("/pos", "recipe margherita", user=VIEWER)
    shown = texts(reply(bot, "Recipe: Margherita"))
    assert "issued from Kitchen unless a line says otherwise" in shown
    # a sub-recipe's lines are for all its portions, and the message says how many
    assert "1 portion *Pizza dough* _(recipe; its lines make 10 portions)_ · from Kitchen" in shown
    assert "1.8 kg *Flour* · from Kitchen" in shown  # the sub-recipe's own lines
    assert "125 g *Mozzarella*, trim 4 % · from Kitchen" in shown
    assert "*Used in:*" not in shown
    bot.send.command("/pos", "recipe Tiramisu", user=VIEWER)
    tiramisu = texts(reply(bot, "Recipe: Tiramisu"))
    assert "100 g *Eggs* · from Pastry" in tiramisu  # the sub-recipe's default storage
    bot.send.command("/pos", "recipe pizza dogh", user=VIEWER)
    reply(bot, "no recipe 'pizza dogh'; did you mean Pizza dough?")
    bot.send.command("/pos", "recipe", user=VIEWER)
    reply(bot, "which recipe?")


def test_why_names_the_items_and_the_recipe_path(salami_as_margherita):
    bot = salami_as_margherita
    bot.send.command("/ledger", "why flour 2025-03-14 kitchen", user=VIEWER)
    answer = reply(bot, "Why Flour in Kitchen: 2025-03-14")
    text = texts(answer)
    # 3 Salami (1 alone, 1 in the Family Box, 1 after midnight) × 1.8 kg / 10 portions
    assert "*-0.54 kg* of Flour from sales: 1 item, 3 sales lines" in text
    assert "*Pizza Salami* (5017): 3 sold → -0.54 kg" in text
    assert (
        "1 portion of Margherita per sale → 1 portion of Pizza dough → "
        "1.8 kg Flour per 10 portions" in text
    )
    assert len(answer.args["blocks"]) <= 6 and "attached file" not in text
    bot.send.command("/ledger", "why Mozzarella 2025-03-14", user=VIEWER)
    mozzarella = texts(reply(bot, "Why Mozzarella: 2025-03-14"))
    # in the unit the recipe writes, as `/pos recipe` shows it ("125 g *Mozzarella*, trim 4 %"),
    # where it said "0.125 kg Mozzarella, trim 4 % (takes 0.13 kg)"
    assert "125 g Mozzarella, trim 4 % (takes 130 g)" in mozzarella
    bot.send.command("/ledger", "why flor 2025-03-14", user=VIEWER)
    reply(bot, "no ingredient 'flor'; did you mean Flour?")
    bot.send.command("/ledger", "why flour 2025-03-14 Kuche", user=VIEWER)
    reply(bot, "no storage unit 'Kuche'")
    bot.send.command("/ledger", "why flour", user=VIEWER)
    reply(bot, "which ingredient, which days?")
    bot.send.command("/ledger", "why Basil 2025-03-10", user=VIEWER)
    reply(bot, "No sales took Basil on 2025-03-10.")


def test_the_ledger_offers_why_on_its_lines(salami_as_margherita):
    bot = salami_as_margherita
    bot.send.command("/ledger", "2025-03-14", user=VIEWER)
    listing = reply(bot, "Movements of Trattoria Esempio")
    picker = listing.args["blocks"][-1]["elements"][0]
    assert picker["action_id"] == ActionId.LEDGER_WHY
    option = next(o for o in picker["options"] if o["text"]["text"] == "Kitchen · Flour")
    assert json.loads(option["value"]) == ["Flour", "Kitchen", "2025-03-14", "2025-03-14"]
    bot.send.action(
        {
            "type": "static_select",
            "action_id": ActionId.LEDGER_WHY,
            "block_id": "b",
            "selected_option": option,
        },
        user=VIEWER,
    )
    answer = reply(bot, "Why Flour in Kitchen: 2025-03-14")
    assert answer.args["replace_original"] is False and "-0.54 kg" in texts(answer)


def test_a_long_why_shows_the_top_items_and_points_to_the_file():
    line = TracedLine("S", "1", "1", "x", Decimal(1), Decimal("-0.0012345"))
    why = Why("Flour", "kg", None, date(2026, 11, 1), date(2026, 11, 30), Decimal("-5.12345"))
    why.items = [
        WhyItem(f"Item {i}", str(i), f"Loc {i % 2}", Decimal(i), 1, Decimal(-i), "path")
        for i in range(30)
    ]
    why.lines = [WhyLine(date(2026, 11, 1), "Main", line)] * 40
    text = json.dumps(why_blocks(why), ensure_ascii=False)
    assert why_needs_file(why) and "attached file" in text and "22 more items" in text
    assert (
        text.count("sold →") == ITEMS_SHOWN
        and "*Item 7* (7) · Loc 1" in text
        and "-5.12 kg" in text
    )


def test_a_period_with_many_lines_attaches_every_line_as_a_file(salami_as_margherita):
    bot = salami_as_margherita
    with unit_of_work(bot.database.factory) as session:
        for item in session.scalars(select(PosItem).where(PosItem.key.like("50%"))):
            margherita = session.scalar(select(Recipe).where(Recipe.name == "Margherita"))
            set_mapping(session, item, RecipeChoice(margherita.id, Decimal(1)))
    for day in ("2025-03-13", "2025-03-14", "2025-03-15"):
        bot.drain()
        bot.send.command("/transfer", f"{day} Pizzeria Beispiel Teltow --now", user=ADMIN)
        bot.slack.wait_for("chat.postMessage", where=lambda c, d=day: d in texts(c))
    bot.drain()
    bot.send.command("/ledger", "why Flour 2025-03-13..2025-03-15", user=VIEWER)
    answer = reply(bot, "Why Flour: 2025-03-13 to 2025-03-15")
    assert "attached file" in texts(answer)
    upload = bot.slack.wait_for("files.completeUploadExternal")[0]
    assert "Sales lines behind Flour" in texts(upload)
    (content,) = bot.slack.uploads.values()
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0][:3] == ["business_date", "location", "sale_id"] and len(rows) > 21
    exact = sum(Decimal(row[7]) for row in rows[1:])
    with bot.database.session() as session:
        taken = session.scalar(
            select(func.sum(LedgerMovement.quantity))
            .join(TransferDay, TransferDay.live_run_id == LedgerMovement.run_id)
            .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
            .where(Ingredient.name == "Flour", LedgerMovement.reverses_id.is_(None))
        )
    assert exact == taken  # every line, exact, adds up to what the ledger holds
