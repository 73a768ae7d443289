"""The gate in front of Bolt, over real HTTP against the served app: a request that is not
verified, is malformed or is too large is refused before Bolt sees it, with one log line, no
traceback, no body in the log and no outbound call."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt import BoltRequest
from slack_sdk import WebClient

from stockpot.bot.errors import handle_error
from stockpot.bot.gate import EVENT_FIELDS, SlackGate
from stockpot.bot.manifest import BOT_EVENTS
from stockpot.core import log_context
from stockpot.core.settings import SLACK_REQUEST_MAX_BYTES, Settings
from stockpot.sandbox.http import Fault
from tests.bot.conftest import ADMIN, SECRET
from tests.bot.test_slack_app import posted, reply
from tests.holds import Hold
from tests.pos import consented

FORM = "application/x-www-form-urlencoded"


class BlackHole:
    """A host that accepts connections and never answers: anything sent there would hold the
    sender until its timeout. Counts the connections it was offered."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.port = self._socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._socket.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


def payload(kind: str, **fields: object) -> str:
    """An interaction of type ``kind`` from a member, with ``fields``."""
    body = {"type": kind, "user": {"id": ADMIN}, "team": {"id": "T0001"}, **fields}
    return urlencode({"payload": json.dumps(body)})


def event(inner: dict[str, object]) -> str:
    """An Events API delivery of ``inner`` to the test workspace."""
    body = {"type": "event_callback", "team_id": "T0001", "event_id": "Ev1", "event": inner}
    return json.dumps(body)


def test_the_gate_lets_through_exactly_the_events_the_manifest_subscribes_to():
    assert set(EVENT_FIELDS) == set(BOT_EVENTS)


def command_body(response_url: str, **fields: str) -> str:
    return urlencode(
        {
            "command": "/pos",
            "text": "help",
            "team_id": "T0001",
            "user_id": ADMIN,
            "channel_id": "C0001",
            "response_url": response_url,
            "trigger_id": "1.gate",
            **fields,
        }
    )


@pytest.mark.parametrize("signed", [True, False])
def test_malformed_timestamps_reach_nothing_and_real_commands_still_ack(
    bot, black_hole, signed, caplog
):
    caplog.set_level(logging.DEBUG)
    stamps = ["abc", "1796327496.5", "", "1_796_327_496", "-1", "1e9", "0x10", "0" * 13, "9" * 40]
    stamps.append("+1")
    body = command_body(black_hole.url())

    def attack(stamp: str) -> httpx.Response:
        signature = None if signed else "v0=" + "0" * 64
        return bot.send.post(body, FORM, timestamp=stamp, signature=signature)  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(attack, stamps))
    assert [a.status_code for a in answers] == [400] * 10
    assert bot.send.command("/pos", "help", user=ADMIN).status_code == 200
    reply(bot, "what it can do")
    assert black_hole.accepted == []
    assert [c.method for c in bot.slack.calls if c.method == "chat.postEphemeral"] == []
    assert "Traceback" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    assert black_hole.url() not in caplog.text, "the body is never logged"


