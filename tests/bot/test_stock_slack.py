"""``/stock`` and ``/ledger variance`` through the running bot: signed requests, the Slack
stand-in recording what the bot sends."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.blocks.ledger import BALANCES_SHOWN
from stockpot.bot.blocks.stock import (
    MODAL_BLOCKS,
    VARIANCE_SHOWN,
    SheetRow,
    count_modal,
    sheet_pages,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.exact import write_a_number
from stockpot.core.models import ExternalLocation, Ingredient, StockPosting, StorageUnit
from stockpot.core.quantities import QUANTITY_RANGE
from stockpot.core.stock.ledger import LiveCount
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN, VIEWER
from tests.bot.test_slack_app import posted, reply, texts
from tests.catalogs import business_day, calendar_day, late_day_start, locations_added

UTC_ZONE = ZoneInfo("UTC")


def ingredient_ids(bot) -> dict[str, int]:
    with bot.database.session() as session:
        return dict(session.execute(select(Ingredient.name, Ingredient.id)).tuples().all())


def count(bot, day: str, quantities: dict[str, str], user=ADMIN):
    bot.send.command("/stock", f"count Kitchen {day}", user=user)
    view = bot.slack.wait_for(
        "views.open", where=lambda c: day in texts(c) and "Count Kitchen" in texts(c)
    )[-1].args["view"]
    assert view["callback_id"] == CallbackId.STOCK_COUNT
    ids = ingredient_ids(bot)
    values = {
        block["block_id"]: {ActionId.STOCK_QUANTITY: {"type": "number_input", "value": None}}
        for block in view["blocks"]
        if block["type"] == "input"
    }
    for name, quantity in quantities.items():
        block = f"{BlockId.STOCK_INGREDIENT_PREFIX}{ids[name]}"
        values[block][ActionId.STOCK_QUANTITY]["value"] = quantity
    return bot.send.view_submission(view, values, user=user)


def espressos(bot, day: date, sold: int) -> None:
    with bot.database.session() as session:
        room = session.scalar(
            select(ExternalLocation.id).where(ExternalLocation.name == "Main room")
        )
    line = SaleLine("S1", "1", "300", "Espresso", Decimal(sold))
    run_transfer(bot.database.factory, room, day, [line], RawInput("t", str(sold)))


def test_a_count_from_slack_then_the_variance_of_the_period(bot):
    from stockpot.core.mapping import import_mappings
    from tests.catalogs import TRATTORIA_MAPPINGS

    import_mappings(bot.database.factory, TRATTORIA_MAPPINGS, source="mappings.yaml")
    # One write, no read first: on SQLite a read-then-write transaction fails at once
    # ("database is locked", no busy wait) when the bot's worker wrote in between.
    with bot.database.factory.begin() as session:
        session.execute(
            update(Ingredient)
            .where(Ingredient.name == "Espresso beans")
            .values(cost=Decimal("18.50"))
        )
    answer = count(bot, "2026-11-26", {"Espresso beans": "2", "Flour": "10"})
    assert answer.status_code == 200 and answer.text == ""
    opening = posted(bot, "counted in Kitchen for 2026-11-26")
    assert "<@UADMIN>" in texts(opening) and "Espresso beans: 2 kg" in texts(opening)
    with bot.database.session() as session:
        posting = session.scalar(select(StockPosting.id))
    assert f"Posting {posting} · `/stock correct {posting}` reverses it" in texts(opening), (
        "the id is said with what it is for"
    )
    espressos(bot, date(2026, 11, 27), 100)  # 0.9 kg
    count(bot, "2026-11-27", {"Espresso beans": "1"})
    report = posted(bot, "Variance of Kitchen: 2026-11-26")
    assert "Espresso beans: used 1 kg, sold 0.9 kg → 0.1 kg (11.1 %) · 1.85 EUR" in texts(report)
    assert "not transferred" not in texts(report)  # the day's sales are in
    chart = bot.slack.wait_for("files.completeUploadExternal")[0]
    assert "variance" in texts(chart).lower()
    bot.send.command("/ledger", "variance Kitchen", user=VIEWER)
    assert "Total variance: 1.85 EUR" in texts(reply(bot, "Variance of Kitchen"))
    with bot.database.session() as session:
        who = set(session.scalars(select(StockPosting.posted_by)))
    assert who == {"slack:UADMIN"}


def test_viewers_read_but_do_not_post_and_bad_lines_are_named(bot):
    bot.send.command("/stock", "receive Kitchen Flour=25kg", user=VIEWER)
    reply(bot, "you need to be an admin of Trattoria Esempio")
    bot.send.command("/stock", "receive Kitchen Flour=25kg@0.9, Basil=200g", user=ADMIN)
    message = posted(bot, "received in Kitchen")
    assert "Flour: 25 kg · 22.50 EUR" in texts(message) and "<@UADMIN>" in texts(message)
    bot.send.command("/ledger", "balances Kitchen", user=VIEWER)
    stock = texts(reply(bot, "Stock of Trattoria Esempio"))
    assert (
        "Flour: 25 kg · 22.50 EUR" in stock
        and "*Kitchen* · 2 ingredients · 22.50 EUR at cost" in stock
    )
    bot.send.command("/stock", "waste Kitchen Flor=1kg", user=ADMIN)
    assert "did you mean 'Flour'" in texts(reply(bot, "unknown ingredient 'Flor'"))
    bot.send.command("/stock", "move Kitchen to Bar House red=2", user=ADMIN)
    moved = posted(bot, "moved in Kitchen → Bar")
    number = texts(moved).split("Posting ")[1].split(" ")[0]
    bot.send.command("/stock", f"correct {number}", user=ADMIN)
    corrected = texts(posted(bot, "corrected in Kitchen → Bar"))
    assert "Posting " in corrected and "/stock correct" not in corrected, (
        "a correction is not offered to be corrected (it cannot be)"
    )
    bot.send.command("/stock", "waste Kitchen", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == CallbackId.STOCK_FORM
    values = {
        BlockId.STOCK_LINES: {
            ActionId.STOCK_LINES: {"type": "plain_text_input", "value": "Basil=l"}
        },
        BlockId.STOCK_DATE: {ActionId.STOCK_DATE: {"type": "datepicker", "selected_date": None}},
        BlockId.STOCK_NOTE: {ActionId.STOCK_NOTE: {"type": "plain_text_input", "value": "wilted"}},
    }
    errors = bot.send.view_submission(view, values, user=ADMIN).json()
    assert "should read ingredient=quantity" in errors["errors"][BlockId.STOCK_LINES]
    values[BlockId.STOCK_LINES][ActionId.STOCK_LINES]["value"] = "Basil=20g"
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    posted(bot, "wasted in Kitchen")


def test_a_date_after_the_storage_unit_is_the_postings_date_as_in_a_count(bot):
    """`/stock count Kitchen 2026-11-26` counts that day, but `/stock receive Kitchen
    2026-11-26 Flour=25kg` read the date as part of the ingredient's name ("unknown
    ingredient '2026-11-26 Flour'; did you mean 'Flour'?"): taking the advice posted
    yesterday's delivery today. The date is taken after the unit (or units) as well."""
    bot.send.command("/stock", "receive Kitchen 2026-11-26 Flour=25kg@0.9", user=ADMIN)
    assert "Flour: 25 kg" in texts(posted(bot, "received in Kitchen for 2026-11-26"))
    bot.send.command("/stock", "move Kitchen to Bar 2026-11-26 House red=2", user=ADMIN)
    posted(bot, "moved in Kitchen → Bar for 2026-11-26")
    bot.send.command("/stock", "waste 2026-11-25 Kitchen Basil=20g", user=ADMIN)
    posted(bot, "wasted in Kitchen for 2026-11-25")


