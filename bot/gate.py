"""The gate in front of Bolt: nothing reaches a listener, a middleware or the error handler
unless Slack signed it, recently, and it has the shape Slack gives its requests.

Bolt's own verification runs inside ``App.dispatch``, after the body was read whole and parsed;
a timestamp that is not an integer makes it raise, and the global error handler then acted on
the unverified body (it posted to whatever ``response_url`` the body named). The gate runs
before Bolt, on the raw WSGI request, in this order:

1. size: ``Content-Length`` is required and at most ``SLACK_REQUEST_MAX_BYTES`` (411/413),
   checked before a byte is read; a chunked body without a length is refused the same way;
2. timestamp: digits only (400 when malformed), within five minutes of now (401);
3. signature: HMAC-SHA256 of ``v0:<timestamp>:<body>`` compared in constant time (401);
4. shape: a form with a JSON object in ``payload`` or a slash command's fields, or a JSON
   event; anything else is 400.

Each refusal is one log line that names the reason and never the body. A request that passes
carries ``x-stockpot-verified`` with this process's random mark (any such header a client sent
is dropped first), which the error handler checks before it talks to Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from stockpot.bot.commands import COMMANDS
from stockpot.bot.ids import ActionId, CallbackId
from stockpot.bot.slack_files import allowed_host
from stockpot.core.errors import ConfigurationError
from stockpot.core.settings import SLACK_REQUEST_MAX_BYTES, Settings

if TYPE_CHECKING:
    from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

MAX_SKEW_SECONDS = 5 * 60
"""Slack's own rule: a request signed longer ago than this may be a replay."""

