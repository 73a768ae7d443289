"""The unmapped working list, the mapping modal with its search, and reprocessing the days a
new mapping changes: over HTTP, against the SIDES sandbox."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from stockpot.bot.ids import ActionId, BlockId
from stockpot.core import ledger
from stockpot.core.db import unit_of_work
from stockpot.core.exact import write_a_number
from stockpot.core.locations import link_storage_unit
from stockpot.core.lookup import company_by_name
from stockpot.core.mapping import IgnoreChoice, IngredientChoice, set_mapping
from stockpot.core.models import (
    Connection,
    ExternalLocation,
    Ingredient,
    PosItem,
    PosMapping,
    Provider,
)
from stockpot.core.quantities import QUANTITY_RANGE
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from stockpot.core.unmapped import days_with_item, days_with_items, unmapped
from tests.bot.conftest import ADMIN, OTHER_ADMIN, OTHER_TEAM, VIEWER
from tests.bot.test_slack_app import posted, reply, texts


def item_id(bot, key: str) -> int:
    with bot.database.session() as session:
        return session.scalar(select(PosItem.id).where(PosItem.key == key))


def ingredient_id(bot, name: str) -> int:
    with bot.database.session() as session:
        return session.scalar(select(Ingredient.id).where(Ingredient.name == name))


def test_the_working_list_is_most_sold_first_with_map_and_ignore(day_posted):
    bot = day_posted
    bot.send.command("/pos", "unmapped", user=ADMIN)
    listing = reply(bot, "Unmapped items of Trattoria Esempio")
    text = texts(listing)
    assert "Pizza Salami" in text and "2025-03-14" in text and ActionId.MAP_OPEN in text
    assert text.index("Pizza Salami") < text.index("Pizza Tonno")
    with bot.database.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        open_items = len(unmapped(session, company.id))
    # the total as the doctor and App Home count it, not only "N more" under the first rows
    assert f"{open_items} items sold unmapped in the last 90 days, most sold first" in text
    bot.send.command("/pos", "unmapped", user=VIEWER)
    viewer_listing = bot.slack.wait_for(
        "response_url", 2, where=lambda c: "Unmapped items" in texts(c)
    )[1]
    assert ActionId.MAP_OPEN not in texts(viewer_listing)


def test_the_working_list_never_claims_everything_is_mapped_before_any_day_is_checked(bot):
    bot.send.command("/pos", "unmapped", user=VIEWER)
    answer = texts(reply(bot, "Unmapped items of Trattoria Esempio"))
    assert "No day of Trattoria Esempio is transferred yet, so no sold item was checked" in answer
    assert "is mapped" not in answer


def test_search_offers_ingredients_and_recipes_with_their_unit(day_posted):
    answer = day_posted.send.options(
        ActionId.MAP_TARGET, "mozz", block_id=BlockId.MAP_TARGET, user=ADMIN
    )
    groups = answer.json()["option_groups"]
    assert groups[0]["label"]["text"] == "Ingredients"
    assert groups[0]["options"][0]["text"]["text"] == "Mozzarella (kg per sale)"
    answer = day_posted.send.options(
        ActionId.MAP_TARGET, "", block_id=BlockId.MAP_TARGET, user=ADMIN
    )
    labels = [group["label"]["text"] for group in answer.json()["option_groups"]]
    assert labels == ["Ingredients", "Recipes"]


def test_map_validate_save_and_reprocess_the_affected_day(day_posted):
    bot = day_posted
    salami = item_id(bot, "5017")
    bot.send.block_action(ActionId.MAP_OPEN, str(salami), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    assert "Pizza Salami" in json.dumps(modal) and modal["callback_id"] == "map_item"

    def submit(value: str, factor: str):
        values = {
            BlockId.MAP_TARGET: {ActionId.MAP_TARGET: {"selected_option": {"value": value}}},
            BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: {"value": factor}},
        }
        return bot.send.view_submission(modal, values, user=ADMIN)

    mozzarella = f"ingredient:{ingredient_id(bot, 'Mozzarella')}"
    assert submit(mozzarella, "zero").json()["errors"] == {
        BlockId.MAP_FACTOR: f"'zero' is not a number; {write_a_number()}"
    }
    assert submit(mozzarella, "0,2 kg").json()["errors"] == {
        BlockId.MAP_FACTOR: "write the number alone, 0.2, without 'kg'"
    }
    assert submit(mozzarella, "200 g").json()["errors"] == {  # was: "200, without 'g'"
        BlockId.MAP_FACTOR: "write the number alone, in kg: 0.2 (200 g)"
    }
    assert (
        submit(mozzarella, "-1").json()["errors"][BlockId.MAP_FACTOR]
        == "the quantity must be greater than 0"
    )
    for hostile in ("1e19", "12345678901234567890"):
        assert submit(mozzarella, hostile).json()["errors"][BlockId.MAP_FACTOR] == (
            f"'{hostile}' is too large; {QUANTITY_RANGE}"  # as typed, beside the grouped range
        )
    for hostile in ("NaN", "-inf"):  # said as a CSV cell's is, not "not a finite number"
        assert submit(mozzarella, hostile).json()["errors"][BlockId.MAP_FACTOR] == (
            f"'{hostile}' is not a number; {write_a_number()}"
        )
    assert (
        submit("ingredient:999999", "1").json()["errors"][BlockId.MAP_TARGET].startswith("choose")
    )
    assert submit(mozzarella, "0,2").text == ""
    confirmation = bot.slack.wait_for(
        "chat.postEphemeral", where=lambda c: "now takes" in texts(c)
    )[0]
    assert "0.2 kg of *Mozzarella*" in texts(confirmation)
    assert "Reprocess 1 affected day" in texts(confirmation)
    bot.send.block_action(ActionId.REPROCESS, str(salami), user=ADMIN)
    # One message for the whole reprocessing, updated to its summary; each day in its thread.
    summary = bot.slack.wait_for(
        "chat.update", where=lambda c: "Reprocessed *Pizza Salami*: 1 day (" in texts(c)
    )[0]
    assert "1 changed, 0 unchanged, 0 failed" in texts(summary)
    details = bot.slack.wait_for("chat.postMessage", where=lambda c: "Days reprocessed" in texts(c))
    assert details[0].args["thread_ts"] == summary.args["ts"]
    with bot.database.session() as session:
        balances = {
            (row.storage_unit, row.ingredient): row.quantity
            for row in ledger.balances(session, company_by_name(session, "Trattoria Esempio"))
        }
    # 1 Salami sold alone + 1 in the Family Box + 1 after midnight = 3 × 0.2 kg
    assert str(balances[("Kitchen", "Mozzarella")]) == "-0.600000000"


def test_the_list_and_the_reprocess_offer_count_the_same_days(day_posted):
    """An unmapped item's days in the list are the days its mapping offers to reprocess: a
    day whose only such line was cancelled sold none (in neither count), two locations
    selling it on one date are two days in both, and a day before the list's 90 days is
    in both (Reprocess reruns it). Its quantity is over the 90 days alone, and the row says
    so: "sold 4" is the two days of 2025-03-14 (3 in Teltow, 1 in the other location), not
    the three days that include November's."""
    bot = day_posted
    with unit_of_work(bot.database.factory) as session:
        teltow, other = (
            session.scalar(select(ExternalLocation.id).where(ExternalLocation.external_id == x))
            for x in ("36", "41")
        )
        link_storage_unit(session, session.get_one(ExternalLocation, other), "Kitchen")
    raw = RawInput("test", "[]")
    salami = SaleLine("A", "1", "5017", "Pizza Salami", Decimal(1))
    cola = SaleLine("A", "2", "8005", "Cola 1,0l", Decimal(1))
    run_transfer(bot.database.factory, other, date(2025, 3, 14), [salami], raw)
    run_transfer(bot.database.factory, teltow, date(2024, 11, 29), [salami], raw)
    cancelled = SaleLine("B", "1", "5017", "Pizza Salami", Decimal(1), cancelled=True)
    run_transfer(bot.database.factory, teltow, date(2025, 3, 15), [cancelled, cola], raw)
    bot.send.command("/pos", "unmapped", user=ADMIN)
    listing = reply(bot, "Unmapped items of Trattoria Esempio")
    (row,) = (
        block["text"]["text"]
        for block in listing.args["blocks"]
        if block["type"] == "section" and "*Pizza Salami*" in block["text"]["text"]
    )
    # Two locations on 03-14 and the day in November; not the cancelled day.
    assert row.endswith(
        "\nsold 4 in the last 90 days (2 days, 2025-03-14) · "
        "in all: 3 days, 2024-11-29 to 2025-03-14"
    ), row
    # The list asks for all its rows at once (each snapshot parsed once): the same days.
    with bot.database.session() as session:
        items = [session.get_one(PosItem, item_id(bot, code)) for code in ("5017", "8005")]
        together = days_with_items(session, items)
        assert together == {item.id: days_with_item(session, item) for item in items}
    assert len(together[items[0].id]) == 3 and together[items[1].id]
    bot.send.block_action(ActionId.MAP_OPEN, str(item_id(bot, "5017")), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    submit_modal(bot, modal, f"ingredient:{ingredient_id(bot, 'Mozzarella')}", "0.1")
    offer = texts(
        bot.slack.wait_for("chat.postEphemeral", where=lambda c: "now takes" in texts(c))[0]
    )
    assert "Reprocess 3 affected days" in offer
    assert "3 transferred days sold this item" in offer


def test_ignore_and_refusals(day_posted):
    bot = day_posted
    tonno = item_id(bot, "name:pizza tonno")
    bot.send.block_action(ActionId.MAP_OPEN, str(tonno), user=OTHER_ADMIN, team=OTHER_TEAM)
    reply(bot, "does not belong to Osteria Altra")
    bot.send.block_action(ActionId.ITEM_IGNORE, str(tonno), user=VIEWER)
    reply(bot, "you need to be an admin")
    bot.send.block_action(ActionId.ITEM_IGNORE, str(tonno), user=ADMIN)
    reply(bot, "Pizza Tonno is ignored")
    with bot.database.session() as session:
        mapping = session.scalar(select(PosMapping).where(PosMapping.pos_item_id == tonno))
    assert mapping.ignored


def test_mappings_list_with_coverage_and_edit(day_posted):
    bot = day_posted
    bot.send.command("/pos", "mappings", user=ADMIN)
    listing = reply(bot, "Mappings of Trattoria Esempio")
    assert "0 % of the quantity sold in the last 7 transferred days is mapped" in texts(listing)
    assert "Nothing is mapped yet" in texts(listing)
    house_red = ingredient_id(bot, "House red")
    with unit_of_work(bot.database.factory) as session:
        cola = session.scalar(select(PosItem).where(PosItem.key == "8001"))
        set_mapping(session, cola, IngredientChoice(house_red, 1))
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow --now", user=ADMIN)
    posted(bot, "replaces what was posted for this day before")
    bot.send.command("/pos", "mappings", user=ADMIN)
    listing = bot.slack.wait_for(
        "response_url", where=lambda c: "Cola" in texts(c) and "Mappings of" in texts(c)
    )[0]
    assert "1 pc of *House red*" in texts(listing) and ActionId.MAP_OPEN in texts(listing)
    # Each item's connection as users know it, never its CLI key (``sides:SIDES``).
    assert "· SIDES\\n" in texts(listing) and "sides:" not in texts(listing)
    assert "% of the quantity sold" in texts(listing) and "0 %" not in texts(listing)


def map_to(bot, key: str, ingredient: str, factor: str) -> int:
    with unit_of_work(bot.database.factory) as session:
        item = session.scalar(select(PosItem).where(PosItem.key == key))
        set_mapping(
            session, item, IngredientChoice(ingredient_id(bot, ingredient), Decimal(factor))
        )
        return item.id


def submit_modal(bot, modal, value: str | None, factor: str):
    values = {
        BlockId.MAP_TARGET: {
            ActionId.MAP_TARGET: {"selected_option": {"value": value} if value else None}
        },
        BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: {"value": factor}},
    }
    return bot.send.view_submission(modal, values, user=ADMIN)