def test_a_count_with_words_after_the_unit_that_are_no_date_opens_no_sheet(bot):
    """`/stock count Kitchen 27.11.2026` opened today's sheet: the date written another way
    was dropped, and the count posted from it fixed today's balance instead of that day's.
    Whatever follows the unit is its date, or the command is refused saying how to write it."""
    for typed, shown in [
        ("27.11.2026", "27.11.2026"),
        ("last friday", "last friday"),
        ("2026-11-26 and more", "and more"),
    ]:
        bot.send.command("/stock", f"count Kitchen {typed}", user=ADMIN)
        answer = reply(bot, f"'{shown}' is not a date").args["text"]
        assert "use YYYY-MM-DD, `yesterday` or `today`" in answer, typed
    assert not [c for c in bot.slack.calls if c.method == "views.open"], "no sheet opened"
    bot.send.command("/stock", "count Kitchen 2026-11-26", user=ADMIN)
    sheet = bot.slack.wait_for("views.open")[-1].args["view"]
    assert '"business_date":"2026-11-26"' in sheet["private_metadata"]


def test_a_posting_made_where_the_bot_cannot_post_is_told_to_the_one_who_made_it(bot, caplog):
    """`/stock receive` typed in a private channel (or a DM) the bot is not in: the receipt
    was posted, then its announcement refused (`channel_not_found`), and the person read
    "Something went wrong": typing it again posted it twice. The posting is said to them
    instead (the command's answer; from a form, a message from the app), with why it is not
    in the channel; the form's posting as well."""
    private = "GKITCHEN"
    bot.slack.outside_channels.add(private)
    bot.slack.private_channels.add(private)
    bot.send.command("/stock", "receive Kitchen Flour=2kg", user=ADMIN, channel=private)
    answer = texts(reply(bot, "received in Kitchen"))
    assert "Flour: 2 kg" in answer and f"Not shown in <#{private}>" in answer
    assert "Something went wrong" not in answer
    bot.send.command("/stock", "waste Kitchen", user=ADMIN, channel=private)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = {
        BlockId.STOCK_LINES: {
            ActionId.STOCK_LINES: {"type": "plain_text_input", "value": "Flour=20g"}
        },
        BlockId.STOCK_DATE: {ActionId.STOCK_DATE: {"type": "datepicker", "selected_date": None}},
    }
    assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    told = bot.slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == ADMIN)
    assert "wasted in Kitchen" in texts(told[0]) and f"Not shown in <#{private}>" in texts(told[0])
    bot.drain()
    with bot.database.session() as session:
        kinds = session.scalars(select(StockPosting.kind).order_by(StockPosting.id)).all()
    assert [kind.value for kind in kinds] == ["receipt", "waste"], "each posted once"
    assert "unexpected error" not in caplog.text


def date_block(view) -> dict:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == BlockId.STOCK_DATE]
    return block


def picker_of(view) -> dict:
    return date_block(view)["element"]


def test_a_date_typed_without_lines_starts_the_forms_date_picker(bot):
    """`/stock receive Kitchen 2026-11-26` (no lines) opened the form with an empty date
    picker: posted as it was, yesterday's delivery was dated today. The picker starts on the
    typed date, wherever it was typed; a date outside the one date rule opens no form."""
    typed = {
        "receive Kitchen 2026-11-26": "2026-11-26",
        "waste 2026-11-25 Kitchen": "2026-11-25",
        "move Kitchen to Bar 2026-11-24": "2026-11-24",
    }
    for n, (command, day) in enumerate(typed.items(), start=1):
        bot.send.command("/stock", command, user=ADMIN)
        view = bot.slack.wait_for("views.open", n)[-1].args["view"]
        assert picker_of(view).get("initial_date") == day, command
        assert date_block(view)["label"]["text"] == "Business date", "not 'default: today'"
    bot.send.command("/stock", "receive Kitchen", user=ADMIN)
    untyped = bot.slack.wait_for("views.open", len(typed) + 1)[-1].args["view"]
    assert "initial_date" not in picker_of(untyped), "no date typed: the picker starts empty"
    assert date_block(untyped)["label"]["text"] == "Business date (default: today's business day)"
    # What Slack sends when the picker is left as it opened: the typed date.
    bot.send.view_submission(
        bot.slack.wait_for("views.open")[0].args["view"],
        {
            BlockId.STOCK_LINES: {
                ActionId.STOCK_LINES: {"type": "plain_text_input", "value": "Flour=25kg"}
            },
            BlockId.STOCK_DATE: {
                ActionId.STOCK_DATE: {"type": "datepicker", "selected_date": "2026-11-26"}
            },
        },
        user=ADMIN,
    )
    posted(bot, "received in Kitchen for 2026-11-26")
    bot.send.command("/stock", "receive Kitchen 2999-01-01", user=ADMIN)
    reply(bot, "2999-01-01 is outside the dates Stockpot works with")
    assert len(bot.slack.wait_for("views.open", len(typed) + 1)) == len(typed) + 1