def test_malformed_requests_get_400_with_one_log_line_and_no_traceback(bot, caplog):
    caplog.set_level(logging.DEBUG)
    marker = "MARKER-" + "x" * 10
    malformed = [
        (urlencode({"payload": "{not json " + marker}), FORM),
        (urlencode({"payload": json.dumps(["a list", marker])}), FORM),
        (urlencode({"payload": json.dumps({"type": "block_actions", "user": marker})}), FORM),
        (urlencode({"text": marker, "team_id": "T0001"}), FORM),
        (json.dumps({"text": marker}), "application/json"),
        ("[" + marker, "application/json"),
        (marker, "text/plain"),
        (marker, ""),
        # Shapes Bolt indexes without looking: each raised inside Bolt (a traceback, then the
        # error handler), or ended in its multi-line "unhandled request" warning.
        ("[" * 100_000 + marker + "]" * 100_000, "application/json"),
        (urlencode({"payload": "[" * 100_000 + "]" * 100_000}), FORM),
        (payload("block_actions", actions=marker), FORM),
        (payload("block_actions", actions=[{"value": marker}]), FORM),
        (payload("block_actions", actions=[]), FORM),
        (payload("view_submission", view=[marker]), FORM),
        (payload("view_closed", view={"id": marker}), FORM),
        (payload("block_suggestion", action_id="a", block_id="b", value=5), FORM),
        (payload("interactive_message", callback_id=marker), FORM),
        (payload("shortcut"), FORM),
        (json.dumps({"type": "event_callback", "event": marker}), "application/json"),
        (json.dumps({"type": "url_verification"}), "application/json"),
        (json.dumps({"type": "something_else", "x": marker}), "application/json"),
        (command_body(marker, command="/evil"), FORM),
        # A command without what Slack always sends: no response_url raised in the answer
        # (Bolt's respond, a traceback); no trigger_id left it without a replay key. A view
        # without its type raised in Bolt's workflow-step matcher: a 500.
        (command_body(""), FORM),
        (command_body(marker, trigger_id=""), FORM),
        (payload("view_submission", view={"callback_id": "map_item", "id": marker}), FORM),
        # Events without the strings their listener reads.
        # Ids this app never made: Bolt's multi-line "Unhandled request" and a 404 before.
        (payload("block_actions", actions=[{"action_id": marker}]), FORM),
        (payload("block_suggestion", action_id=marker, block_id="b", value="x"), FORM),
        (payload("view_submission", view={"callback_id": marker, "type": "modal"}), FORM),
        (payload("view_closed", view={"callback_id": "map_item", "type": "modal"}), FORM),
        (payload("shortcut", callback_id=marker), FORM),
        (event({"type": "app_home_opened", "user": 7, "tab": marker}), "application/json"),
        (event({"type": "app_home_opened", "tab": marker}), "application/json"),
        (event({"type": "file_shared", "file_id": 5, "channel_id": marker}), "application/json"),
    ]
    for body, content_type in malformed:
        answer = bot.send.post(body, content_type)
        assert answer.status_code == 400, (body, answer.text)
    stale = int(time.time()) - 3600
    assert bot.send.post(malformed[0][0], FORM, timestamp=stale).status_code == 401
    assert bot.send.post(malformed[0][0], FORM, signature="v0=" + "1" * 64).status_code == 401
    gate_lines = [r for r in caplog.records if r.name == "stockpot.bot.gate"]
    assert len(gate_lines) == len(malformed) + 2
    assert all(record.exc_info is None for record in caplog.records)
    assert "Traceback" not in caplog.text
    assert marker not in caplog.text
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


def test_an_event_the_manifest_does_not_subscribe_to_is_acked_and_not_run(bot, caplog):
    """An admin may subscribe the app to more events in its settings. Refused, each would
    count as a failed delivery, and Slack may disable every event subscription past 5 % of
    them in an hour (``file_shared`` too): it is acked, one log line, and nothing runs."""
    caplog.set_level(logging.DEBUG)
    marker = "https://never.example/answer"
    answer = bot.send.post(
        event({"type": "member_joined_channel", "user": "U1", "channel": marker}),
        "application/json",
    )
    assert (answer.status_code, answer.text) == (200, "")
    bot.drain()
    gate_lines = [r.getMessage() for r in caplog.records if r.name == "stockpot.bot.gate"]
    assert gate_lines == [
        "acked and ignored a request to /slack/events: an event of type "
        "'member_joined_channel', which the manifest does not subscribe to (remove it from "
        "the app's Event Subscriptions)"
    ]
    assert "Unhandled request" not in caplog.text and marker not in caplog.text
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []
    # Forged, it is refused like any unsigned request.
    forged = event({"type": "member_joined_channel", "user": "U1"})
    assert bot.send.post(forged, "application/json", signature="v0=" + "1" * 64).status_code == 401