def test_edit_opens_with_the_current_mapping_and_save_keeps_it(day_posted):
    bot = day_posted
    salami = map_to(bot, "5017", "Mozzarella", "0.1")
    bot.drain()
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow --now", user=ADMIN)
    posted(bot, "replaces what was posted for this day before")
    bot.send.block_action(ActionId.MAP_OPEN, str(salami), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    target = modal["blocks"][1]["element"]["initial_option"]
    assert target["value"] == f"ingredient:{ingredient_id(bot, 'Mozzarella')}"
    assert target["text"]["text"] == "Mozzarella (kg per sale)"
    assert modal["blocks"][2]["element"]["initial_value"] == "0.1"
    assert modal["title"]["text"] == "Edit a mapping" and "Now: 0.1 kg of Mozzarella" in texts(
        bot.slack.wait_for("views.open", 2)[-1]
    )
    assert submit_modal(bot, modal, target["value"], "0.1").text == ""
    same = bot.slack.wait_for("chat.postEphemeral", where=lambda c: "still takes" in texts(c))[0]
    assert "nothing changed" in texts(same) and "Reprocess" not in texts(same)
    assert submit_modal(bot, modal, target["value"], "0.15").text == ""
    confirmation = bot.slack.wait_for(
        "chat.postEphemeral", where=lambda c: "now takes" in texts(c)
    )[0]
    # the day sold Salami mapped, not unmapped: it is still affected by an edit
    assert "Reprocess 1 affected day" in texts(confirmation)
    with bot.database.session() as session:
        mapping = session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami))
    assert mapping.factor == Decimal("0.15") and mapping.ingredient_id == ingredient_id(
        bot, "Mozzarella"
    )


