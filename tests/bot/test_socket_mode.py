"""The bot over Socket Mode, against the stand-in's WebSocket: the same conversation gives the
same results as over HTTP, a refresh loses no envelope, an unacked event is handled once."""

from __future__ import annotations

import threading

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import connection
from sqlalchemy import func, select

from stockpot.bot.app import build_app
from stockpot.bot.ids import ActionId, BlockId
from stockpot.bot.socket_mode import SocketMode
from stockpot.core.db import unit_of_work
from stockpot.core.locations import link_storage_unit
from stockpot.core.mapping import IngredientChoice, set_mapping
from stockpot.core.models import ExternalLocation, LedgerMovement, PosItem
from tests.bot.conftest import ADMIN, APP_TOKEN, VIEWER
from tests.bot.test_csv_upload import setup as setup_csv
from tests.bot.test_csv_upload import share
from tests.bot.test_slack_app import _ingredient, connect_sides, posted, synced, texts
from tests.core.csv_import.files import GERMAN


def movements(bot) -> int:
    with bot.database.session() as session:
        return session.scalar(select(func.count()).select_from(LedgerMovement))


@pytest.mark.parametrize("transport", ["bot", "socket_bot"])
def test_command_button_modal_and_file_give_the_same_results_over_both_transports(
    database, request, transport
):
    bot = request.getfixturevalue(transport)
    refused = connect_sides(bot, password="wrong")
    assert refused.status_code == 200
    errors = refused.json()
    assert errors["response_action"] == "errors"
    assert (
        "with this password: check the username and password"
        in errors["errors"][BlockId.SIDES_PASSWORD]
    )

    accepted = connect_sides(bot)
    assert (accepted.status_code, accepted.text) == (200, "")
    posted(bot, "connected SIDES for Trattoria Esempio")
    bot.send.command("/pos", "sync", user=ADMIN)
    assert "locations 2 new" in texts(synced(bot))

    with unit_of_work(bot.database.factory) as session:
        store = session.scalar(select(ExternalLocation).where(ExternalLocation.external_id == "36"))
        link_storage_unit(session, store, "Kitchen")
        store.active = True
        cola = session.scalar(select(PosItem).where(PosItem.key == "8001"))
        set_mapping(session, cola, IngredientChoice(_ingredient(session, "House red"), 1))
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow", user=ADMIN)
    preview = posted(bot, "Preview: Pizzeria Beispiel Teltow, 2025-03-14")
    button = next(
        element
        for block in preview.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.TRANSFER_POST
    )
    assert button["value"]
    assert bot.send.click(preview.ts, ActionId.TRANSFER_POST, user=ADMIN).status_code == 200
    # The preview becomes the result (chat.update of the message the button was on).
    bot.slack.wait_for(
        "chat.update", where=lambda c: "Posted: Pizzeria Beispiel Teltow, 2025-03-14" in texts(c)
    )
    assert movements(bot) == 1

    setup_csv(bot)
    shown = texts(share(bot, "F1", "kasse.csv", GERMAN))
    assert "read with *Kasse (CSV)*: cp1252, semicolon, 5 rows" in shown
    if transport == "socket_bot":
        socket = bot.slack.socket_mode
        assert socket.refused_acks == [], "every ack matched an envelope and its payload rules"
        acked = {ack.type for ack in socket.acks}
        assert acked == {"slash_commands", "interactive", "events_api"}


def test_a_refresh_reconnects_without_losing_an_envelope(socket_bot):
    socket = socket_bot.slack.socket_mode
    first = socket.send("slash_commands", _command(socket_bot, 1))
    socket.disconnect("refresh_requested")
    later = [socket.send("slash_commands", _command(socket_bot, n)) for n in range(2, 5)]
    for envelope_id in [first, *later]:
        socket.wait_ack(envelope_id)
    socket.wait_connected(links=2)
    assert socket_bot.slack.wait_for("apps.connections.open", 2)
    answers = socket_bot.slack.wait_for(
        "response_url", 4, where=lambda c: "Locations of Trattoria Esempio" in texts(c)
    )
    socket_bot.work.join()
    assert len(answers) == 4
    assert socket.pending == []


