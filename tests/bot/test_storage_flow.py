"""Storage units renamed and archived from Slack (over HTTP, the running bot): history
follows a rename; an archived unit is no choice and refuses postings, with the way back."""

from __future__ import annotations

from sqlalchemy import select

from stockpot.core.db import unit_of_work
from stockpot.core.ledger import balances
from stockpot.core.lookup import company_by_name
from stockpot.core.models import ExternalLocation, StorageUnit
from tests.bot.conftest import ADMIN, VIEWER
from tests.bot.test_slack_app import reply, texts


def test_rename_and_archive_a_storage_unit(bot):
    bot.send.command("/stock", "receive Kitchen Flour=25kg", user=ADMIN)
    bot.slack.wait_for("chat.postMessage", where=lambda c: "received in Kitchen" in texts(c))
    bot.send.command("/pos", "storage rename Kitchen | Main kitchen", user=VIEWER)
    reply(bot, "you need to be an admin")
    bot.send.command("/pos", "storage rename kitchen | Bar", user=ADMIN)
    reply(bot, "there is already a storage unit named 'Bar'")
    bot.send.command("/pos", "storage rename Kitchen | Main kitchen", user=ADMIN)
    reply(bot, "Storage unit Kitchen is now called Main kitchen; its history follows.")
    with bot.database.session() as session:
        stock = balances(session, company_by_name(session, "Trattoria Esempio"))
    assert [(row.storage_unit, row.ingredient) for row in stock] == [("Main kitchen", "Flour")]

    bot.send.command("/pos", "storage archive Main kitchen", user=ADMIN)
    refusal = texts(reply(bot, "'Main kitchen' cannot be archived"))
    assert "Main room take their sales from it" in refusal
    bot.send.command("/pos", "storage archive Pastry", user=ADMIN)
    assert "the recipes Sponge issue from it" in texts(reply(bot, "'Pastry' cannot be archived"))
    bot.send.command("/pos", "storage add Cellar | Via Roma 1", user=ADMIN)
    reply(bot, "Storage unit Cellar created")
    bot.send.command("/pos", "storage archive cellar", user=ADMIN)
    reply(bot, "Storage unit Cellar is archived: hidden from choices")
    bot.send.command("/pos", "storage", user=VIEWER)
    assert "*Cellar* · Via Roma 1 · 0 locations · archived" in texts(
        reply(bot, "Storage units of Trattoria Esempio")
    )
    bot.send.command("/stock", "receive Cellar Flour=1kg", user=ADMIN)
    reply(bot, "storage unit 'Cellar' is archived: nothing can be posted to it")
    bot.send.command("/pos", "locations", user=ADMIN)
    listing = texts(reply(bot, "Locations of Trattoria Esempio"))
    assert "Main kitchen" in listing and "Cellar" not in listing
    bot.send.command("/pos", "csv profile", user=ADMIN)
    form = texts(bot.slack.wait_for("views.open")[-1])
    assert "Main kitchen" in form and "Cellar" not in form
    with unit_of_work(bot.database.factory) as session:
        location = session.scalar(
            select(ExternalLocation).where(ExternalLocation.name == "Main room")
        )
        cellar = session.scalar(select(StorageUnit).where(StorageUnit.name == "Cellar"))
        assert cellar.archived_at is not None and location.storage_unit_id != cellar.id
    bot.send.command("/pos", "storage unarchive Cellar", user=ADMIN)
    reply(bot, "Storage unit Cellar is in use again.")
    # Said "is in use again" of a unit that was never archived (as after a refused
    # archive): archiving twice was refused, unarchiving twice was not.
    bot.send.command("/pos", "storage unarchive Cellar", user=ADMIN)
    reply(bot, "storage unit 'Cellar' is not archived; nothing changed")
    bot.send.command("/stock", "receive Cellar Flour=1kg", user=ADMIN)
    bot.slack.wait_for("chat.postMessage", where=lambda c: "received in Cellar" in texts(c))
    bot.send.command("/pos", "storage remove Cellar", user=ADMIN)
    reply(bot, "what should change?")