def test_map_selects_nothing_and_offers_close_names_first_as_suggestions(day_posted):
    bot = day_posted
    salami = item_id(bot, "5017")
    bot.send.block_action(ActionId.MAP_OPEN, str(salami), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    assert "initial_option" not in modal["blocks"][1]["element"]
    assert modal["blocks"][2]["element"]["initial_value"] == "1"
    answer = bot.send.options(
        ActionId.MAP_TARGET, "", block_id=BlockId.MAP_TARGET, user=ADMIN, view=modal
    )
    groups = answer.json()["option_groups"]
    assert groups[0]["label"]["text"].startswith("Suggestions")
    assert "Pizza dough" in json.dumps(groups[0]["options"])
    assert [g["label"]["text"] for g in groups[1:]] == ["Ingredients", "Recipes"]
    assert sum(len(g["options"]) for g in groups) <= 100
    # typing searches as before, without suggestions
    typed = bot.send.options(
        ActionId.MAP_TARGET, "mozz", block_id=BlockId.MAP_TARGET, user=ADMIN, view=modal
    )
    assert typed.json()["option_groups"][0]["label"]["text"] == "Ingredients"
    # saving without a choice is refused: nothing was chosen for the user
    refused = submit_modal(bot, modal, None, "1").json()["errors"]
    assert refused[BlockId.MAP_TARGET].startswith("choose")


def test_remove_and_unignore_take_an_item_back_to_unmapped(day_posted):
    bot = day_posted
    salami = map_to(bot, "5017", "Mozzarella", "0.1")
    bot.send.command("/pos", "mappings", user=ADMIN)
    listing = reply(bot, "Mappings of Trattoria Esempio")
    buttons = [
        element
        for block in listing.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    remove = next(b for b in buttons if b["action_id"] == ActionId.MAPPING_REMOVE)
    assert remove["value"].startswith(f"{salami}:") and remove["confirm"]["style"] == "danger"
    bot.send.click(listing.ts, ActionId.MAPPING_REMOVE, value=remove["value"], user=VIEWER)
    reply(bot, "you need to be an admin")
    stale = bot.slack.workspace.message(listing.ts).payload()
    bot.send.click(listing.ts, ActionId.MAPPING_REMOVE, value=remove["value"], user=ADMIN)
    removed = reply(bot, "Pizza Salami is no longer mapped")
    assert "Reprocess 1 affected day" in texts(removed)
    # The list itself no longer shows the mapping nor its Remove button.
    redrawn = bot.slack.wait_for("response_url", where=lambda c: c.ts == listing.ts)[-1]
    assert redrawn.args["replace_original"] and "Pizza Salami" not in texts(redrawn)
    with pytest.raises(AssertionError, match="shows no mapping_remove button"):
        bot.send.click(listing.ts, ActionId.MAPPING_REMOVE, value=remove["value"], user=ADMIN)
    with bot.database.session() as session:
        assert session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami)) is None
    bot.send.action(  # a stale copy of the list: refused, nothing changes
        {"type": "button", "action_id": ActionId.MAPPING_REMOVE, "value": remove["value"]},
        user=ADMIN,
        message=stale,
    )
    gone = texts(reply(bot, "Pizza Salami was changed meanwhile"))
    assert "it is now unmapped; nothing changed. To map it: `/pos unmapped`" in gone

    bot.send.command("/pos", "unmapped", user=ADMIN)
    unmapped = reply(bot, "Unmapped items of Trattoria Esempio")
    assert "Pizza Salami" in texts(unmapped)
    bot.send.click(unmapped.ts, ActionId.ITEM_IGNORE, value=str(salami), user=ADMIN)
    assert "Reprocess 1 affected day" in texts(reply(bot, "Pizza Salami is ignored"))
    relisted = bot.slack.wait_for("response_url", where=lambda c: c.ts == unmapped.ts)[-1]
    assert "Pizza Salami" not in texts(relisted), "the unmapped list is redrawn without it"
    bot.send.command("/pos", "mappings salami", user=ADMIN)
    ignored = bot.slack.wait_for(
        "response_url", where=lambda c: "ignored" in texts(c) and "Un-ignore" in texts(c)
    )[0]
    assert ActionId.ITEM_UNIGNORE in texts(ignored)
    bot.send.click(ignored.ts, ActionId.ITEM_UNIGNORE, user=ADMIN)
    unignored = reply(bot, "Pizza Salami is no longer ignored")
    again = bot.slack.wait_for("response_url", where=lambda c: c.ts == ignored.ts)[-1]
    assert "matching “salami”" in texts(again) and ActionId.ITEM_UNIGNORE not in texts(again)
    bot.send.click(unignored.ts, ActionId.REPROCESS, user=ADMIN)
    reply(bot, "Reprocessing 1 day")