def test_slack_s_notice_that_it_drops_events_is_acked_and_logged_as_a_warning(bot, caplog):
    """``app_rate_limited`` comes to the events URL like any delivery; the gate let it
    through to Bolt, which has no listener for it: a 404 (a failed delivery of Slack's own
    notice) and Bolt's "Unhandled request", with nothing saying events were lost."""
    caplog.set_level(logging.INFO)
    notice = {
        "type": "app_rate_limited",
        "team_id": "T0001",
        "minute_rate_limited": 1_764_979_200,
        "api_app_id": "A0001",
    }
    answer = bot.send.post(json.dumps(notice), "application/json")
    assert (answer.status_code, answer.text) == (200, "")
    bot.drain()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "stockpot.bot.gate" and r.levelno == logging.WARNING
    ]
    assert warnings == [
        "acked and ignored a request to /slack/events: Slack dropped the events of workspace "
        "T0001 for the minute starting 2025-12-06 00:00 UTC (over 30,000 events an hour); "
        "files shared in it were not previewed: share them again"
    ]
    assert "Unhandled request" not in caplog.text
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


def test_a_body_that_is_not_utf8_is_refused(bot):
    stamp = str(int(time.time()))
    body = b"command=%2Fpos&text=\xff\xfe"
    mac = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    signature = "v0=" + mac.hexdigest()
    answer = httpx.post(
        bot.send.events_url,
        content=body,
        headers={
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        },
    )
    assert answer.status_code == 400


def test_a_large_body_is_refused_before_it_is_read(bot):
    """A 100 MB Content-Length is answered 413 while the client has sent no byte of it."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as connection:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        status_line = connection.recv(200).split(b"\r\n", 1)[0]
    assert b" 413 " in status_line


def test_a_large_chunked_body_is_refused(bot):
    def chunks():
        for _ in range(SLACK_REQUEST_MAX_BYTES // 65536 + 2):
            yield b"a" * 65536

    answer = httpx.post(bot.send.events_url, content=chunks(), headers={"Content-Type": FORM})
    assert answer.status_code == 413


@pytest.fixture
def strict_bot(database, monkeypatch):
    """The bot with the smallest body limit ``SLACK_REQUEST_MAX_BYTES`` may be set to."""
    from tests.bot.conftest import _running_bot

    yield from _running_bot(database, monkeypatch, {"SLACK_REQUEST_MAX_BYTES": str(256 * 1024)})


def test_the_body_limit_is_the_setting(strict_bot, caplog):
    """A signed, well-formed command just over ``SLACK_REQUEST_MAX_BYTES`` is refused 413
    with one log line; one just under it is a command like any other."""
    bot = strict_bot
    limit = bot.settings.slack.request_max_bytes
    assert limit == 256 * 1024
    url = bot.slack.url + "/respond/big"
    padding = limit - len(command_body(url, pad=""))
    with caplog.at_level(logging.WARNING):
        over = bot.send.post(command_body(url, pad="x" * (padding + 1)), FORM)
    assert over.status_code == 413
    assert [r.getMessage() for r in caplog.records if r.name == "stockpot.bot.gate"] == [
        f"refused a request to /slack/events: the body is larger than {limit} bytes (413)"
    ]
    assert bot.send.post(command_body(url, pad="x" * padding), FORM).status_code == 200
    bot.slack.wait_for("response_url", where=lambda c: "what it can do" in json.dumps(c.args))


@pytest.mark.parametrize("value", ["0", "1024", str(16 * 1024 * 1024 + 1), "1e9", "-1"])
def test_a_body_limit_outside_its_bounds_is_refused(value):
    with pytest.raises(ValueError, match="request_max_bytes"):
        Settings.from_variables(SLACK_REQUEST_MAX_BYTES=value)


def test_the_gate_refuses_a_body_without_a_length_or_above_the_limit():
    """Behind a server that passes chunked bodies through (no Content-Length), the gate itself
    refuses; and its own limit holds whatever the server's is."""
    reached = []

    def inner(environ, start_response):
        reached.append(environ)
        start_response("200 OK", [])
        return [b""]

    gate = SlackGate(inner, SECRET, max_bytes=10)
    statuses = []

    def start_response(status, headers):
        statuses.append(status)

    class Unread:
        def read(self, *_):
            raise AssertionError("the body was read")

    base = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "wsgi.input": Unread()}
    gate({**base}, start_response)
    gate({**base, "CONTENT_LENGTH": "11"}, start_response)
    assert statuses == ["411 Length Required", "413 Content Too Large"]
    assert reached == []