def test_a_date_picked_outside_the_dates_stockpot_works_with_is_refused_under_the_picker(bot):
    """The receive/waste/move form's date picker gives any date: a receipt of 1900 or 2999
    was posted. Every posting meets the one date rule (2000-01-01 to a year ahead), told
    under the picker with the range; nothing is posted."""
    bot.send.command("/stock", "receive Kitchen", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    for day in ("1900-01-01", "2999-01-01"):
        values = {
            BlockId.STOCK_LINES: {
                ActionId.STOCK_LINES: {"type": "plain_text_input", "value": "Flour=25kg"}
            },
            BlockId.STOCK_DATE: {ActionId.STOCK_DATE: {"type": "datepicker", "selected_date": day}},
        }
        errors = bot.send.view_submission(view, values, user=ADMIN).json()["errors"]
        assert list(errors) == [BlockId.STOCK_DATE], errors
        assert (
            f"{day} is outside the dates Stockpot works with (2000-01-01 to"
            in errors[BlockId.STOCK_DATE]
        )
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


def test_a_long_count_sheet_is_paged_within_the_modal_limit():
    rows = [SheetRow(i, f"Spice {i:03d}", "g") for i in range(250)]
    pages = sheet_pages({"Weighed": rows, "Counted": [SheetRow(999, "Eggs", "pcs")]})
    assert len(pages) == 3
    inputs = [b for page in pages for b in page if b["type"] == "input"]
    assert len(inputs) == 251 and inputs[0]["label"]["text"] == "Spice 000 (g)"
    for number, page in enumerate(pages):
        modal = count_modal(
            "{}", "Kitchen", date(2026, 11, 27), page, number, len(pages), (), UTC_ZONE
        )
        assert len(modal["blocks"]) <= MODAL_BLOCKS
        assert modal["blocks"][1]["type"] == "header"  # a continued group repeats its header
    assert modal["submit"]["text"] == "Post count"


def test_a_count_sheet_with_counts_named_keeps_every_field_within_the_modal_limit():
    """The notice of counts already posted is one more block: a full page still fits, with
    every one of its fields (the modal's blocks are cut at 100, which would drop some)."""
    rows = [SheetRow(i, f"Spice {i:03d}", "g", "5 g (count 7)") for i in range(250)]
    pages = sheet_pages({"Weighed": rows})
    at = datetime(2026, 11, 27, 21, 5, tzinfo=UTC)
    counts = [LiveCount(n, "slack:UADMIN", at, {n: Decimal(5)}) for n in range(1, 6)]
    for number, page in enumerate(pages):
        modal = count_modal(
            "{}", "Kitchen", date(2026, 11, 27), page, number, len(pages), counts, UTC_ZONE
        )
        assert len(modal["blocks"]) <= MODAL_BLOCKS
        assert modal["blocks"][2:] == page, "every field of the page is on it"
    notice = json.dumps(modal["blocks"][1])
    assert "count 1 by <@UADMIN> at 2026-11-27 21:05 UTC (1 ingredient)" in notice
    assert "and 2 counts more" in notice and "`/stock correct 3`" in notice


def test_reopening_a_count_sheet_shows_what_that_day_already_counted(bot):
    """`/stock count Kitchen 2026-11-26` a second time showed empty fields: the manager
    learned that Flour was counted already only from the refusal on Post. The sheet names
    the day's counts (who, when, how to count again) and shows under each counted field
    what was counted."""
    assert count(bot, "2026-11-26", {"Flour": "10", "Basil": "250"}).text == ""
    posted(bot, "counted in Kitchen for 2026-11-26")
    with bot.database.session() as session:
        posting, at = session.execute(select(StockPosting.id, StockPosting.created_at)).one()
    ids = ingredient_ids(bot)

    def sheet(day: str, opened: int) -> dict:
        bot.send.command("/stock", f"count Kitchen {day}", user=ADMIN)
        return bot.slack.wait_for("views.open", opened)[-1].args["view"]

    def hints(view) -> dict[int, str]:
        prefix = BlockId.STOCK_INGREDIENT_PREFIX
        return {
            int(b["block_id"].removeprefix(prefix)): b["hint"]["text"]
            for b in view["blocks"]
            if b["type"] == "input" and "hint" in b
        }

    again = sheet("2026-11-26", 2)
    notice = texts_of(again["blocks"][1])
    assert (
        f"*Kitchen* was already counted at the close of 2026-11-26: count {posting} by "
        "<@UADMIN> at " in notice
    )
    # On the company's clock (its location is in Rome), not UTC: a count at 00:30 there
    # read as 23:30 the day before.
    rome = at.astimezone(ZoneInfo("Europe/Rome"))
    assert f"at {rome:%Y-%m-%d %H:%M %Z} (2 ingredients)" in notice, notice
    assert f"`/stock correct {posting}`" in notice
    assert hints(again) == {
        ids["Flour"]: f"Counted already that day: 10 kg (count {posting})",
        ids["Basil"]: f"Counted already that day: 250 g (count {posting})",
    }
    other_day = sheet("2026-11-27", 3)
    assert "already counted" not in json.dumps(other_day) and not hints(other_day)
    bot.send.command("/stock", f"correct {posting}", user=ADMIN)
    posted(bot, "corrected in Kitchen")
    reversed_ = sheet("2026-11-26", 4)
    assert "already counted" not in json.dumps(reversed_) and not hints(reversed_)


def texts_of(block: dict) -> str:
    return json.dumps(block, ensure_ascii=False)


COUNT_FILE = b"ingredient,quantity,unit\nFlour,12,kg\nBasil,250,g\nWater,,l\n"


def share(bot, file_id: str, name: str, content: bytes):
    bot.slack.add_file(file_id, name, content)
    response = bot.send.event(
        {"type": "file_shared", "file_id": file_id, "channel_id": "C0001", "user_id": ADMIN},
        event_id=f"Ev{file_id}",
    )
    assert response.status_code == 200
    bot.drain()


@pytest.mark.parametrize("day", ["2026-02-29", "27.11.2026"])
def test_a_count_file_dated_in_its_name_on_no_day_is_refused_for_its_date(bot, day):
    """count-Kitchen-2026-02-29.csv was read as a till export ('no column Artikelnummer'),
    and count-Kitchen-27.11.2026.csv as a count of a unit 'Kitchen-27.11.2026'."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FDAY", f"count-Kitchen-{day}.csv", COUNT_FILE)
    refusal = texts(posted(bot, f"'{day}' is not a date"))
    assert "name a count file count-Kitchen-YYYY-MM-DD.csv" in refusal
    assert "Artikelnummer" not in refusal and "no storage unit" not in refusal
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


def test_a_count_file_is_held_to_a_count_sheets_size(bot):
    """Count files are read where they are shared, by whoever shares them: a 19 MB file named
    count-Kitchen.csv took the web process 27 s of CPU (and its acks with it). A count sheet
    is a few KB; beyond 512 KB the file is refused unread, with where a till export goes."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    big = b"ingredient,quantity,unit\n" + b"Flour,1,kg\n" * 60_000  # 660 KB
    share(bot, "FBIG", "count-Kitchen.csv", big)
    refused = posted(bot, "larger than 512 KB")
    assert "/pos csv" in texts(refused)
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


def button_value(call, action_id: str) -> str:
    for block in call.args.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} in {texts(call)}")