def test_ignore_on_an_old_copy_of_the_list_keeps_a_mapping_made_since(day_posted):
    """Two managers with the unmapped list open: one maps Pizza Salami to mozzarella, the
    other, on their copy from before, presses Ignore on it. The mapping was silently
    replaced by "ignored" (and its days' deductions with it on the next reprocess). Ignore
    is for an unmapped item: a mapped one is kept, the list redrawn, and it says so."""
    bot = day_posted
    bot.send.command("/pos", "unmapped", user=ADMIN)
    unmapped = reply(bot, "Unmapped items of Trattoria Esempio")
    salami = map_to(bot, "5017", "Mozzarella", "0.1")  # meanwhile, by the other manager
    bot.send.click(unmapped.ts, ActionId.ITEM_IGNORE, value=str(salami), user=ADMIN)
    kept = reply(bot, "Pizza Salami was changed meanwhile")
    assert "now takes 0.1 kg of Mozzarella per sale" in texts(kept)
    assert "nothing changed" in texts(kept)
    assert "/pos mappings Pizza Salami" in texts(kept)
    relisted = bot.slack.wait_for("response_url", where=lambda c: c.ts == unmapped.ts)[-1]
    assert "Pizza Salami" not in texts(relisted), "the list is redrawn without it"
    with bot.database.session() as session:
        mapping = session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami))
    assert not mapping.ignored and mapping.factor == Decimal("0.1")


