"""Buttons and forms whose values come back through the user's client, forged: a catch-up
over a century, a posting number no key can hold, a map form naming a URL off Slack's hosts.
Each is refused with a clear answer and changes, queues and calls nothing (over HTTP)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from stockpot.bot.blocks.mapping import map_modal
from stockpot.bot.blocks.stock import count_modal, stock_form_modal
from stockpot.bot.ids import ActionId, BlockId
from stockpot.bot.metadata import (
    CatchUpValue,
    MapItemMetadata,
    StockCountMetadata,
    StockFormMetadata,
)
from stockpot.core.models import (
    ExternalLocation,
    Ingredient,
    Job,
    JobKind,
    PosItem,
    PosMapping,
    StockKind,
    StockPosting,
    TransferRun,
)
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from stockpot.sandbox.slack import SlackStandIn
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import reply, texts


def _room(bot) -> ExternalLocation:
    with bot.database.session() as session:
        return session.scalar(select(ExternalLocation).where(ExternalLocation.name == "Main room"))


def test_a_forged_catch_up_range_queues_nothing(bot):
    """A Catch up button's range is the client's to send: a century (73,000 transfer jobs
    before) or days not yet due are refused, and so is more than a migration's 400 days."""
    room = _room(bot)
    today = date.today()  # noqa: DTZ011 - the location's today is within a day of it
    for first, last, answer in [
        (date(1900, 1, 1), date(2100, 1, 1), "not one Stockpot made"),
        (today - timedelta(days=3), today + timedelta(days=30), "not one Stockpot made"),
        (date(2001, 1, 1), date(2003, 1, 1), "more than a catch-up takes (400)"),
    ]:
        # Built as the client would send it: the model itself refuses a year outside the
        # dates Stockpot works with.
        value = CatchUpValue.model_construct(location_id=room.id, first=first, last=last).dump()
        bot.send.block_action(ActionId.CATCH_UP, value, user=ADMIN)
        reply(bot, answer)
    bot.drain()
    with bot.database.session() as session:
        assert session.scalar(select(func.count(Job.id)).where(Job.kind == JobKind.TRANSFER)) == 0


def test_a_posting_number_no_key_can_hold_is_a_usage_answer_not_a_crash(bot):
    for number in ("99999999999999999999999999", "²", "-1", "0"):
        bot.send.command("/stock", f"correct {number}", user=ADMIN)
    bot.drain()
    answers = [c for c in bot.slack.calls if c.method == "response_url"]
    assert len(answers) == 4
    assert all("which posting?" in texts(c) for c in answers), [texts(c) for c in answers]


def test_a_map_form_naming_a_list_url_off_slack_s_hosts_never_calls_it(bot):
    """The map form's metadata carries the list to redraw; a URL off SLACK_RESPONSE_HOSTS
    in it (the tests allow 127.0.0.1 only) is never called; the mapping is saved."""
    room = _room(bot)
    run_transfer(
        bot.database.factory,
        room.id,
        date(2026, 11, 27),
        [SaleLine("S1", "1", "101", "Margherita", Decimal(1))],
        RawInput("t", "[]"),
    )
    with bot.database.session() as session:
        item = session.scalar(select(PosItem).where(PosItem.key == "101"))
        flour = session.scalar(select(Ingredient.id).where(Ingredient.name == "Flour"))
    with SlackStandIn().running() as elsewhere:
        evil = f"http://localhost:{elsewhere.url.rsplit(':', 1)[1]}/respond/evil"
        metadata = MapItemMetadata(
            pos_item_id=item.id, channel_id="C0001", company_id=item.company_id, list_url=evil
        ).dump()
        values = {
            BlockId.MAP_TARGET: {
                ActionId.MAP_TARGET: {"selected_option": {"value": f"ingredient:{flour}"}}
            },
            BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: {"value": "0.2"}},
        }
        answer = bot.send.view_submission(
            map_modal(metadata, "Margherita", None), values, user=ADMIN
        )
        assert answer.status_code == 200
        bot.slack.wait_for("chat.postEphemeral", where=lambda c: "is mapped" in json.dumps(c.args))
        bot.drain()
        assert elsewhere.response_keys == []


HUGE = [10**30, 2**31]
"""Ids no key holds: SQLite raised ``OverflowError`` on the first, PostgreSQL's INTEGER on
both ("integer out of range")."""