@pytest.fixture
def quiet_links(monkeypatch):
    """Links whose reader waits in ``recv`` for as long as the link is quiet (slack_sdk's
    waits 3 s): a wait that only ends when the link sends something shows as a test that
    fails, not as one 3 s slower."""
    opened = connection._establish_new_socket_connection

    def patient(*args, **kwargs):
        sock = opened(*args, **kwargs)
        sock.settimeout(600)
        return sock

    monkeypatch.setattr(connection, "_establish_new_socket_connection", patient)
    monkeypatch.setattr(connection.Connection, "ping", lambda self, payload="": None)


def test_a_refresh_does_not_hold_envelopes_behind_the_old_link(quiet_links, socket_bot):
    """After ``refresh_requested`` Slack sends nothing more on the old link. The client closed
    it once its reader's ``recv`` there returned, on the thread that takes every envelope off
    the queue: the envelopes arriving on the new link waited for it."""
    socket = socket_bot.slack.socket_mode
    socket.disconnect("refresh_requested")
    socket.wait_connected(links=2)
    envelope = socket.send("slash_commands", _command(socket_bot, 2))
    assert socket.wait_ack(envelope).envelope_id == envelope
    assert socket_bot.slack.wait_for(
        "response_url", 1, where=lambda c: "Locations of Trattoria Esempio" in texts(c)
    )


def test_an_unacked_event_is_redelivered_and_handled_once(socket_bot):
    setup_csv(socket_bot)
    socket = socket_bot.slack.socket_mode
    socket.lose_next_ack()
    share(socket_bot, "F7", "kasse.csv", GERMAN)
    (event,) = [e for e in socket.envelopes if e.type == "events_api"]
    assert (event.deliveries, event.retry_attempt, event.retry_reason) == (2, 1, "timeout")
    socket_bot.drain()
    previews = [c for c in socket_bot.slack.calls if "CSV kasse.csv" in texts(c)]
    assert len(previews) == 1


def test_a_wrong_app_token_is_refused_with_slacks_error(socket_bot):
    app = build_app(socket_bot.settings, socket_bot.database.factory)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        SocketMode(app, APP_TOKEN + "x").connect()
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        SocketMode(app, "xoxb-sandbox").connect()


def _command(bot, number: int) -> dict[str, str]:
    """``/pos locations`` by a viewer, as Slack puts it in an envelope."""
    return {
        "token": "legacy",
        "team_id": "T0001",
        "team_domain": "sandbox",
        "channel_id": "C0001",
        "channel_name": "inventory",
        "user_id": VIEWER,
        "user_name": VIEWER.lower(),
        "command": "/pos",
        "text": "locations",
        "api_app_id": "A0001",
        "response_url": f"{bot.slack.url}/respond/socket{number}",
        "trigger_id": f"trigger.socket{number}",  # Slack gives every command its own
    }


def test_a_close_racing_the_session_runner_ends_its_loop(socket_bot):
    """slack_sdk's session runner sets its state's ``terminated`` to false as it starts a
    session; a close just before that reset was undone, and the runner looped on the closed
    session (sleeping 0.2 s a turn) while the close waited for it for ever: a test's teardown
    hung the suite, and a stop of ``serve`` in Socket Mode would hang the same way."""
    app = build_app(socket_bot.settings, socket_bot.database.factory)
    link = SocketMode(app, APP_TOKEN).connect()
    client = link._handler.client
    state, session = client.current_session_state, client.current_session
    link.close()
    state.terminated = False  # the runner's reset, come after the close
    runner = threading.Thread(target=session.run_until_completion, args=(state,), daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "the closed session's loop ended"