def test_a_modal_saved_after_someone_else_changed_the_mapping_is_refused(day_posted):
    """Two managers map the same item at once: the second Save silently replaced the first's
    mapping (the last one wins, unseen). A modal keeps what the mapping was when it opened;
    a Save over a change made since is refused, saying what it is now."""
    bot = day_posted
    salami = item_id(bot, "5017")
    bot.send.block_action(ActionId.MAP_OPEN, str(salami), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    map_to(bot, "5017", "Mozzarella", "0.1")  # meanwhile, by the other manager
    refused = submit_modal(bot, modal, f"ingredient:{ingredient_id(bot, 'Flour')}", "0.2")
    error = refused.json()["errors"][BlockId.MAP_TARGET]
    assert error.startswith("Pizza Salami was changed meanwhile: it now takes 0.1 kg of Mozzarella")
    with bot.database.session() as session:
        mapping = session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami))
    assert mapping.ingredient_id == ingredient_id(bot, "Mozzarella")

    bot.send.block_action(ActionId.MAP_OPEN, str(salami), user=ADMIN)  # opened on it: saved
    modal = bot.slack.wait_for("views.open", 3)[-1].args["view"]
    assert submit_modal(bot, modal, f"ingredient:{ingredient_id(bot, 'Flour')}", "0.2").text == ""
    with unit_of_work(bot.database.factory) as session:
        item = session.get(PosItem, salami)
        set_mapping(session, item, IgnoreChoice())  # and ignored meanwhile
    refused = submit_modal(bot, modal, f"ingredient:{ingredient_id(bot, 'Flour')}", "0.3")
    assert "it is now ignored" in refused.json()["errors"][BlockId.MAP_TARGET]


