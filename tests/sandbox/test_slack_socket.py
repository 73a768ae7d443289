"""The Socket Mode stand-in refuses what Slack refuses: the wrong kind of token, a used
ticket, an ack with a payload where none is accepted."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from stockpot.sandbox.slack_socket import SocketModeStandIn

TOKEN = "xapp-1-A0001-1-test"


@pytest.fixture
def socket():
    with SocketModeStandIn(TOKEN).running() as stand_in:
        yield stand_in


def test_apps_connections_open_takes_only_the_apps_token(socket):
    assert socket.open_connection("") == {"ok": False, "error": "not_authed"}
    assert socket.open_connection("xoxb-1-bot") == {"ok": False, "error": "not_allowed_token_type"}
    assert socket.open_connection("xapp-1-other") == {"ok": False, "error": "invalid_auth"}
    assert socket.open_connection(TOKEN)["url"].startswith("ws://127.0.0.1:")


def test_a_ticket_opens_one_link_and_acks_follow_the_envelopes_rules(socket):
    url = socket.open_connection(TOKEN)["url"]
    with connect(url) as link:
        hello = json.loads(link.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == "A0001"
        event = socket.send("events_api", {"type": "event_callback", "event": {}})
        envelope = json.loads(link.recv(timeout=5))
        assert (envelope["envelope_id"], envelope["retry_attempt"]) == (event, 0)
        assert envelope["accepts_response_payload"] is False
        link.send(json.dumps({"envelope_id": event, "payload": {"text": "no"}}))
        link.send(json.dumps({"envelope_id": event}))
        assert socket.wait_ack(event).payload is None
        assert socket.refused_acks == [{"envelope_id": event, "payload": {"text": "no"}}]
    with pytest.raises(ConnectionClosed), connect(url) as again:
        again.recv(timeout=5)