def test_a_count_csv_shared_in_the_channel_is_previewed_then_posted(bot):
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FBAD", "count-Kitchen.csv", b"ingredient,quantity\nFlor,2\nBasil,x\n")
    problems = posted(bot, "Count file count-Kitchen.csv")
    assert "line 3: quantity: 'x' is not a number; write it with the digits 0-9" in texts(problems)
    share(bot, "FCOUNT", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    preview = posted(bot, "count-Kitchen-2026-11-26.csv*: Kitchen at the close of 2026-11-26")
    assert "Flour: 12 kg (adjustment 12 kg)" in texts(preview)
    assert "Left empty, not counted: Water" in texts(preview)
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None  # a preview posts nothing
    assert button_value(preview, ActionId.STOCK_FILE_POST)
    bot.send.click(preview.ts, ActionId.STOCK_FILE_POST, user=VIEWER)
    bot.drain()
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None  # viewers do not post
    bot.send.click(preview.ts, ActionId.STOCK_FILE_POST, user=ADMIN)
    bot.drain()
    posted(bot, "counted in Kitchen for 2026-11-26")
    # The preview became the result: its Post button is spent.
    assert "posted as count" in bot.slack.workspace.message(preview.ts).text + json.dumps(
        bot.slack.workspace.message(preview.ts).blocks
    )
    with pytest.raises(AssertionError, match="shows no stock_file_post button"):
        bot.send.click(preview.ts, ActionId.STOCK_FILE_POST, user=ADMIN)
    with bot.database.session() as session:
        assert list(session.scalars(select(StockPosting.posted_by))) == ["slack:UADMIN"]


def click_deleted(bot, preview, action_id: str):
    """A click on ``preview`` that Slack delivers after someone deleted the message (the
    click was on a client still showing it)."""
    shown = bot.slack.workspace.message(preview.ts)
    (element,) = [
        {**element, "block_id": block.get("block_id") or "b"}
        for block in shown.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]
    payload = shown.payload()
    bot.slack.workspace.delete(preview.ts)
    assert bot.slack.workspace.message(preview.ts) is None
    response = bot.send.action(element, user=ADMIN, channel=shown.channel, message=payload)
    assert response.status_code == 200
    bot.drain()


def test_a_count_file_whose_preview_was_deleted_answers_cancel_and_post_cleanly(bot, caplog):
    """chat.update answers ``message_not_found`` for a deleted preview: Cancel says so (no
    traceback, no "something went wrong"); Post still posts and announces."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FCOUNT", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    preview = posted(bot, "count-Kitchen-2026-11-26.csv*: Kitchen at the close of 2026-11-26")
    click_deleted(bot, preview, ActionId.STOCK_FILE_CANCEL)
    told = reply(bot, "preview was deleted")
    assert "nothing was posted" in texts(told)
    assert "Something went wrong" not in json.dumps([c.args for c in bot.slack.calls])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

    share(bot, "FCOUNT2", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    again = bot.slack.wait_for(
        "chat.postMessage", 2, where=lambda c: "Kitchen at the close of 2026-11-26" in texts(c)
    )[-1]
    click_deleted(bot, again, ActionId.STOCK_FILE_POST)
    posted(bot, "counted in Kitchen for 2026-11-26")
    with bot.database.session() as session:
        assert len(list(session.scalars(select(StockPosting.id)))) == 1
    assert "Something went wrong" not in json.dumps([c.args for c in bot.slack.calls])


OTHER_ADMIN = "UCHEF"


def _count_file_posted_with_a_stale_copy(bot, action_id: str):
    """A count file's preview, its ``action_id`` button as a copy shown before **Post count**
    holds it, then posted from the preview: (the preview, the stale copy as it was shown, its
    channel, its button)."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FCOUNT", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    preview = posted(bot, "count-Kitchen-2026-11-26.csv*: Kitchen at the close of 2026-11-26")
    stale = bot.slack.workspace.message(preview.ts)
    (element,) = [
        {**element, "block_id": block.get("block_id") or "b"}
        for block in stale.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]
    stale_payload = stale.payload()
    bot.send.click(preview.ts, ActionId.STOCK_FILE_POST, user=ADMIN)
    bot.drain()
    posted(bot, "counted in Kitchen for 2026-11-26")
    return preview, stale_payload, stale.channel, element


def test_a_stale_post_count_keeps_the_posted_result(bot):
    """Two managers (or two devices) press **Post count** on the same preview. The second
    was refused ("already counted"), and then put its own copy of the preview back, **Post
    count** and all, over "posted as count N": the channel showed a count that was posted as
    not posted. The second now leaves the result alone and is told privately."""
    preview, stale_payload, channel, element = _count_file_posted_with_a_stale_copy(
        bot, ActionId.STOCK_FILE_POST
    )
    bot.slack.add_user(OTHER_ADMIN, "chef")
    bot.send.command("/pos", f"members add <@{OTHER_ADMIN}|chef> admin", user=ADMIN)
    reply(bot, "admin")
    response = bot.send.action(element, user=OTHER_ADMIN, channel=channel, message=stale_payload)
    assert response.status_code == 200
    bot.drain()
    told = texts(reply(bot, "already posted"))
    assert "count-Kitchen-2026-11-26.csv" in told and "nothing was posted" in told
    shown = bot.slack.workspace.message(preview.ts)
    with bot.database.session() as session:
        (posting,) = session.scalars(select(StockPosting.id))
    assert f"posted as count {posting} by <@UADMIN>" in json.dumps(shown.blocks), "who posted it"
    assert ActionId.STOCK_FILE_POST not in json.dumps(shown.blocks), "no Post count again"


def test_a_stale_cancel_leaves_a_posted_count_file_s_result_alone(bot):
    """Cancel pressed on a copy of the preview shown before **Post count** (another device, a
    second manager): it replaced "posted as count N" with "Count file not posted: cancelled",
    so the channel said a count that was posted was not. The count stands; the presser is
    told privately."""
    preview, stale_payload, channel, element = _count_file_posted_with_a_stale_copy(
        bot, ActionId.STOCK_FILE_CANCEL
    )
    response = bot.send.action(element, user=ADMIN, channel=channel, message=stale_payload)
    assert response.status_code == 200
    bot.drain()
    told = texts(reply(bot, "was posted from this preview"))
    assert "nothing was cancelled" in told
    shown = bot.slack.workspace.message(preview.ts)
    assert "posted as count" in json.dumps(shown.blocks), shown.text
    assert "not posted" not in shown.text


def test_post_count_of_a_file_deleted_after_its_preview_says_so_and_posts_nothing(bot, caplog):
    """The count file is deleted while its preview still offers Post count (``files.info``
    answers ``file_not_found``): the clicker is told the file is gone and to share it again,
    nothing is posted ("Something went wrong" and a traceback before)."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FGONE", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    preview = posted(bot, "count-Kitchen-2026-11-26.csv*: Kitchen at the close of 2026-11-26")
    del bot.slack.files["FGONE"]
    bot.send.click(preview.ts, ActionId.STOCK_FILE_POST, user=ADMIN)
    told = texts(reply(bot, "no longer in Slack"))
    assert "share it again" in told
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None
    assert "Something went wrong" not in json.dumps([c.args for c in bot.slack.calls])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_thousands_of_bad_lines_in_slack_show_the_first_and_count_the_rest(bot):
    """A command with 500 bad lines answers the first 20 and "… and 480 more" (it sent
    every one: a message Slack cuts off), a count file likewise; nothing is posted."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    lines = ", ".join(f"Nothing{i}=1" for i in range(500))
    bot.send.command("/stock", f"waste Kitchen {lines}", user=ADMIN)
    refused = texts(reply(bot, "500 problems, nothing was posted"))
    assert "Nothing19" in refused and "Nothing20" not in refused
    assert "… and 480 more" in refused
    sheet = "ingredient,quantity\n" + "".join(f"Nothing{i},1\n" for i in range(500))
    share(bot, "FMANY", "count-Kitchen.csv", sheet.encode())
    problems = texts(posted(bot, "Count file count-Kitchen.csv"))
    assert "… and 480 more" in problems and "line 22:" not in problems
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


@pytest.mark.parametrize(
    ("content", "told"),
    [
        (b"ingredient,quantity\nFlour,12\nBa\x00sil,2\n", "line 3: column 'ingredient': a NUL"),
        (
            "ingredient,quantity\nFlour,12\n".encode("utf-16"),
            "line 1: not UTF-8 text (byte 0xff is not UTF-8)",
        ),
        (b"\x89PNG\r\n\x1a\n", "line 1: not UTF-8 text (byte 0x89 is not UTF-8)"),
    ],
    ids=["nul", "utf-16", "binary"],
)
def test_a_count_file_that_is_no_csv_text_is_refused_with_its_place(bot, content, told):
    """A count file was decoded with bad bytes replaced: a UTF-16 or binary file was refused
    for its columns ('unknown column \ufffd\ufffdi'), and a NUL went into an ingredient's
    name. The rules of a till's export and of the CLI's files: nothing is posted."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FODD", "count-Kitchen.csv", content)
    problems = texts(posted(bot, "Count file count-Kitchen.csv has errors"))
    assert told in problems and "unknown column" not in problems
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


def test_the_template_is_offered_as_a_file_per_unit(bot):
    bot.send.command("/stock", "template Bar", user=VIEWER)
    reply(bot, "count-Bar.csv")
    bot.slack.wait_for("files.completeUploadExternal")
    (content,) = bot.slack.uploads.values()
    assert content.decode().splitlines()[0] == "ingredient,quantity,unit"


def test_a_template_asked_with_more_than_its_unit_is_refused_with_the_usage(bot):
    """``/stock template Bar 2026-11-27`` uploaded count-Bar.csv, the date dropped unsaid: a
    count of the 27th uploaded under that name is posted for today. The sheet is the same any
    day, so the word is refused, with the name that counts that day."""
    bot.send.command("/stock", "template Bar 2026-11-27", user=VIEWER)
    told = texts(reply(bot, "is more"))
    assert (
        "`/stock template Bar` ('2026-11-27' is more): the sheet is the same any day; to count "
        "2026-11-27, upload it filled in as count-Bar-2026-11-27.csv"
    ) in told
    bot.send.command("/stock", "template Bar weekly", user=VIEWER)
    weekly = reply(bot, "'weekly' is more").args["text"]
    assert weekly == "`/stock template Bar` ('weekly' is more)", "no day, so no file name"
    bot.send.command("/stock", "template Cantina", user=VIEWER)
    reply(bot, "no storage unit 'Cantina'")
    assert bot.slack.uploads == {}, "nothing uploaded"


def test_a_count_sheet_longer_than_a_modal_is_posted_page_by_page(bot):
    spices = "".join(f"  - {{name: Spice {n:03d}, base_unit: g}}\n" for n in range(120))
    import_catalog(
        bot.database.factory, f"company: Trattoria Esempio\ningredients:\n{spices}", source="s"
    )
    bot.send.command("/stock", "count Pastry 2026-11-30", user=ADMIN)
    first = bot.slack.wait_for("views.open")[-1].args["view"]
    assert first["submit"]["text"] == "Post, next page" and len(first["blocks"]) <= 100
    ids = ingredient_ids(bot)

    def filled(view, names):
        values = {}
        for block in view["blocks"]:
            if block["type"] == "input":
                values[block["block_id"]] = {
                    ActionId.STOCK_QUANTITY: {"type": "number_input", "value": None}
                }
        for name in names:
            key = f"{BlockId.STOCK_INGREDIENT_PREFIX}{ids[name]}"
            if key in values:
                values[key][ActionId.STOCK_QUANTITY]["value"] = "5"
        return values

    answer = bot.send.view_submission(first, filled(first, ["Basil", "Spice 000"]), user=ADMIN)
    following = answer.json()
    assert following["response_action"] == "update"
    second = following["view"]
    assert "Page 2 of 2" in json.dumps(second) and second["submit"]["text"] == "Post count"
    # the sheet still lists what it opened with, and names the count its first page posted
    with bot.database.session() as session:
        first_page = session.scalar(select(StockPosting.id))
    assert len(second["blocks"]) > 20 and f"count {first_page} by <@UADMIN>" in json.dumps(second)
    assert bot.send.view_submission(second, filled(second, ["Spice 119"]), user=ADMIN).text == ""
    with bot.database.session() as session:
        counted = session.scalars(select(StockPosting.id)).all()
    assert len(counted) == 2  # each page posted what it counted
    posted(bot, "Spice 119: 5 g")


def test_a_count_sheet_reads_numbers_by_the_one_rule(bot):
    """The sheet read its inputs with ``Decimal()`` itself: ``1,5`` was refused (every other
    typed quantity takes a decimal comma), ``١٢`` counted 12 and ``1_000`` 1000, unseen."""
    ids = ingredient_ids(bot)

    def refusal(quantity: str) -> str:
        answer = count(bot, "2026-11-26", {"Basil": quantity})
        assert answer.status_code == 200
        return answer.json()["errors"][f"{BlockId.STOCK_INGREDIENT_PREFIX}{ids['Basil']}"]

    assert refusal("١٢") == f"'١٢' is not a number; {write_a_number()}"
    assert refusal("1_000") == f"'1_000' is not a number; {write_a_number()}"
    assert refusal("1.5 g") == "write the number alone, 1.5, without 'g'"  # was "write a number"
    # Basil is counted in g: "1.5, without 'kg'" would have counted 1.5 g
    assert refusal("1.5 kg") == "write the number alone, in g: 1500 (1.5 kg)"
    assert refusal("5 Stück") == "write the number alone, 5, without 'Stück'"
    assert refusal("1e99999999").startswith("'1e99999999' is too large")
    assert count(bot, "2026-11-26", {"Flour": "1,5"}).text == ""
    assert "Flour: 1.5 kg" in texts(posted(bot, "counted in Kitchen for 2026-11-26"))


def test_a_count_sheet_refuses_numbers_in_the_sentence_of_every_surface(bot):
    """The sheet said "NaN is not a finite number; quantities must lie between …" where a CSV
    cell said "'NaN' is not a number; write it with …"; it echoed 1e-400 as 1.000000E-400 and
    12345678901 ungrouped beside the grouped range. Now one sentence, the text as typed."""
    ids = ingredient_ids(bot)

    def refusal(quantity: str) -> str:
        answer = count(bot, "2026-11-26", {"Basil": quantity})
        assert answer.status_code == 200
        return answer.json()["errors"][f"{BlockId.STOCK_INGREDIENT_PREFIX}{ids['Basil']}"]

    for text in ("NaN", "inf", "-Infinity"):
        assert refusal(text) == f"'{text}' is not a number; {write_a_number()}"
    assert refusal("1e-400") == f"'1e-400' has more than 9 decimal places; {QUANTITY_RANGE}"
    assert refusal("12345678901") == f"'12345678901' is too large; {QUANTITY_RANGE}"
    assert QUANTITY_RANGE.startswith("quantities must lie between -999,999,999.999999999 and ")


def test_a_count_file_that_cannot_be_posted_keeps_its_preview_and_cancel_ends_it(bot):
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FCOUNT", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    first = posted(bot, "count-Kitchen-2026-11-26.csv*: Kitchen at the close of 2026-11-26")
    share(bot, "FAGAIN", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    again = [
        call
        for call in bot.slack.calls
        if call.method == "chat.postMessage" and "Kitchen at the close" in texts(call)
    ][-1]
    assert again.ts != first.ts
    bot.send.click(again.ts, ActionId.STOCK_FILE_POST, user=ADMIN)
    bot.drain()
    bot.send.click(first.ts, ActionId.STOCK_FILE_POST, user=ADMIN)  # that day is counted now
    bot.drain()
    with bot.database.session() as session:
        assert len(session.scalars(select(StockPosting.id)).all()) == 1
    # Nothing was posted, so the preview is as it was: its buttons are back, Cancel ends it.
    shown = bot.slack.workspace.message(first.ts)
    assert "Posting the count" not in shown.text + json.dumps(shown.blocks)
    bot.send.click(first.ts, ActionId.STOCK_FILE_CANCEL, user=ADMIN)
    bot.drain()
    shown = bot.slack.workspace.message(first.ts)
    assert shown.text == f"Count file not posted: <@{ADMIN}> cancelled it."
    with pytest.raises(AssertionError, match="shows no stock_file_post button"):
        bot.send.click(first.ts, ActionId.STOCK_FILE_POST, user=ADMIN)


def test_balances_are_a_short_summary_and_show_all_opens_every_line(bot):
    ids = ingredient_ids(bot)
    assert len(ids) > BALANCES_SHOWN
    count(bot, "2026-11-26", {name: str(n + 1) for n, name in enumerate(sorted(ids))})
    posted(bot, "counted in Kitchen for 2026-11-26")
    bot.send.command("/ledger", "balances", user=VIEWER)
    summary = reply(bot, "Stock of Trattoria Esempio")
    shown = bot.slack.workspace.message(summary.ts)
    [unit] = [b for b in shown.blocks if b["type"] == "section"]
    assert unit["text"]["text"].startswith(f"*Kitchen* · {len(ids)} ingredients")
    assert unit["text"]["text"].count("\n") == BALANCES_SHOWN + 1  # the kind, then five lines
    bot.send.click(summary.ts, ActionId.LEDGER_BALANCES_ALL, user=VIEWER)
    view = bot.slack.wait_for("views.open", where=lambda c: "Stock" in texts(c))[-1].args["view"]
    listed = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert all(f"\n{name}: " in f"\n{listed}" for name in ids), listed


def test_a_count_before_the_days_sales_are_transferred_says_the_variance_misses_them(bot):
    """Counted tonight, before tonight's sales are transferred: the report and
    `/ledger variance` say theoretical usage counts none of that day's sales."""
    locations_added(bot.database, date(2026, 11, 1))
    count(bot, "2026-11-26", {"Espresso beans": "2"})
    count(bot, "2026-11-27", {"Espresso beans": "1"})
    note = (
        "Sales of Fri 2026-11-27 at Main room (transferred when its CSV file is imported) are not "
        "transferred yet: theoretical usage counts none of them; run `/ledger variance Kitchen` "
        "again after the transfer."
    )
    assert note in texts(posted(bot, "Variance of Kitchen: 2026-11-26"))
    bot.send.command("/ledger", "variance Kitchen", user=VIEWER)
    assert note in texts(reply(bot, "Variance of Kitchen"))


def test_a_variance_shows_the_largest_few_and_show_all_opens_every_line(bot):
    """Show all lists every line under the message's warning: its days not transferred yet
    are missing from every line's "sold", not only from the five shown."""
    locations_added(bot.database, date(2026, 11, 1))
    ids = ingredient_ids(bot)
    assert len(ids) > VARIANCE_SHOWN
    with bot.database.factory.begin() as session:
        session.execute(update(Ingredient).values(cost=Decimal("1.25")))
    count(bot, "2026-11-26", {name: str(n + 10) for n, name in enumerate(sorted(ids))})
    count(bot, "2026-11-27", {name: "1" for name in ids})
    report = posted(bot, "Variance of Kitchen: 2026-11-26")
    shown = texts(report)
    assert f"{len(ids) - VARIANCE_SHOWN} more: *Show all*." in shown
    note = "Sales of Fri 2026-11-27 at Main room (transferred when its CSV file is imported)"
    assert note in shown
    listed = next(b for b in report.args["blocks"] if "Largest by money" in json.dumps(b))
    assert listed["text"]["text"].count("\n") == VARIANCE_SHOWN
    bot.send.click(report.ts, ActionId.VARIANCE_ALL, user=VIEWER)
    view = bot.slack.wait_for("views.open", where=lambda c: "Variance" in texts(c))[-1]
    blocks = view.args["view"]["blocks"]
    assert blocks[1]["type"] == "context" and note in json.dumps(blocks[1])
    lines = "\n".join(b["text"]["text"] for b in blocks[2:])
    assert all(f"{name}: used " in lines for name in ids), lines


def test_a_count_file_preview_names_no_posting_it_has_not_made(bot):
    """A preview posts nothing: it has no posting number to correct (it said 'Posting None ·
    /stock correct None reverses it')."""
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    share(bot, "FCOUNT", "count-Kitchen-2026-11-26.csv", COUNT_FILE)
    preview = texts(posted(bot, "count-Kitchen-2026-11-26.csv*: Kitchen at the close of"))
    assert "Flour: 12 kg (adjustment 12 kg)" in preview
    assert "None" not in preview
    assert "/stock correct" not in preview


def test_stock_finds_a_storage_unit_case_aside_and_names_the_closest(bot):
    """`/ledger balances kitchen` found the Kitchen; `/stock receive kitchen …` answered
    "which storage unit?" with the whole help, and `/stock waste Kitchn …` too, where the
    README promises the closest names."""
    bot.send.command("/stock", "receive kitchen Flour=2kg", user=ADMIN)
    assert "Flour: 2 kg" in texts(posted(bot, "received in Kitchen"))
    bot.send.command("/stock", "waste Kitchn Flour=1kg", user=ADMIN)
    assert "/stock — what it can do" not in texts(
        reply(bot, "no storage unit 'Kitchn'; did you mean Kitchen?")
    )
    bot.send.command("/stock", "move Kitchen to bar Flour=1kg", user=ADMIN)
    posted(bot, "moved in Kitchen → Bar")


def test_a_form_slack_no_longer_opens_says_so_and_to_try_again(bot, caplog):
    """Slack opens a modal only within 3 s of the command (reference slack.md §1.5); a worker
    behind a long queue may be later, and Slack answers ``expired_trigger_id``. That was
    "Something went wrong" with a reference and a traceback in the log; it is a plain
    answer now (what happened, what to do) and one warning line."""
    caplog.set_level(logging.INFO)
    late = Fault(before=lambda: bot.slack.clock.advance(timedelta(seconds=4)))
    bot.slack.faults.add(late, path="/api/views.open")
    bot.send.command("/stock", "waste Kitchen", user=ADMIN)
    answer = texts(reply(bot, "form"))
    assert "Something went wrong" not in answer
    assert "Slack did not open the form" in answer and "/stock waste" in answer, answer
    bot.drain()
    assert not [c for c in bot.slack.calls if c.method == "views.open"]
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warned] == [
        "Slack did not open the form of /stock: expired_trigger_id (the answer came after "
        "Slack's 3 seconds)"
    ]
    assert warned[0].exc_info is None