def row_button(listing, action_id: str) -> dict:
    return next(
        element
        for block in listing.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


def test_remove_on_an_old_copy_of_the_list_keeps_the_mapping_edited_since(day_posted):
    """Two managers with ``/pos mappings`` open: one edits Pizza Salami to 0.2 kg of
    mozzarella, the other, on their copy from before, presses Remove (and confirms). The
    edited mapping was removed unseen. Remove is for the mapping the row shows: one changed
    since is kept, the list redrawn with it, and the answer says what it is now."""
    bot = day_posted
    salami = map_to(bot, "5017", "Mozzarella", "0.1")
    bot.send.command("/pos", "mappings", user=ADMIN)
    listing = reply(bot, "Mappings of Trattoria Esempio")
    remove = row_button(listing, ActionId.MAPPING_REMOVE)
    map_to(bot, "5017", "Mozzarella", "0.2")  # meanwhile, by the other manager
    bot.send.click(listing.ts, ActionId.MAPPING_REMOVE, value=remove["value"], user=ADMIN)
    kept = reply(bot, "Pizza Salami was changed meanwhile")
    assert "now takes 0.2 kg of Mozzarella per sale" in texts(kept)
    assert "nothing changed" in texts(kept) and "/pos mappings Pizza Salami" in texts(kept)
    redrawn = bot.slack.wait_for("response_url", where=lambda c: c.ts == listing.ts)[-1]
    assert redrawn.args["replace_original"] and "0.2 kg of *Mozzarella*" in texts(redrawn)
    with bot.database.session() as session:
        mapping = session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami))
    assert mapping is not None and mapping.factor == Decimal("0.2")
    # The redrawn row's Remove is for the mapping as it is now: it removes it.
    fresh = row_button(redrawn, ActionId.MAPPING_REMOVE)
    bot.send.click(listing.ts, ActionId.MAPPING_REMOVE, value=fresh["value"], user=ADMIN)
    reply(bot, "Pizza Salami is no longer mapped")


def test_unignore_on_an_old_copy_of_the_list_keeps_a_mapping_made_since(day_posted):
    """An ignored item mapped meanwhile (Map on its row, by someone else): Un-ignore from
    the old copy removed that mapping."""
    bot = day_posted
    with unit_of_work(bot.database.factory) as session:
        item = session.scalar(select(PosItem).where(PosItem.key == "5017"))
        set_mapping(session, item, IgnoreChoice())
    bot.send.command("/pos", "mappings", user=ADMIN)
    listing = reply(bot, "Mappings of Trattoria Esempio")
    unignore = row_button(listing, ActionId.ITEM_UNIGNORE)
    salami = map_to(bot, "5017", "Mozzarella", "0.1")
    bot.send.click(listing.ts, ActionId.ITEM_UNIGNORE, value=unignore["value"], user=ADMIN)
    assert "now takes 0.1 kg" in texts(reply(bot, "Pizza Salami was changed meanwhile"))
    with bot.database.session() as session:
        mapping = session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami))
    assert mapping is not None and mapping.factor == Decimal("0.1")


