"""Text typed in Slack with a NUL character in it (a search, a CSV profile's name, a storage
unit's address, a stock form's note): PostgreSQL refuses NUL in text, and each of these ended
in "Something went wrong" and a traceback there, while SQLite kept the address with its NUL.
Each is now a clear answer and writes nothing, on both databases (over HTTP)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from stockpot.bot.ids import ActionId, BlockId
from stockpot.core.models import StockPosting, StorageUnit
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import reply, texts

NUL_REFUSED = 'a NUL character ("\\0") is not accepted; remove it'


def _counts(bot) -> tuple[int, int]:
    with bot.database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(StorageUnit)),
            session.scalar(select(func.count()).select_from(StockPosting)),
        )


def test_a_nul_in_typed_text_is_refused_or_found_nowhere_never_a_crash(bot, caplog):
    caplog.set_level(logging.ERROR)
    before = _counts(bot)
    bot.send.command("/pos", "storage add Cellar | Via Ro\x00ma 1", user=ADMIN)
    assert f"an address: {NUL_REFUSED}" in reply(bot, "NUL character").args["text"]
    bot.send.command("/pos", "csv profile Ti\x00ll", user=ADMIN)
    assert "a name cannot contain the control character U+0000" in texts(reply(bot, "U+0000"))
    # A search: no name holds a NUL, so nothing matches (as for a text longer than any name).
    bot.send.command("/pos", "mappings Fl\x00our", user=ADMIN)
    assert "Mappings of Trattoria Esempio" in texts(reply(bot, "Mappings of"))
    answer = bot.send.options(
        ActionId.MAP_TARGET, "Mozz\x00", block_id=BlockId.MAP_TARGET, user=ADMIN
    )
    assert answer.status_code == 200 and answer.json()["option_groups"] == []

    bot.send.command("/stock", "waste Kitchen", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = {
        BlockId.STOCK_LINES: {
            ActionId.STOCK_LINES: {"type": "plain_text_input", "value": "Flour=20g"}
        },
        BlockId.STOCK_DATE: {ActionId.STOCK_DATE: {"type": "datepicker", "selected_date": None}},
        BlockId.STOCK_NOTE: {
            ActionId.STOCK_NOTE: {"type": "plain_text_input", "value": "wil\x00ted"}
        },
    }
    errors = bot.send.view_submission(view, values, user=ADMIN).json()["errors"]
    assert errors == {BlockId.STOCK_NOTE: NUL_REFUSED}, "under the note, where the NUL is"
    bot.drain()
    assert _counts(bot) == before
    assert not [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert "Something went wrong" not in "".join(texts(call) for call in bot.slack.calls)