def test_bad_lines_of_a_stock_command_say_nothing_was_posted(bot):
    """`/stock receive Kitchen Flour=x` answered "arguments: 1 error, nothing was imported":
    "arguments" is the CLI's word, and a posting imports nothing. Slack now says how many
    problems and that nothing was posted, for a line that does not parse and for one the
    posting refuses alike."""
    for lines, problem in [("Flour=x", "'Flour=x'"), ("Flor=1kg", "unknown ingredient 'Flor'")]:
        bot.send.command("/stock", f"receive Kitchen {lines}", user=ADMIN)
        told = texts(reply(bot, problem))
        assert "1 problem, nothing was posted:" in told, told
        assert "arguments" not in told and "imported" not in told and "your lines" not in told
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


def test_waste_beyond_the_stock_is_posted_with_a_warning_of_what_goes_below_zero(bot):
    """Waste larger than the stock was posted with no word of it. It is still posted (a
    count sets the balance right), and the message names the ingredient and how far below
    zero it now is, rounded in its unit, with the count to post."""
    bot.send.command("/stock", "receive Kitchen Flour=1kg", user=ADMIN)
    assert "below zero" not in texts(posted(bot, "received in Kitchen"))
    bot.send.command("/stock", "waste Kitchen Flour=1333.333g, Basil=20g", user=ADMIN)
    wasted = texts(posted(bot, "wasted in Kitchen"))
    assert (
        ":warning: Now below zero: *Basil* in Kitchen -20 g; *Flour* in Kitchen -0.333 kg. Posted "
        "all the same (stock may go negative); a count sets it right: `/stock count Kitchen`."
    ) in wasted


