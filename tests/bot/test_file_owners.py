"""Slack file ids that come back from the client (a count file's Post count, a CSV preview's
Import, the file of `/pos csv`'s modal) are input: in a workspace whose channels serve two
companies, an admin of one names a file shared in the other's channel. Stockpot read it with
its bot token, posted it into the presser's company and quoted its lines in its answers. A
file is now read only when it was shared in a channel bound to the presser's company or the
presser uploaded it; anything else is refused, read and posted nowhere (over HTTP)."""

from __future__ import annotations

import json
import logging
from datetime import date

from sqlalchemy import func, select

from stockpot.bot.ids import ActionId
from stockpot.bot.metadata import CsvFileValue, StockFileValue
from stockpot.core.access import bind_channel, link_workspace
from stockpot.core.db import unit_of_work
from stockpot.core.models import Company, CsvImport, LedgerMovement, StockPosting
from tests.bot.conftest import ADMIN, TEAM
from tests.bot.test_csv_upload import _kasse_form, setup, share, value_of
from tests.bot.test_slack_app import posted, reply, texts
from tests.core.csv_import.files import GERMAN

ALTRA_ADMIN, ALTRA_CHANNEL = "UALTRA", "C0002"
COUNT_FILE = b"ingredient,quantity,unit\nFlour,12,kg\nBasil,250,g\n"
REFUSED = "was not shared in a channel of Trattoria Esempio"


def two_companies(bot) -> None:
    """Trattoria's channel C0001 (bound by ``setup``) and Osteria Altra's C0002, in one
    workspace; Altra's admin shared a till export and a count file in C0002."""
    setup(bot)
    with unit_of_work(bot.database.factory) as session:
        altra = session.scalar(select(Company).where(Company.name == "Osteria Altra"))
        link_workspace(session, TEAM, altra, ALTRA_ADMIN)
        bind_channel(session, TEAM, ALTRA_CHANNEL, altra.id)
    bot.slack.add_file("FALTRA", "altra.csv", GERMAN, channel=ALTRA_CHANNEL, user=ALTRA_ADMIN)
    bot.slack.add_file(
        "FALTRACOUNT", "count-Cantina.csv", COUNT_FILE, channel=ALTRA_CHANNEL, user=ALTRA_ADMIN
    )


def counted(bot, model, column) -> int:
    with bot.database.session() as session:
        return session.scalar(select(func.count(column)).select_from(model))


def refusals(caplog, file_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and file_id in r.getMessage()
    ]


def test_a_post_count_naming_another_company_s_file_posts_nothing(bot, caplog):
    """Before: Altra's count file was posted as Trattoria's count of Kitchen."""
    two_companies(bot)
    value = StockFileValue(
        file_id="FALTRACOUNT", storage_unit="Kitchen", business_date=date(2026, 11, 26)
    ).dump()
    bot.send.block_action(ActionId.STOCK_FILE_POST, value, user=ADMIN)
    told = texts(reply(bot, REFUSED))
    assert "nothing was posted" in told and "Flour" not in told
    bot.drain()
    assert counted(bot, StockPosting, StockPosting.id) == 0
    assert len(refusals(caplog, "FALTRACOUNT")) == 1


def test_another_company_s_admin_naming_this_one_s_count_file_is_told_none_of_its_lines(bot):
    """Before: Altra's admin got Trattoria's count file read into Cantina and its lines
    quoted back ("unknown ingredient 'Flour'")."""
    two_companies(bot)
    bot.slack.add_file("FCOUNT", "count-Kitchen.csv", COUNT_FILE)  # shared in Trattoria's C0001
    value = StockFileValue(
        file_id="FCOUNT", storage_unit="Cantina", business_date=date(2026, 11, 26)
    ).dump()
    bot.send.block_action(ActionId.STOCK_FILE_POST, value, user=ALTRA_ADMIN, channel=ALTRA_CHANNEL)
    told = texts(reply(bot, "was not shared in a channel of Osteria Altra"))
    assert "Flour" not in told and "Basil" not in told
    bot.drain()
    assert counted(bot, StockPosting, StockPosting.id) == 0


def test_an_import_naming_another_company_s_file_imports_nothing(bot, caplog):
    """Before: Altra's till export was imported into Trattoria (its sales, its ledger)."""
    two_companies(bot)
    preview = share(bot, "F1", "kasse.csv", GERMAN)  # Trattoria's own preview, in C0001
    forged = CsvFileValue.model_validate_json(value_of(preview, ActionId.CSV_IMPORT))
    forged = forged.model_copy(update={"file_id": "FALTRA"})
    shown = bot.slack.workspace.message(preview.ts).payload()
    button = {"type": "button", "action_id": ActionId.CSV_IMPORT, "value": forged.dump()}
    bot.send.action(button, user=ADMIN, message=shown)
    reply(bot, "Importing, started by <@UADMIN>")
    bot.drain()
    (refused,) = [
        c
        for c in bot.slack.calls
        if c.method == "chat.update" and c.args["ts"] == preview.ts and "refused" in texts(c)
    ]
    assert REFUSED in texts(refused) and "altra.csv" not in texts(refused)
    assert counted(bot, CsvImport, CsvImport.id) == 0
    assert counted(bot, LedgerMovement, LedgerMovement.id) == 0
    assert len(refusals(caplog, "FALTRA")) == 1


def test_pos_csv_reads_a_file_the_presser_uploaded_and_no_other_company_s(bot, caplog):
    """A modal's file input is uploaded by the presser and shared nowhere: it is read. A file
    id put in its place, shared in Altra's channel, is not (before: previewed, rows and all,
    in Trattoria's channel)."""
    two_companies(bot)
    bot.send.command("/pos", "csv", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert bot.send.view_submission(view, _kasse_form(view, "FALTRA"), user=ADMIN).text == ""
    bot.drain()
    refused = texts(posted(bot, "not read"))
    assert REFUSED in refused and "Margherita" not in refused and "5 rows" not in refused
    assert len(refusals(caplog, "FALTRA")) == 1

    bot.slack.add_file("FMINE", "kasse.csv", GERMAN, channel=None, user=ADMIN)
    assert bot.send.view_submission(view, _kasse_form(view, "FMINE"), user=ADMIN).text == ""
    bot.drain()
    assert "read with *Kasse (CSV)*" in texts(posted(bot, "5 rows"))
    assert not [c for c in bot.slack.calls if "Imported" in json.dumps(c.args)]
