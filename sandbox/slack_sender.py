"""What Slack sends to a bot, sent to ours: signed slash commands, interactions and events
over HTTP (``SlackStandIn`` makes one for its page; tests and benchmarks make their own)."""

from __future__ import annotations

import functools
import itertools
import json
import secrets
import ssl
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    from stockpot.sandbox.slack import SlackStandIn


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context, made once: reading the CA bundle takes ~25 ms, and a
    sender is made for every bot a test starts."""
    return httpx.create_ssl_context()


class SlackSender:
    """Delivers to the bot what Slack would: signed, form- or JSON-encoded, over HTTP."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        stand_in: SlackStandIn,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport``: httpx's, where the requests should go other than over the network
        (a benchmark captures them for a load generator that sends them itself)."""
        self.events_url = events_url
        self.stand_in = stand_in
        self._verifier = SignatureVerifier(signing_secret)
        self._http = httpx.Client(timeout=10, verify=_tls(), transport=transport)
        self._responses = itertools.count(1)
        self.last: tuple[bytes, dict[str, str]] | None = None

    def close(self) -> None:
        self._http.close()

    def _trigger_id(self) -> str:
        """Unique like Slack's (``13345224609.738474920.8088930838d88f008e0``), also across
        senders: the bot acts on each trigger once."""
        return self.stand_in.issue_trigger(f"{next(self._responses)}.{secrets.token_hex(10)}")

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signed = (
            signature
            if signature is not None
            else self._verifier.generate_signature(timestamp=stamp, body=body)
        )
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signed,
            **(headers or {}),
        }
        self.last = (body.encode(), sent)
        return self._http.post(self.events_url, content=body.encode(), headers=sent)

    def replay(self) -> httpx.Response:
        """The last request again, byte for byte with its signature: what someone who
        captured it could send within Slack's five minutes."""
        assert self.last is not None, "nothing was sent yet"
        body, headers = self.last
        return self._http.post(self.events_url, content=body, headers=headers)

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str,
        team: str = "T0001",
        channel: str = "C0001",
        response_key: str | None = None,
        response_url: str | None = None,
    ) -> httpx.Response:
        """A slash command; its answers go to ``/respond/<response_key>`` (a fresh key when
        not given), or to ``response_url`` when given."""
        key = response_key or str(next(self._responses))
        issued = self.stand_in.issue_response_url(key, channel)
        body = urlencode(
            {
                "token": "legacy",
                "team_id": team,
                "team_domain": "sandbox",
                "channel_id": channel,
                "channel_name": "inventory",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0001",
                "response_url": response_url or issued,
                "trigger_id": self._trigger_id(),
            }
        )
        return self.post(body, "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def block_action(
        self,
        action_id: str,
        value: str = "",
        *,
        user: str,
        team: str = "T0001",
        channel: str = "C0001",
        state: dict[str, Any] | None = None,
        thread_ts: str | None = None,
    ) -> httpx.Response:
        """A click on a button; ``state`` is the message's inputs (``{block: {action: …}}``),
        ``thread_ts`` the thread the message is in."""
        message: dict[str, Any] = {"ts": "1.0", "text": ""}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return self.action(
            {"type": "button", "action_id": action_id, "block_id": "b", "value": value},
            user=user,
            team=team,
            channel=channel,
            message=message,
            state=state,
        )

    def action(
        self,
        action: dict[str, Any],
        *,
        user: str,
        team: str = "T0001",
        channel: str = "C0001",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A click (or choice) on an element of a message, or of a modal when ``view``;
        ``state`` holds the message's other inputs, as Slack sends them."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "state": {"values": state or {}},
            "team": {"id": team, "domain": "sandbox"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "A0001",
            "trigger_id": self._trigger_id(),
            "actions": [{**action, "action_ts": str(time.time())}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            shown = message or {"ts": "1.0", "text": ""}
            ephemeral = bool(shown.get("ephemeral"))
            payload["channel"] = {"id": channel}
            payload["container"] = {
                "type": "message",
                "channel_id": channel,
                "message_ts": shown["ts"],
                "is_ephemeral": ephemeral,
            }
            if shown.get("thread_ts"):
                payload["container"]["thread_ts"] = shown["thread_ts"]
            if not ephemeral:
                # Slack sends the message itself only for messages in the channel; a click
                # on an ephemeral one comes with its container alone.
                payload["message"] = {k: v for k, v in shown.items() if k != "ephemeral"}
            key = str(next(self._responses))
            payload["response_url"] = self.stand_in.issue_response_url(
                key, channel, str(shown["ts"])
            )
        return self.interaction(payload)

    def click(
        self,
        ts: str,
        action_id: str,
        *,
        user: str,
        team: str = "T0001",
        state: dict[str, Any] | None = None,
        value: str | None = None,
        choose: str | None = None,
    ) -> httpx.Response:
        """A click on the element ``action_id`` of the message ``ts`` as it is shown now (the
        one whose value is ``value``, when several share the id; ``choose``: the option of a
        select to pick): what a person can press. An element the message no longer shows
        cannot be pressed (``AssertionError``)."""
        shown = self.stand_in.workspace.message(ts)
        assert shown is not None, f"no message {ts} in the workspace"
        for block in shown.blocks:
            elements = list(block.get("elements") or [])
            if block.get("accessory"):
                elements.append(block["accessory"])
            for element in elements:
                if element.get("action_id") != action_id:
                    continue
                if value is not None and element.get("value") != value:
                    continue
                action = {**element, "block_id": block.get("block_id") or "b"}
                if choose is not None:
                    options = [o for o in element.get("options") or [] if o["value"] == choose]
                    if not options:
                        continue
                    action["selected_option"] = options[0]
                return self.action(
                    action,
                    user=user,
                    team=team,
                    channel=shown.channel,
                    message=shown.payload(),
                    state=state,
                )
        raise AssertionError(
            f"message {ts} shows no {action_id} button {value or choose or ''}: {shown.text!r}"
        )

    def options(
        self,
        action_id: str,
        value: str,
        *,
        block_id: str,
        user: str,
        team: str = "T0001",
        view: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """What Slack sends while someone types into an external select."""
        return self.interaction(
            {
                "type": "block_suggestion",
                "team": {"id": team, "domain": "sandbox"},
                "user": {"id": user, "team_id": team},
                "api_app_id": "A0001",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "view": view or {"id": "V00001", "type": "modal"},
            }
        )

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        *,
        user: str,
        team: str = "T0001",
    ) -> httpx.Response:
        submitted = {
            **view,
            # A view's id is Slack's, one per modal opened: a form submitted twice keeps it.
            "id": view.get("id") or f"V{secrets.token_hex(5).upper()}",
            "team_id": team,
            "state": {"values": values},
        }
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": team, "domain": "sandbox"},
                "user": {"id": user, "team_id": team},
                "api_app_id": "A0001",
                "trigger_id": self._trigger_id(),
                "view": submitted,
            }
        )

    def event(
        self, event: dict[str, Any], *, team: str = "T0001", event_id: str = "Ev0001"
    ) -> httpx.Response:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": team,
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self.post(body, "application/json")
