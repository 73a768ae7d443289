"""The SIDES form's sign-in check is answered in the ack (a wrong password is shown under the
field), so it must be over within Slack's 3 s; and Slack, when an ack was late all the same,
leaves the modal open and Submit sends the same view again (over HTTP, against the SIDES
sandbox and the Slack stand-in)."""

from __future__ import annotations

from sqlalchemy import func, select

from stockpot.bot.ids import ActionId, BlockId
from stockpot.core.models import Connection, Provider
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import texts
from tests.holds import Hold

VALUES = {
    BlockId.SIDES_USERNAME: {ActionId.SIDES_USERNAME: {"value": DEFAULT_USERNAME}},
    BlockId.SIDES_PASSWORD: {ActionId.SIDES_PASSWORD: {"value": DEFAULT_PASSWORD}},
}


def _form(bot, view_id: str) -> dict:
    """A SIDES form opened (``/pos connect sides``), as Slack shows it: with its own id."""
    opened = len([c for c in bot.slack.calls if c.method == "views.open"])
    bot.send.command("/pos", "connect sides", user=ADMIN)
    views = bot.slack.wait_for("views.open", opened + 1)
    return {**views[-1].args["view"], "id": view_id, "hash": f"{view_id}.a"}


def _sides_connections(bot) -> int:
    with bot.database.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(Connection)
            .where(Connection.provider == Provider.SIDES)
        )


def _announced(bot) -> int:
    return len([c for c in bot.slack.calls if "connected SIDES" in texts(c)])


def test_a_sides_sign_in_slower_than_the_form_s_time_is_told_under_the_field(bot, monkeypatch):
    monkeypatch.setattr(bot.settings, "form_check_seconds", 0.5)
    hold = Hold()
    bot.sides.faults.add(Fault(before=hold), path="/auth/login", times=1)
    try:
        answer = bot.send.view_submission(_form(bot, "VSLOW1"), VALUES, user=ADMIN)
    finally:
        hold.release.set()
    assert hold.arrived.is_set(), "the sign-in reached SIDES"
    assert answer.status_code == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {
            BlockId.SIDES_PASSWORD: "SIDES did not answer within 0.5 s, so nothing was saved: "
            "press Submit to try again"
        },
    }
    assert DEFAULT_PASSWORD not in answer.text
    assert _sides_connections(bot) == 0
    # SIDES answering again, the same form connects.
    assert bot.send.view_submission(_form(bot, "VSLOW1"), VALUES, user=ADMIN).text == ""
    assert _sides_connections(bot) == 1


def test_the_same_form_submitted_again_after_it_connected_answers_connected(bot):
    form = _form(bot, "VSIDES1")
    earlier = _form(bot, "VSIDES2")  # opened before SIDES was connected
    assert bot.send.view_submission(form, VALUES, user=ADMIN).text == ""
    # Slack gave up on the ack: the modal is still open, Submit sends the same view again.
    again = bot.send.view_submission(form, VALUES, user=ADMIN)
    assert again.status_code == 200 and again.text == "", again.text
    assert _sides_connections(bot) == 1
    bot.drain()
    assert _announced(bot) == 1, "said once, by the submission that connected"
    # Another form still meets the company's one SIDES connection.
    other = bot.send.view_submission(earlier, VALUES, user=ADMIN).json()
    assert other["response_action"] == "errors"
    assert "already has a sides connection" in other["errors"][BlockId.SIDES_USERNAME]
    assert _sides_connections(bot) == 1


def test_the_same_sign_in_update_submitted_again_is_said_once(bot):
    assert bot.send.view_submission(_form(bot, "VSIDES1"), VALUES, user=ADMIN).text == ""
    update = _form(bot, "VUPDATE1")
    assert update["submit"]["text"] == "Update"
    for _ in range(2):
        assert bot.send.view_submission(update, VALUES, user=ADMIN).text == ""
    bot.drain()
    said = [c for c in bot.slack.calls if "updated the sign-in of SIDES" in texts(c)]
    assert len(said) == 1
