"""A stock form submitted again: Slack gives a modal whose submission was not acked within
3 s an error and leaves it open with what was typed, and pressing Submit again sends the same
view (same id) under a new ``trigger_id``, a new delivery. The first submission posted all the
same (its ack was only late), so the second must post nothing: a receipt or waste counted
twice is stock that is not there (over HTTP)."""

from __future__ import annotations

from sqlalchemy import select

from stockpot.bot.ids import ActionId, BlockId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.models import StockPosting
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import texts
from tests.bot.test_stock_slack import ingredient_ids


def _postings(bot) -> list[str]:
    with bot.database.session() as session:
        return [
            k.value for k in session.scalars(select(StockPosting.kind).order_by(StockPosting.id))
        ]


def _announced(bot, what: str) -> int:
    return len([c for c in bot.slack.calls if c.method == "chat.postMessage" and what in texts(c)])


def test_a_receipt_form_submitted_again_after_a_late_ack_posts_once(bot):
    bot.send.command("/stock", "receive Kitchen", user=ADMIN)
    view = {**bot.slack.wait_for("views.open")[-1].args["view"], "id": "VRECEIVE1", "hash": "1.a"}
    values = {
        BlockId.STOCK_LINES: {
            ActionId.STOCK_LINES: {"type": "plain_text_input", "value": "Flour=2kg"}
        },
        BlockId.STOCK_DATE: {ActionId.STOCK_DATE: {"type": "datepicker", "selected_date": None}},
    }
    for _ in range(2):
        assert bot.send.view_submission(view, values, user=ADMIN).text == ""
    bot.drain()
    assert _postings(bot) == ["receipt"]
    assert _announced(bot, "received in Kitchen") == 1, "said once, in the channel"
    # Another form (another view) is another receipt.
    bot.send.command("/stock", "receive Kitchen", user=ADMIN)
    other = {**bot.slack.wait_for("views.open")[-1].args["view"], "id": "VRECEIVE2", "hash": "2.a"}
    assert bot.send.view_submission(other, values, user=ADMIN).text == ""
    bot.drain()
    assert _postings(bot) == ["receipt", "receipt"]


def test_a_count_page_submitted_again_posts_once_and_the_next_page_still_posts(bot):
    """A paged sheet keeps its view id from page to page (``response_action: update``): the
    page is part of what was submitted, so page 2 is posted after page 1 was sent twice."""
    spices = "".join(f"  - {{name: Spice {n:03d}, base_unit: g}}\n" for n in range(120))
    import_catalog(
        bot.database.factory, f"company: Trattoria Esempio\ningredients:\n{spices}", source="s"
    )
    bot.send.command("/stock", "count Pastry 2026-11-30", user=ADMIN)
    first = {**bot.slack.wait_for("views.open")[-1].args["view"], "id": "VCOUNT1", "hash": "1.a"}
    answers = [
        bot.send.view_submission(first, _filled(bot, first, "Spice 000"), user=ADMIN)
        for _ in range(2)
    ]
    assert answers[0].json()["response_action"] == "update"
    # Not "already counted" under the field (it was, by this very form's first submission).
    assert "errors" not in answers[1].text, answers[1].text
    assert _postings(bot) == ["count"]
    second = {**answers[0].json()["view"], "id": "VCOUNT1", "hash": "1.b"}
    answer = bot.send.view_submission(second, _filled(bot, second, "Spice 119"), user=ADMIN)
    assert answer.text == ""
    bot.drain()
    assert _postings(bot) == ["count", "count"]
    assert _announced(bot, "Spice 000: 5 g") == 1 and _announced(bot, "Spice 119: 5 g") == 1


def _filled(bot, view, name: str) -> dict:
    values = {
        block["block_id"]: {ActionId.STOCK_QUANTITY: {"type": "number_input", "value": None}}
        for block in view["blocks"]
        if block["type"] == "input"
    }
    block = f"{BlockId.STOCK_INGREDIENT_PREFIX}{ingredient_ids(bot)[name]}"
    values[block][ActionId.STOCK_QUANTITY]["value"] = "5"
    return values