VERIFIED_HEADER = "x-stockpot-verified"
VERIFIED_MARK = secrets.token_hex(16)
"""Unguessable per process, so a client cannot send a request that looks verified."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


class Refused(Exception):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Ignored(Exception):
    """A signed, well-formed delivery of an event the manifest does not subscribe to (an
    admin added it in the app's settings): acked and not run. Refused, Slack counted it as a
    failed delivery, and past 5 % of them in an hour it may disable every event subscription
    (``file_shared`` and ``app_home_opened`` included; reference slack.md §1)."""

    level = logging.INFO


class EventsDropped(Ignored):
    """Slack's ``app_rate_limited``: the workspace sent the app over 30,000 events in an hour
    and Slack drops them for the minute it names (reference slack.md §1.4). No listener has
    anything to do, but the operator must hear of it: a CSV shared in that minute got no
    preview."""

    level = logging.WARNING


def _bad(reason: str) -> Refused:
    return Refused("400 Bad Request", reason)


def _unverified(reason: str) -> Refused:
    return Refused("401 Unauthorized", reason)


def signing_secret(settings: Settings) -> str:
    if settings.slack.signing_secret is None:
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page"
        )
    return settings.slack.signing_secret.get_secret_value()


def is_verified(headers: dict[str, Any]) -> bool:
    """Whether the gate let this request through (Bolt's headers: lists of values)."""
    value = headers.get(VERIFIED_HEADER)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return isinstance(value, str) and hmac.compare_digest(value, VERIFIED_MARK)


class SlackGate:
    """WSGI middleware for Slack's endpoint: ``POST`` requests are checked as above before
    ``inner`` (Bolt's handler) sees them; other methods (the install pages) pass through."""

    def __init__(
        self,
        inner: Wsgi,
        signing_secret: str,
        *,
        max_bytes: int = SLACK_REQUEST_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self._secret = signing_secret.encode()
        self.max_bytes = max_bytes
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ.pop("HTTP_X_STOCKPOT_VERIFIED", None)
        if environ.get("REQUEST_METHOD", "GET") != "POST":
            return self.inner(environ, start_response)
        try:
            body = self._check(environ)
        except Refused as refused:
            log.warning(
                "refused a request to %s: %s (%s)",
                environ.get("PATH_INFO", ""),
                refused.reason,
                refused.status.split(" ", 1)[0],
            )
            return _answer(start_response, refused.status, refused.reason)
        except Ignored as ignored:
            log.log(
                ignored.level,
                "acked and ignored a request to %s: %s",
                environ.get("PATH_INFO", ""),
                ignored,
            )
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["HTTP_X_STOCKPOT_VERIFIED"] = VERIFIED_MARK
        return self.inner(environ, start_response)

    def _check(self, environ: dict[str, Any]) -> bytes:
        body = self._read(environ)
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if stamp is None or signature is None:
            raise _unverified("not signed (no X-Slack-Request-Timestamp or X-Slack-Signature)")
        if not _TIMESTAMP.fullmatch(stamp):
            raise _bad("X-Slack-Request-Timestamp is not a whole number of seconds")
        if abs(self.clock() - int(stamp)) > MAX_SKEW_SECONDS:
            raise _unverified("the request was signed more than five minutes from now")
        signed = b"v0:" + stamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret, signed, hashlib.sha256).hexdigest()
        if not (_SIGNATURE.fullmatch(signature) and hmac.compare_digest(expected, signature)):
            raise _unverified("the signature does not match")
        _check_shape(environ.get("CONTENT_TYPE", ""), body)
        return body

    def _read(self, environ: dict[str, Any]) -> bytes:
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit():
            raise Refused("411 Length Required", "the request has no Content-Length")
        size = int(length)
        if size > self.max_bytes:
            raise Refused(
                "413 Content Too Large", f"the body is larger than {self.max_bytes} bytes"
            )
        body = environ["wsgi.input"].read(size)
        if len(body) != size:
            raise _bad("the body is shorter than its Content-Length")
        return bytes(body)


def _check_shape(content_type: str, body: bytes) -> None:
    """Slack's request shapes, so Bolt never parses (and fails on) anything else: Bolt's
    matchers index what Slack always sends (an action's ``action_id``, a view's
    ``callback_id``), and a payload without it raised inside Bolt (a traceback, then the
    error handler) instead of being refused."""
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("the body is not UTF-8") from None
    if kind == _JSON:
        _check_event(_json_object(text, "the body"))
        return
    if kind != _FORM:
        raise _bad(f"unexpected content type {kind or '(none)'}")
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        _check_payload(_json_object(form["payload"][0], "payload"))
        return
    if form.get("ssl_check") == ["1"]:
        return
    missing = [f for f in _COMMAND_FIELDS if not (form.get(f) or [""])[0]]  # blank is missing
    if missing:
        raise _bad(f"a slash command without {', '.join(missing)}")
    if form["command"][0] not in COMMANDS:
        raise _bad("a slash command this app does not have")


_ACTIONS = frozenset(ActionId)
_CALLBACKS = frozenset(CallbackId)
"""The action and form ids this app makes (``bot.ids``); it has no shortcuts, and no form asks
to be told when it is closed (``view_closed``)."""

_COMMAND_FIELDS = ("command", "team_id", "user_id", "channel_id", "response_url", "trigger_id")
"""What Slack sends with every slash command and the app reads without looking: without a
``response_url`` the answer raised inside Bolt (a traceback), without a ``trigger_id`` the
command had no replay key (``bot.replays``)."""


EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "app_home_opened": ("user",),
    "app_uninstalled": (),
    "tokens_revoked": (),
    "file_shared": ("file_id", "channel_id"),
}
"""The events the manifest subscribes to (``bot.manifest.BOT_EVENTS``) and the strings each
listener reads: another event got Bolt's multi-line "Unhandled request" warning and a 404, an
``app_home_opened`` whose user was a number a 500 from waitress, one without a user a
``KeyError``."""


def _check_event(event: dict[str, Any]) -> None:
    """An Events API delivery: an ``event_callback`` with its event, or Slack's URL check."""
    kind = event["type"]
    if kind == "url_verification":
        _field(event, "challenge", str, "url_verification")
    elif kind == "event_callback":
        inner = _field(event, "event", dict, "event_callback")
        subscribed = _field(inner, "type", str, "event_callback's event")
        if subscribed not in EVENT_FIELDS:
            raise Ignored(
                f"an event of type {subscribed!r}, which the manifest does not subscribe to "
                "(remove it from the app's Event Subscriptions)"
            )
        for name in EVENT_FIELDS[subscribed]:
            _field(inner, name, str, f"{subscribed} event")
    elif kind == "app_rate_limited":
        # Passed on, it reached no listener: Bolt's "Unhandled request" warning and a 404,
        # a failed delivery of Slack's own notice.
        raise EventsDropped(
            f"Slack dropped the events of workspace {_word(event.get('team_id'))} for the "
            f"minute starting {_minute(event.get('minute_rate_limited'))} (over 30,000 events "
            "an hour); files shared in it were not previewed: share them again"
        )
    else:
        raise _bad(f"an event delivery of type {kind!r}")


def _word(value: Any) -> str:
    """An id from the body, for a log line: letters and digits only."""
    text = str(value or "")
    return text if re.fullmatch(r"[A-Z0-9]{1,20}", text) else "(not named)"


def _minute(value: Any) -> str:
    """Slack's ``minute_rate_limited`` (Unix seconds) as UTC, for a log line."""
    if not isinstance(value, int) or not 0 < value < 2**33:
        return "(not named)"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _check_payload(payload: dict[str, Any]) -> None:
    """An interaction payload of a type this app handles, with the fields Bolt reads."""
    kind = payload["type"]
    user = payload.get("user")
    if user is not None and not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        raise _bad("payload's user has no id")
    # Ids this app never made got Bolt's multi-line "Unhandled request" warning and a 404.
    if kind == "block_actions":
        actions = _field(payload, "actions", list, kind)
        if not actions or not all(
            isinstance(a, dict) and a.get("action_id") in _ACTIONS for a in actions
        ):
            raise _bad("block_actions' actions are not objects with an action_id of this app")
    elif kind == "block_suggestion":
        for name in ("action_id", "block_id", "value"):
            _field(payload, name, str, kind)
        if payload["action_id"] not in _ACTIONS:
            raise _bad("a block_suggestion for an action_id this app does not have")
    elif kind == "view_submission":
        view = _field(payload, "view", dict, kind)
        # Bolt's matchers read a view's type (is it a workflow step?): a KeyError and a 500.
        for name in ("callback_id", "type"):
            _field(view, name, str, f"{kind}'s view")
        if view["callback_id"] not in _CALLBACKS:
            raise _bad("a view_submission of a form this app does not have")
    else:
        raise _bad(f"a payload of type {kind!r}")


def _field(parent: dict[str, Any], name: str, kind: type, what: str) -> Any:
    value = parent.get(name)
    if not isinstance(value, kind):
        raise _bad(f"{what} has no {name} ({kind.__name__})")
    return value


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise _bad(f"{what} is not JSON (or nested too deep)") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        raise _bad(f"{what} is not a JSON object with a type")
    return parsed


def _answer(start_response: StartResponse, status: str, reason: str) -> list[bytes]:
    body = json.dumps({"error": reason}).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def response_urls(body: dict[str, Any]) -> list[str]:
    """Every address a request asks to be answered at (commands and buttons give one,
    a modal with a conversation picker gives a list)."""
    urls = [body.get("response_url")]
    urls += [
        entry.get("response_url")
        for entry in body.get("response_urls") or []
        if isinstance(entry, dict)
    ]
    return [url for url in urls if url]


def response_hosts_guard(hosts: str) -> Callable[[BoltRequest], BoltResponse | None]:
    """A global middleware (``bot.dispatch.Before``): a request whose ``response_url`` is not
    on Slack's hosts (the ``SLACK_RESPONSE_HOSTS`` setting) is refused before any listener
    could answer there."""
    from slack_bolt import BoltResponse

    def guard(req: BoltRequest) -> BoltResponse | None:
        foreign = [url for url in response_urls(req.body) if not allowed_host(str(url), hosts)]
        if foreign:
            log.warning(
                "refused a request whose response_url is not on SLACK_RESPONSE_HOSTS (%s)",
                urlsplit(str(foreign[0])).hostname,
            )
            return BoltResponse(status=400, body="response_url is not on Slack's hosts")
        return None

    return guard