def test_remove_buttons_from_before_the_seen_mapping_act_as_before_and_forged_ones_are_refused(
    day_posted,
):
    """A row drawn before buttons carried the mapping (``<item>:{"text":"","page":1}``)
    removes as it did; a value that is not one Stockpot made is refused, nothing removed."""
    bot = day_posted
    salami = map_to(bot, "5017", "Mozzarella", "0.1")
    bot.send.command("/pos", "mappings", user=ADMIN)
    listing = reply(bot, "Mappings of Trattoria Esempio")
    shown = bot.slack.workspace.message(listing.ts).payload()

    def press(value: str) -> None:
        button = {"type": "button", "action_id": ActionId.MAPPING_REMOVE, "value": value}
        bot.send.action(button, user=ADMIN, message=shown)

    too_long = "x" * 201
    for forged in ('{"page":1,"seen":7}', '{"seen":"x"}', f'{{"page":1,"seen":"{too_long}"}}'):
        press(f"{salami}:{forged}")
    refused = bot.slack.wait_for(
        "response_url", 3, where=lambda c: "that button is not one Stockpot made" in texts(c)
    )
    assert len(refused) == 3
    with bot.database.session() as session:
        assert session.scalar(select(PosMapping).where(PosMapping.pos_item_id == salami))
    press(f'{salami}:{{"text":"","page":1}}')
    reply(bot, "Pizza Salami is no longer mapped")


def test_mappings_search_pages_and_connections(day_posted):
    bot = day_posted
    with unit_of_work(bot.database.factory) as session:
        items = session.scalars(select(PosItem).order_by(PosItem.name).limit(25)).all()
        cola = session.scalar(select(PosItem).where(PosItem.key == "8001"))
        for item in items:
            set_mapping(session, item, IngredientChoice(ingredient_id(bot, "Mozzarella"), 1))
        csv = Connection(company_id=cola.company_id, provider=Provider.CSV, name="Bar export")
        session.add(csv)
        session.flush()
        twin = PosItem(
            company_id=cola.company_id,
            connection_id=csv.id,
            key="8001",
            external_id="8001",
            name=cola.name,
        )
        session.add(twin)
        session.flush()
        set_mapping(session, twin, IgnoreChoice())
        set_mapping(session, cola, IngredientChoice(ingredient_id(bot, "House red"), 1))
    bot.send.command("/pos", "mappings", user=ADMIN)
    first = bot.slack.wait_for("response_url", where=lambda c: "showing 1–20" in texts(c))[0]
    assert len(first.args["blocks"]) <= 50
    pager = first.args["blocks"][-1]["elements"][-1]
    assert pager["action_id"] == ActionId.MAPPINGS_PAGE and pager["text"]["text"] == "Next (2/2)"
    bot.send.block_action(ActionId.MAPPINGS_PAGE, pager["value"], user=ADMIN)
    second = bot.slack.wait_for("response_url", where=lambda c: "showing 21–27" in texts(c))[0]
    assert second.args["replace_original"] is True
    bot.send.command("/pos", "mappings cola", user=ADMIN)
    found = bot.slack.wait_for("response_url", where=lambda c: "matching “cola”" in texts(c))[0]
    text = texts(found)
    assert "2 items matching" in text and "· SIDES\\n" in text and "· Bar export (CSV)\\n" in text
    assert "sides:" not in text and "csv:" not in text
    assert "Next" not in text
    bot.send.command("/pos", "mappings nothing-like-this", user=ADMIN)
    reply(bot, "No mapped or ignored item matching")


def test_a_search_reads_percent_and_underscore_as_typed_not_as_wildcards(bot):
    """``%`` and ``_`` went into ILIKE unescaped: typing ``%`` offered every ingredient and
    recipe, ``_`` matched any letter."""
    from stockpot.core.catalog.importer import import_catalog

    import_catalog(
        bot.database.factory,
        "company: Trattoria Esempio\ningredients:\n  - {name: Cream 30% fat, base_unit: l}\n",
        source="cream.yaml",
    )

    def offered(text: str) -> list[str]:
        answer = bot.send.options(
            ActionId.MAP_TARGET, text, block_id=BlockId.MAP_TARGET, user=ADMIN
        )
        return [o["text"]["text"] for g in answer.json()["option_groups"] for o in g["options"]]

    assert offered("%") == ["Cream 30% fat (l per sale)"]
    assert offered("0%") == ["Cream 30% fat (l per sale)"]
    assert offered("_") == []
    assert offered("M_zzarella") == []
    assert offered("mozz") == ["Mozzarella (kg per sale)"]
    # Longer than any name: nothing contains it (SQLite refused the pattern from 50,000
    # bytes with a traceback; a long paste into the search box).
    assert offered("a" * 100_000) == []
    bot.send.command("/pos", "mappings " + "Mozz" * 20_000, user=ADMIN)
    assert "Something went wrong" not in texts(bot.slack.wait_for("response_url")[-1])