def test_button_values_naming_ids_no_key_holds_are_refused_not_crashes(bot, caplog):
    """A forged Post to ledger, Catch up or Import naming a 30-digit id answered "Something
    went wrong" after a traceback; each is now "not one Stockpot made" and queues nothing."""
    forged = (
        [
            (ActionId.TRANSFER_POST, {"location_id": huge, "business_date": "2026-11-27"})
            for huge in HUGE
        ]
        + [
            (ActionId.CATCH_UP, {"location_id": huge, "first": "2026-11-20", "last": "2026-11-21"})
            for huge in HUGE
        ]
        + [(ActionId.CSV_IMPORT, {"file_id": "F1", "connection_id": huge}) for huge in HUGE]
    )
    each_refused_as_forged(bot, forged)
    assert "Something went wrong" not in json.dumps([c.args for c in bot.slack.calls])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    with bot.database.session() as session:
        assert session.scalar(select(func.count(Job.id)).where(Job.kind != JobKind.ANSWER)) == 0


def test_dates_in_button_values_outside_the_dates_stockpot_works_with_are_refused(bot, caplog):
    """A forged Post to ledger of 9999-12-31 or Catch up of year 1 queued transfers that
    failed at the POS, which `/pos doctor` then showed as the location's latest day; a
    variance's Show all of years 1 to 9999 read the whole ledger. Each date in a value meets
    the rule typed dates meet, and is refused as "not one Stockpot made"."""
    room = _room(bot)
    forged = [
        (ActionId.TRANSFER_POST, {"location_id": room.id, "business_date": "9999-12-31"}),
        (ActionId.TRANSFER_POST, {"location_id": room.id, "business_date": "0001-01-01"}),
        (
            ActionId.CATCH_UP,
            {"location_id": room.id, "first": "0001-01-01", "last": "0001-01-02"},
        ),
        (
            ActionId.VARIANCE_ALL,
            {"storage_unit": "Kitchen", "opening": "0001-01-01", "closing": "9999-12-31"},
        ),
        # A period running backwards opened "Kitchen, 2026-12-01 → 2026-11-01: 0.00 EUR".
        (
            ActionId.VARIANCE_ALL,
            {"storage_unit": "Kitchen", "opening": "2026-12-01", "closing": "2026-11-01"},
        ),
    ]
    each_refused_as_forged(bot, forged)
    assert not [c for c in bot.slack.calls if c.method == "views.open"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    with bot.database.session() as session:
        assert session.scalar(select(func.count(Job.id)).where(Job.kind != JobKind.ANSWER)) == 0
        assert session.scalar(select(func.count(TransferRun.id))) == 0


def test_a_why_picked_with_dates_outside_the_dates_stockpot_works_with_is_refused(bot):
    """The ledger's Why? picker carries its two days in the option's value, the client's to
    send: a forged 1900 or 9999 was explained, reading the ingredient's whole ledger and
    every run of those years. Its dates meet the rule typed dates meet."""
    forged = [
        ["Flour", "Kitchen", "1900-01-01", "2026-11-01"],
        ["Flour", "Kitchen", "2026-11-01", "9999-12-31"],
    ]
    for value in forged:
        option = {"text": {"type": "plain_text", "text": "Kitchen · Flour"}}
        option["value"] = json.dumps(value)
        picked = {"type": "static_select", "action_id": ActionId.LEDGER_WHY, "block_id": "b"}
        sent = bot.send.action({**picked, "selected_option": option}, user=ADMIN)
        assert sent.status_code == 200
    refused = bot.slack.wait_for(
        "response_url", len(forged), where=lambda c: "not one Stockpot made" in texts(c)
    )
    bot.drain()
    assert len(refused) == len(forged)
    assert not [c for c in bot.slack.calls if "Why Flour" in texts(c)]


def _map_values(target: str, factor: str) -> dict:
    return {
        BlockId.MAP_TARGET: {ActionId.MAP_TARGET: {"selected_option": {"value": target}}},
        BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: {"value": factor}},
    }