def test_a_count_sheet_reads_the_companys_clock_once(bot):
    """`/stock count` read today on the company's clock in one transaction and the zone its
    times are shown in in another: a sheet opened at midnight could take its date and its
    times from two readings. Its date and zone come from one reading now."""
    statements: list[tuple[int, str]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((threading.get_ident(), statement))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        bot.send.command("/stock", "count Kitchen", user=ADMIN)
        bot.slack.wait_for("views.open", where=lambda c: "Count Kitchen" in texts(c))
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    (sheet,) = {thread for thread, sql in statements if "FROM stock_count_line" in sql}
    clock = [
        sql
        for thread, sql in statements
        if thread == sheet and "SELECT external_location.timezone" in sql
    ]
    assert len(clock) == 1, clock


def test_waste_or_a_count_dated_after_today_is_refused_before_anything_opens_or_posts(bot):
    """`/stock count Kitchen <next week>` opened a sheet and posted a count that absorbed
    every posting up to it; waste dated ahead was posted too. Both are refused, naming the
    day typed and today's business day; nothing opens, nothing is posted."""
    ahead = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    bot.send.command("/stock", f"count Kitchen {ahead}", user=ADMIN)
    said = texts(reply(bot, f"{ahead} is after today's business day"))
    assert "a count records what has happened; date it " in said
    bot.send.command("/stock", f"waste Kitchen {ahead} Basil=20g", user=ADMIN)
    said = texts(reply(bot, "waste records what has happened"))
    assert f"{ahead} is after today's business day" in said
    assert not [call for call in bot.slack.calls if call.method == "views.open"]
    with bot.database.session() as session:
        assert session.scalar(select(StockPosting.id)) is None


def test_a_workspace_reinstalled_with_fewer_permissions_is_told_which_and_how_to_grant_it(bot):
    """Reinstalled without ``chat:write``: the receipt is posted, its announcement refused
    (``missing_scope``). The admin was told "Something went wrong (reference …)", and might
    post the receipt again; now told what Slack refused, the fix, and that what was done is
    kept."""
    bot.slack.install("xoxb-sandbox", [s for s in BOT_SCOPES if s != "chat:write"])
    bot.send.command("/stock", "receive Kitchen Flour=25kg", user=ADMIN)
    told = texts(reply(bot, "chat:write"))
    assert "Something went wrong" not in told
    assert "install" in told and "kept" in told, told
    with bot.database.session() as session:
        assert session.scalar(select(func.count()).select_from(StockPosting)) == 1


def dated_by_unit(bot) -> dict[tuple[str, str], date]:
    """Each posting's (kind, storage unit) and business date."""
    with bot.database.session() as session:
        rows = session.execute(
            select(StockPosting.kind, StorageUnit.name, StockPosting.business_date).join(
                StorageUnit, StorageUnit.id == StockPosting.storage_unit_id
            )
        ).all()
    return {(kind.value, unit): day for kind, unit, day in rows}


def test_a_posting_typed_before_the_day_start_defaults_to_its_units_business_day(bot):
    """Main room (Kitchen's sales) starts its day at 23:59, so its business day is still
    yesterday on the company's clock: `/stock count Kitchen`, a count file with no date in
    its name and `/stock waste Kitchen` are dated that day, not the calendar's (a count
    dated ahead absorbed the next day's sales into its variance). Bar takes no location's
    sales and stays on the company's date."""
    around = late_day_start(bot.database)
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    bot.send.command("/stock", "count Kitchen", user=ADMIN)
    sheet = texts(bot.slack.wait_for("views.open", where=lambda c: "Count Kitchen" in texts(c))[-1])
    assert any(f"at the close of {day}" in sheet for day in around(business_day)), sheet
    share(bot, "FCOUNT", "count-Kitchen.csv", COUNT_FILE)
    preview = texts(posted(bot, "count-Kitchen.csv*: Kitchen at the close of"))
    assert any(f"at the close of {day}" in preview for day in around(business_day)), preview
    bot.send.command("/stock", "waste Kitchen Basil=20g", user=ADMIN)
    posted(bot, "wasted in Kitchen")
    bot.send.command("/stock", "waste Bar Basil=20g", user=ADMIN)
    posted(bot, "wasted in Bar")
    dated = dated_by_unit(bot)
    assert dated["waste", "Kitchen"] in around(business_day)
    assert dated["waste", "Bar"] in around(calendar_day)
    assert dated["waste", "Kitchen"] < dated["waste", "Bar"]


def test_a_typed_today_or_yesterday_counts_from_the_units_business_day(bot):
    """`today` typed after `/stock count Kitchen` at 01:58, before a 05:00 day start, was
    the calendar's date, a day after the one a count given no date takes: a count ahead of
    the next day's sales, which it absorbed into its variance. A typed `today` is now the
    day the default takes (Kitchen's business day, the calendar's yesterday here), and
    `yesterday` the day before it, wherever it is typed: the count sheet says which day it
    counts, the form's date picker starts on it, lines are posted on it; Bar, which takes
    no location's sales, stays on the company's date, and a move takes the earlier of its
    units'."""
    around = late_day_start(bot.database)
    bot.send.command("/pos", "bind", user=ADMIN)
    reply(bot, "This channel now works for Trattoria Esempio")
    sheets = {
        "count Kitchen today": around(business_day),
        "count yesterday Kitchen": {day - timedelta(days=1) for day in around(business_day)},
    }
    for n, (command, days) in enumerate(sheets.items(), start=1):
        bot.send.command("/stock", command, user=ADMIN)
        opened = texts(bot.slack.wait_for("views.open", n)[-1])
        assert "Count Kitchen" in opened, command
        assert any(f"at the close of {day}." in opened for day in days), (command, opened)
    bot.send.command("/stock", "receive Kitchen today", user=ADMIN)
    form = bot.slack.wait_for("views.open", 3)[-1].args["view"]
    assert date.fromisoformat(picker_of(form)["initial_date"]) in around(business_day)
    bot.send.command("/stock", "waste Kitchen yesterday Basil=20g", user=ADMIN)
    posted(bot, "wasted in Kitchen")
    bot.send.command("/stock", "waste today Bar Basil=20g", user=ADMIN)
    posted(bot, "wasted in Bar")
    bot.send.command("/stock", "move Bar to Kitchen today House red=1", user=ADMIN)
    posted(bot, "moved in Bar")
    dated = dated_by_unit(bot)
    assert dated["waste", "Kitchen"] + timedelta(days=1) in around(business_day)
    assert dated["waste", "Bar"] in around(calendar_day)
    assert dated["move", "Bar"] in around(business_day)
    assert dated["move", "Bar"] < dated["waste", "Bar"]