def test_a_saved_mapping_redraws_the_list_its_map_or_edit_was_pressed_on(day_posted):
    """No stale Map on an item just mapped: the unmapped list loses it; the mappings row
    shows the new target."""
    bot = day_posted
    salami = item_id(bot, "5017")
    bot.send.command("/pos", "unmapped", user=ADMIN)
    listing = reply(bot, "Unmapped items of Trattoria Esempio")
    assert "Pizza Salami" in texts(listing)
    bot.send.click(listing.ts, ActionId.MAP_OPEN, user=ADMIN, value=str(salami))
    modal = bot.slack.wait_for("views.open", where=lambda c: "Pizza Salami" in texts(c))[-1]
    mozzarella = f"ingredient:{ingredient_id(bot, 'Mozzarella')}"
    assert submit_modal(bot, modal.args["view"], mozzarella, "0.1").text == ""
    bot.drain()
    shown = bot.slack.workspace.message(listing.ts)
    assert "Unmapped items of Trattoria Esempio" in json.dumps(shown.blocks)
    assert "Pizza Salami" not in json.dumps(shown.blocks, ensure_ascii=False)

    bot.send.command("/pos", "mappings salami", user=ADMIN)
    found = bot.slack.wait_for("response_url", where=lambda c: "matching “salami”" in texts(c))
    found = found[0]
    assert "0.1 kg of *Mozzarella*" in texts(found)
    [edit] = [
        element["value"]
        for block in bot.slack.workspace.message(found.ts).blocks
        for element in block.get("elements") or []
        if element.get("action_id") == ActionId.MAP_OPEN
    ]
    bot.send.click(found.ts, ActionId.MAP_OPEN, user=ADMIN, value=edit)
    modal = bot.slack.wait_for("views.open", where=lambda c: "Edit a mapping" in texts(c))[-1]
    assert submit_modal(bot, modal.args["view"], mozzarella, "0.12").text == ""
    bot.drain()
    shown = json.dumps(bot.slack.workspace.message(found.ts).blocks, ensure_ascii=False)
    assert "matching “salami”" in shown and "0.12 kg of *Mozzarella*" in shown


def test_a_mapping_of_a_thousand_or_more_is_confirmed_grouped(day_posted):
    """The confirmation read its factor back from the grouped figure ("1,500"), which is no
    number: saved, the mapping went unconfirmed (the handler raised after the ack)."""
    bot = day_posted
    bot.send.block_action(ActionId.MAP_OPEN, str(item_id(bot, "5017")), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    mozzarella = f"ingredient:{ingredient_id(bot, 'Mozzarella')}"
    assert submit_modal(bot, modal, mozzarella, "1500").text == ""
    confirmation = bot.slack.wait_for(
        "chat.postEphemeral", where=lambda c: "now takes" in texts(c)
    )[0]
    assert "1,500 kg of *Mozzarella*" in texts(confirmation)


def test_a_mapping_saved_by_someone_no_longer_in_the_channel_is_confirmed_in_their_dm(
    day_posted, caplog
):
    """The admin left the channel with the Map modal open: Slack shows them no ephemeral
    message there (``user_not_in_channel``). The confirmation comes to their DM with the app,
    saying why, where the refusal escaped the listener before (logged as an error, with a
    reference, and the confirmation lost)."""
    bot = day_posted
    bot.send.block_action(ActionId.MAP_OPEN, str(item_id(bot, "5017")), user=ADMIN)
    modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    bot.slack.leave("C0001", ADMIN)
    values = {
        BlockId.MAP_TARGET: {
            ActionId.MAP_TARGET: {
                "selected_option": {"value": f"ingredient:{ingredient_id(bot, 'Mozzarella')}"}
            }
        },
        BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: {"value": "0,2"}},
    }
    assert bot.send.view_submission(modal, values, user=ADMIN).text == ""
    moved = bot.slack.wait_for(
        "chat.postMessage", where=lambda c: c.args["channel"] == ADMIN and "now takes" in texts(c)
    )[0]
    assert "could not show you this in <#C0001>" in texts(moved)
    assert "user_not_in_channel" in texts(moved)
    assert bot.slack.workspace.message(moved.ts).channel == bot.slack.dm_with(ADMIN)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