class ContextRecords(logging.Handler):
    """Each record's message with the log context it was written in (``log_context``)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[tuple[str, dict[str, object]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.getMessage(), log_context.current()))


def test_a_response_url_off_slack_s_hosts_is_refused_and_never_called(bot, black_hole):
    """The tests' Slack answers on 127.0.0.1 (``SLACK_RESPONSE_HOSTS``); ``localhost`` is not
    on the list, though it is the same machine. The refusal's log line says which workspace
    sent it: Bolt runs its middleware one after another, so the request's log context is
    bound around its whole dispatch (a middleware's own ``with`` ended before the next)."""
    records = ContextRecords()
    logger = logging.getLogger("stockpot.bot.gate")
    logger.addHandler(records)
    try:
        answer = bot.send.post(
            command_body(black_hole.url(host="localhost"), team_id="T0042"), FORM
        )
    finally:
        logger.removeHandler(records)
    assert answer.status_code == 400
    bot.drain()
    assert black_hole.accepted == []
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []
    [(message, context)] = records.seen
    assert "not on SLACK_RESPONSE_HOSTS (localhost)" in message
    assert context["team_id"] == "T0042" and context["request_id"]


def test_the_error_handler_never_answers_a_request_the_gate_did_not_verify(black_hole):
    """Should anything ever hand Bolt a request around the gate, its error handler answers
    401 and talks to no one."""
    body = command_body(black_hole.url())
    request = BoltRequest(body=body, headers={"content-type": FORM})
    client = WebClient(token="xoxb-unused", base_url=black_hole.url("/api/"), timeout=1)
    answer = handle_error(RuntimeError("boom"), request.body, client, request, "127.0.0.1")
    assert answer.status == 401
    assert black_hole.accepted == []


def test_the_lightspeed_page_answers_while_slack_holds_the_announcement(bot):
    """The callback's message to the channel is posted off the request thread: the page is
    answered while Slack has not answered the post."""
    hold = Hold()
    arrived, release = hold.arrived, hold.release

    bot.send.command("/pos", "connect lightspeed", user=ADMIN)
    offer = reply(bot, "Connect Lightspeed")
    url = next(block["accessory"]["url"] for block in offer.args["blocks"] if "accessory" in block)
    browser = httpx.Client()
    back = consented(browser, url)
    bot.slack.faults.add(Fault(before=hold), path="chat.postMessage", times=1)
    try:
        callback = browser.get(back, timeout=20)
        assert callback.status_code == 200 and "Lightspeed is connected" in callback.text
        assert arrived.wait(20), "the announcement was sent"
        assert not [c for c in bot.slack.calls if "Lightspeed is connected" in json.dumps(c.args)]
    finally:
        release.set()
        browser.close()
    posted(bot, "Lightspeed is connected for Trattoria Esempio")


def test_idle_connections_do_not_shut_slack_out(bot):
    """150 connections that send half a request and wait: past waitress's default limit of
    100 open connections it stopped accepting, and a real command waited beyond Slack's three
    seconds (here: past this client's timeout)."""
    idle = []
    try:
        for _ in range(150):
            connection = socket.create_connection(("127.0.0.1", bot.port), timeout=10)
            connection.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            idle.append(connection)
        bot.send._http.timeout = httpx.Timeout(10)
        assert bot.send.command("/pos", "help", user=ADMIN).status_code == 200
        reply(bot, "what it can do")
    finally:
        for connection in idle:
            connection.close()