def test_forms_with_foreign_shapes_are_refused_in_the_form_not_crashes(bot, caplog):
    """A form's metadata and state come back through the client: a map form for item 10³⁰,
    forms whose inputs are missing or not objects, a count sheet's block naming no
    ingredient id. Each raised (``OverflowError``, ``KeyError``, ``AttributeError``,
    ``ValueError``) into "Something went wrong"; now the form says what is wrong and nothing
    is saved."""
    with bot.database.session() as session:
        item = session.scalar(select(PosItem.id))
        company = session.scalar(select(PosItem.company_id))
    modal = map_modal(
        MapItemMetadata(pos_item_id=item or 1, channel_id="C0001", company_id=company or 1).dump(),
        "Margherita",
        None,
    )
    metadata = json.loads(modal["private_metadata"])
    forged = {**modal, "private_metadata": json.dumps({**metadata, "pos_item_id": 10**30})}
    answer = bot.send.view_submission(forged, _map_values("ingredient:1", "1"), user=ADMIN)
    assert "not one Stockpot made" in answer.text
    for values in ({}, {BlockId.MAP_TARGET: [], BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: 5}}):
        answer = bot.send.view_submission(modal, values, user=ADMIN)
        assert answer.json()["response_action"] == "errors", answer.text
    count = count_modal(
        StockCountMetadata(
            channel_id="C0001",
            company_id=company or 1,
            storage_unit_id=1,
            business_date=date(2026, 11, 27),
        ).dump(),
        "Kitchen",
        date(2026, 11, 27),
        [{"type": "input", "block_id": f"{BlockId.STOCK_INGREDIENT_PREFIX}1", "label": {}}],
        0,
        1,
        (),
        ZoneInfo("UTC"),
    )
    for block in ("abc", "99999999999999999999999999"):
        values = {
            f"{BlockId.STOCK_INGREDIENT_PREFIX}{block}": {ActionId.STOCK_QUANTITY: {"value": "1"}}
        }
        answer = bot.send.view_submission(count, values, user=ADMIN)
        assert "not one Stockpot made" in answer.text, answer.text
    made = StockFormMetadata(
        channel_id="C0001", company_id=company or 1, kind=StockKind.RECEIPT, storage_unit="Kitchen"
    )
    # the kind comes back as the posting's kind (one list of kinds: StockKind), not a str
    assert StockFormMetadata.model_validate_json(made.dump()).kind is StockKind.RECEIPT
    form = stock_form_modal(made.dump(), "receipt", "Kitchen", None)
    assert bot.send.view_submission(form, {}, user=ADMIN).json()["response_action"] == "errors"
    # A kind the form never has: ValueError ("'explode' is not a valid StockKind") before.
    exploding = {**form, "private_metadata": form["private_metadata"].replace("receipt", "explode")}
    answer = bot.send.view_submission(exploding, {}, user=ADMIN)
    assert "not one Stockpot made" in answer.text, answer.text
    # a kind Stockpot has but the form never posts (a count skips the count sheet's checks)
    counting = {**form, "private_metadata": form["private_metadata"].replace("receipt", "count")}
    answer = bot.send.view_submission(counting, {}, user=ADMIN)
    assert "not one Stockpot made" in answer.text, answer.text
    # A date the picker never gives (ValueError, TypeError: "Something went wrong" before).
    for picked in ("2026-02-30", 20261127, "yesterday"):
        lines = {BlockId.STOCK_LINES: {ActionId.STOCK_LINES: {"value": "Flour=2kg"}}}
        dated = {BlockId.STOCK_DATE: {ActionId.STOCK_DATE: {"selected_date": picked}}}
        answer = bot.send.view_submission(form, {**lines, **dated}, user=ADMIN)
        assert "not one the date picker gives" in answer.text, answer.text
    assert "Something went wrong" not in json.dumps([c.args for c in bot.slack.calls])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    with bot.database.session() as session:
        assert session.scalar(select(func.count(PosMapping.id))) == 0
        assert session.scalar(select(func.count(StockPosting.id))) == 0


def each_refused_as_forged(bot, forged: list[tuple[str, dict]]) -> None:
    """Each (action, value) clicked is answered "not one Stockpot made", and nothing else
    is left to do."""
    for action_id, value in forged:
        assert bot.send.block_action(action_id, json.dumps(value), user=ADMIN).status_code == 200
    refused = bot.slack.wait_for(
        "response_url", len(forged), where=lambda c: "not one Stockpot made" in texts(c)
    )
    assert len(refused) == len(forged)
    bot.drain()
