"""A local stand-in for Slack: the Web API methods the bot calls (recorded for tests), and a
sender that delivers correctly signed slash commands, interactions and events to the bot.

The bot runs unchanged against it: point ``SLACK_API_URL`` at ``SlackStandIn.api_url``.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from stockpot.sandbox.http import Clock, Request, Response, SandboxServer
from stockpot.sandbox.slack_blockkit import message_problems, view_problems
from stockpot.sandbox.slack_limits import RateLimits
from stockpot.sandbox.slack_sender import SlackSender
from stockpot.sandbox.slack_workspace import Message, Workspace

if TYPE_CHECKING:
    from stockpot.sandbox.slack_socket import SocketModeStandIn

METHODS = frozenset(
    {
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "chat.delete",
        "views.open",
        "views.update",
        "views.push",
        "views.publish",
        "files.info",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "users.info",
        "conversations.info",
        "conversations.history",
        "conversations.replies",
        "conversations.open",
        "files.list",
        "oauth.v2.access",
        "apps.connections.open",
    }
)
"""The Web API methods the stand-in answers; any other is ``unknown_method``, as in Slack."""

TRIGGER_LIFETIME = timedelta(seconds=3)
"""A ``trigger_id`` opens a modal within 3 s of the command or click (reference slack.md
§1.5); ``views.open`` and ``views.push`` need one (§1.6)."""

VIEW_STACK = 3
VIEW_BYTES = 250_000
"""A modal stack holds three views (open and two pushes); a view is at most 250 kB (reference
slack.md §1.6)."""

UPDATE_TEXT = 4000
"""``chat.update`` refuses a ``text`` longer than this with ``msg_too_long`` (its page on
docs.slack.dev: "The `text` field cannot exceed 4,000 characters"); ``chat.postMessage``
takes up to 40,000 and truncates beyond."""

RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
"""A ``response_url`` takes five answers within thirty minutes (reference slack.md §1.5)."""

HISTORY_SCOPES = ("channels:history", "groups:history", "im:history", "mpim:history")
"""``conversations.history`` and ``.replies`` take any one of these; each reads its own kind
of conversation (public channels, private ones, DMs, group DMs)."""

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.delete": ("chat:write",),
    "files.info": ("files:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "users.info": ("users:read",),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.history": HISTORY_SCOPES,
    "conversations.replies": HISTORY_SCOPES,
    "conversations.open": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "files.list": ("files:read",),
}
"""The bot scopes each method accepts (any one of them), from each method's page on
docs.slack.dev; a method not listed needs none (``auth.test``, ``views.*``) or is not called
with a bot token (``oauth.v2.access``, ``apps.connections.open``)."""

REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "chat.postEphemeral": ("user",),
    "views.publish": ("user_id",),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}
"""Arguments each method's page on docs.slack.dev marks required that have no error of their
own (a missing ``channel`` is ``channel_not_found``, ``text`` ``no_text``): Slack answers
``invalid_arguments`` naming them."""

ATTACHMENTS = 100
"""``chat.postMessage``, ``.postEphemeral`` and ``.update`` refuse more attachments than this
(``too_many_attachments``: "A maximum of 100 attachments are allowed on a message")."""

BY_CONVERSATION_ID = frozenset(
    {"chat.update", "chat.delete", "conversations.history", "conversations.replies"}
)
"""Methods that take a conversation's own id: a user id (``U…``, ``W…``) there is
``channel_not_found`` (``chat.update``'s page: "For direct messages, ensure that this value is
a DM ID (starts with D) instead of a User ID"). Only ``chat.postMessage`` takes a user id, and
posts in the app's DM with that user (answering the DM's ``D…`` id)."""

LEGACY_SCOPES = ("commands", "chat:write", "chat:write.public", "users:read", "files:read")
"""What an install granted before the app declared its scopes to the stand-in."""

TOKEN_ERRORS = {
    "not_authed": "No authentication token provided.",
    "invalid_auth": "Some aspect of authentication cannot be validated: the token is invalid.",
    "account_inactive": "Authentication token is for a deleted user or workspace (bot token).",
    "token_revoked": "Authentication token is for a deleted user or workspace or the app has "
    "been removed.",
}
"""How Slack refuses a token, as every method's page on docs.slack.dev lists it: no token is
``not_authed``, a token Slack never issued ``invalid_auth``; a bot token of a workspace that
uninstalled the app is ``account_inactive``, and one revoked (``auth.revoke``, or the
``tokens_revoked`` event) ``token_revoked``."""


@dataclass(frozen=True)
class ApiCall:
    method: str
    args: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict, compare=False)
    """What the stand-in answered (a posted message's ``ts`` is only here)."""

    @property
    def ts(self) -> str | None:
        """The ``ts`` of the message a ``chat.postMessage`` or ``chat.update`` was about."""
        ts = self.answer.get("ts")
        return str(ts) if ts else None


@dataclass
class SlackUser:
    id: str
    name: str
    is_admin: bool = False
    is_owner: bool = False
    tz: str = "Europe/Rome"
    team_id: str | None = None
    """The user's workspace; ``None``: the workspace of whichever token asks."""
    is_bot: bool = False
    deleted: bool = False
    """Deactivated: ``users.info`` still answers, with ``deleted: true``."""
    connected: bool = False
    """A user of another workspace in a channel shared with the asking one (Slack
    Connect): answered with their own ``team_id`` instead of ``user_not_found``."""


class SlackStandIn(SandboxServer):
    """Answers ``/api/<method>`` like Slack does and records every call."""

    def __init__(
        self, *, team_id: str = "T0001", bot_user_id: str = "UBOT", clock: Clock | None = None
    ) -> None:
        super().__init__(clock=clock)
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.users: dict[str, SlackUser] = {}
        self.calls: list[ApiCall] = []
        self.response_arrivals: dict[str, float] = {}
        """``time.perf_counter()`` when each response_url key was first answered (benchmarks
        measure the time from the ack to the answer)."""
        self.installing_team = "T0003"
        """The workspace an app install through ``oauth.v2.access`` lands in."""
        self.installing_user = "UINSTALLER"
        self.installing_scopes: tuple[str, ...] = LEGACY_SCOPES
        """The bot scopes an install through ``oauth.v2.access`` grants (the app's own)."""
        self.tokens: dict[str, frozenset[str]] = {}
        """Installed bot tokens and their scopes (``install``, or an install through
        ``oauth.v2.access``): Slack answers ``invalid_auth`` to any other token."""
        self.token_teams: dict[str, str] = {}
        """The workspace each installed token belongs to (what ``auth.test`` says)."""
        self.dead_tokens: dict[str, str] = {}
        """Tokens that worked once, and the error Slack answers them now (``uninstall``,
        ``revoke``)."""
        self.oauth_client: tuple[str, str] | None = None
        """The app's client id and secret: when set, ``oauth.v2.access`` refuses others
        (``invalid_client_id``, ``bad_client_secret``), as Slack does."""
        self._used_codes: set[str] = set()
        self.outside_channels: set[str] = set()
        """Public channels the bot is not a member of (it is a member of every other one)."""
        self.private_channels: set[str] = set()
        """Of ``outside_channels``, those that are private (invisible to the bot)."""
        self.archived_channels: set[str] = set()
        """Channels archived (``archive``): their history stays readable, nothing is posted
        or edited there."""
        self.absent: set[tuple[str, str]] = set()
        """(channel, user): people not in a channel (``leave``); everyone else is in every
        channel. ``chat.postEphemeral`` to them there is ``user_not_in_channel``."""
        self.dms: dict[str, str] = {}
        """The app's DMs opened so far (``chat.postMessage`` to a user id, or
        ``conversations.open``): the DM's ``D…`` id → the user's id."""
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self.route("POST", r"/api/(?P<method>[\w.]+)", self._api)
        self.route("GET", r"/api/(?P<method>[\w.]+)", self._api)
        self.route("POST", r"/respond/(?P<key>\w+)", self._respond)
        self.route("POST", r"/upload/(?P<file>\w+)", self._upload)
        self.uploads: dict[str, bytes] = {}
        self.shared_files: list[dict[str, Any]] = []
        """Files completed into a channel (``files.list`` lists them)."""
        self.files: dict[str, dict[str, Any]] = {}
        self.route("GET", r"/files/(?P<file>\w+)", self._file)
        self.route("GET", r"/uploaded/(?P<file>\w+)", self._uploaded)
        self.workspace = Workspace(bot_user_id)
        self.upload_names: dict[str, str] = {}
        self.response_targets: dict[str, str] = {}
        """A response URL's key → the ts of the message whose action it answers."""
        self.response_channels: dict[str, str] = {}
        """A response URL's key → the channel its command or click came from."""
        self.response_keys: list[str] = []
        """The key of each response URL answered, in order (an answer twice shows twice)."""
        self.response_issued: dict[str, datetime] = {}
        """A response URL's key → when Slack issued it (its first answer when not issued
        through ``issue_response_url``)."""
        self.triggers: dict[str, datetime] = {}
        """Trigger ids Slack gave out with a command, click or shortcut, and when."""
        self.trigger_lifetime: timedelta | None = TRIGGER_LIFETIME
        """How long a trigger opens a modal: Slack's 3 s (``None`` takes any age), on
        ``clock``. It was off by default, so no test saw a modal opened later than Slack
        allows; the bot's tests open theirs within 0.41 s of the command or click (175
        opens, two test processes on 2 cores), but a loaded machine took over 3 s, so they
        run the stand-in on a clock that stands still (``Clock(now)``): the 3 s pass when a
        test moves it (``clock.advance``), not with the machine's speed."""
        self._view_hashes: dict[str, str] = {}
        """Each open view's id → its current ``hash`` (``views.update`` with another one is a
        ``hash_conflict``)."""
        self.refused_responses: list[tuple[str, str]] = []
        """Answers refused on a response URL: its key and Slack's error."""
        self.rate_limits: RateLimits | None = None
        """Slack's rate limits (``sandbox/slack_limits.py``), off by default: set
        ``RateLimits()`` (``unlisted=True`` for a non-Marketplace app's history limits) to
        answer calls over them ``ratelimited`` with HTTP 429 and ``Retry-After``."""
        self._page: Any = None
        self.socket_mode: SocketModeStandIn | None = None
        """Socket Mode's WebSocket side, once ``enable_socket_mode`` started it."""

    def enable_socket_mode(self, app_token: str = "xapp-1-A0001-1-sandbox") -> SocketModeStandIn:
        """Answer ``apps.connections.open`` for ``app_token`` with a WebSocket of our own
        (stopped with the stand-in)."""
        from stockpot.sandbox.slack_socket import SocketModeStandIn

        self.socket_mode = SocketModeStandIn(app_token).start()
        return self.socket_mode

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.stop()
        super().stop()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def attach_bot(
        self,
        events_url: str,
        signing_secret: str,
        *,
        user_id: str,
        channel_id: str,
        channel_name: str,
        commands: Iterable[str] | None = None,
    ) -> None:
        """Serve the page at ``/`` for one person in one channel, talking to the bot at
        ``events_url`` as Slack would (signed with ``signing_secret``), or over Socket Mode
        once ``enable_socket_mode`` was called. ``commands`` are the app's slash commands
        (Slack answers any other itself); ``None`` sends every command to the bot."""
        from stockpot.sandbox.slack_page import Page
        from stockpot.sandbox.slack_socket import SocketSender

        user = self.users.get(user_id)
        sender = (
            SocketSender(self)
            if self.socket_mode is not None
            else SlackSender(events_url, signing_secret, self)
        )
        self._page = Page(
            stand_in=self,
            sender=sender,
            user_id=user_id,
            user_name=user.name if user else user_id,
            channel_id=channel_id,
            channel_name=channel_name,
            commands=None if commands is None else frozenset(commands),
        )

    def install(self, token: str, scopes: Iterable[str], *, team_id: str | None = None) -> None:
        """The app is installed into ``team_id`` (the stand-in's own workspace by default)
        with ``scopes``, and ``token`` is its bot token: a method the scopes do not allow
        answers ``missing_scope``. A token never installed is ``invalid_auth``, as in Slack."""
        self.tokens[token] = frozenset(scopes)
        self.token_teams[token] = team_id or self.team_id
        self.dead_tokens.pop(token, None)

    def uninstall(self, team_id: str | None = None) -> None:
        """The workspace removes the app: its bot tokens answer ``account_inactive`` from
        now on."""
        team = team_id or self.team_id
        for token in [t for t, owner in self.token_teams.items() if owner == team]:
            self._kill(token, "account_inactive")

    def revoke(self, token: str) -> None:
        """The token is revoked: Slack answers it ``token_revoked`` from now on."""
        self._kill(token, "token_revoked")

    def archive(self, channel: str) -> None:
        """Someone archives ``channel``: ``chat.postMessage`` there answers ``is_archived``
        and ``chat.update`` or ``chat.delete`` of a message there ``is_inactive`` ("cannot
        be edited within a frozen, archived or deleted channel"), as each method's page on
        docs.slack.dev lists them."""
        self.archived_channels.add(channel)

    def leave(self, channel: str, user: str) -> None:
        """``user`` leaves ``channel`` (or was never in it): Slack shows them no ephemeral
        message there (``user_not_in_channel``)."""
        self.absent.add((channel, user))

    def dm_with(self, user: str) -> str:
        """The ``D…`` id of the app's DM with ``user`` (the same one every time, as Slack's)."""
        dm = f"D{user[1:]}"
        self.dms[dm] = user
        return dm

    def _dm_user(self, user: str, token: str) -> SlackUser | None:
        """The person a DM with ``user`` would be with: one Slack knows in the token's
        workspace (or a Slack Connect one), else ``None``."""
        known = self.users.get(user)
        team = self.token_teams.get(token, self.team_id)
        if known is None or (known.team_id not in (None, team) and not known.connected):
            return None
        return known

    def _kill(self, token: str, error: str) -> None:
        self.tokens.pop(token, None)
        self.token_teams.pop(token, None)
        self.dead_tokens[token] = error

    def token_error(self, token: str) -> str | None:
        """What Slack answers a call made with ``token`` before looking at anything else, or
        ``None`` for a live installed token."""
        if not token:
            return "not_authed"
        if token in self.tokens:
            return None
        return self.dead_tokens.get(token, "invalid_auth")

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        is_admin: bool = False,
        team_id: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        connected: bool = False,
    ) -> SlackUser:
        user = SlackUser(
            user_id,
            name,
            is_admin=is_admin,
            team_id=team_id,
            is_bot=is_bot,
            deleted=deleted,
            connected=connected,
        )
        self.users[user_id] = user
        return user

    def _record(self, call: ApiCall) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
    ) -> list[ApiCall]:
        """The calls of ``method`` once there are ``count`` of them (listeners run after the
        HTTP answer, on the bot's threads); fails after ``timeout`` seconds."""

        def matching() -> list[ApiCall]:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise AssertionError(
                    f"expected {count} {method} call(s), got {len(matching())}: "
                    f"{[c.method for c in self.calls]}"
                )
            return matching()

    def _args(self, request: Request) -> dict[str, Any]:
        """The call's arguments: the query string, then a JSON or form body. A body Slack
        cannot read is refused before anything else, with the errors every method's page on
        docs.slack.dev lists: no content type (``missing_post_type``), another than JSON or a
        form (``invalid_post_type``), JSON that does not parse (``invalid_json``) or is not an
        object (``json_not_object``). A ``token`` inside a JSON body is not read: Slack takes
        a JSON call's token only as a bearer token in the ``Authorization`` header."""
        args: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if request.body and not content_type:
            raise _Refused("missing_post_type")
        if request.body and content_type == "application/json":
            try:
                body = json.loads(request.body)
            except ValueError:
                raise _Refused("invalid_json") from None
            if not isinstance(body, dict):
                raise _Refused("json_not_object")
            body.pop("token", None)
            args.update(body)
        elif request.body and content_type == "application/x-www-form-urlencoded":
            args.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
        elif request.body and content_type != "multipart/form-data":
            raise _Refused("invalid_post_type")
        for key in ("blocks", "view", "metadata", "attachments"):
            # One that does not parse stays a string: refused below, by what it must be.
            if isinstance(args.get(key), str):
                with suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args

    def _api(self, request: Request) -> Response:
        method = request.params["method"]
        try:
            args = self._args(request)
        except _Refused as refused:
            return Response.json({"ok": False, "error": refused.error})
        if method == "apps.connections.open":
            return Response.json(self._open_connection(request, args))
        token = _token(request, args)
        scopes = self.tokens.get(token)
        headers = {"X-OAuth-Scopes": ",".join(sorted(scopes))} if scopes is not None else {}
        if method in METHOD_SCOPES:
            headers["X-Accepted-OAuth-Scopes"] = ",".join(METHOD_SCOPES[method])
        wait = self._rate_limited(method, token, args)
        if wait is not None:
            headers["Retry-After"] = str(wait)
            return Response.json({"ok": False, "error": "ratelimited"}, 429, headers)
        refused = (
            self._refusal(method, args, request)
            or self._not_allowed(method, args, scopes)
            or self._conversation_refusal(method, args, token)
            or self._archived(method, args)
            or self._not_updatable(method, args)
        )
        if refused is not None:
            return Response.json(refused, headers=headers)
        answer = self._answer(method, args, token)
        self._show(method, args, answer)
        self._record(ApiCall(method, args, answer))
        return Response.json(answer, headers=headers)

    def _rate_limited(self, method: str, token: str, args: dict[str, Any]) -> int | None:
        """Seconds a call over Slack's rate limit must wait (``rate_limits`` set and the
        token live), else ``None``."""
        if self.rate_limits is None or token not in self.tokens:
            return None
        team = self.token_teams.get(token, self.team_id)
        return self.rate_limits.retry_after(method, team, args, self.clock.now())

    def _conversation_refusal(
        self, method: str, args: dict[str, Any], token: str
    ) -> dict[str, Any] | None:
        """A user id where the method needs a conversation's (``BY_CONVERSATION_ID``), a DM
        with someone Slack does not know (``chat.postMessage``: ``channel_not_found``,
        ``conversations.open``: ``user_not_found``), an ephemeral message for someone not in
        the channel (``leave``; in a DM, anyone but its user): ``user_not_in_channel``."""
        channel = str(args.get("channel") or "")
        if _is_user_id(channel) and (
            method in BY_CONVERSATION_ID
            or (method == "chat.postMessage" and self._dm_user(channel, token) is None)
        ):
            return {"ok": False, "error": "channel_not_found"}
        if method == "chat.postEphemeral":
            user = str(args.get("user") or "")
            if (channel, user) in self.absent or self.dms.get(channel, user) != user:
                return {"ok": False, "error": "user_not_in_channel"}
        if method == "conversations.open":
            return self._open_refusal(args, token)
        return None

    def _open_refusal(self, args: dict[str, Any], token: str) -> dict[str, Any] | None:
        """``conversations.open``: a DM it opened before (``channel``) or one user's
        (``users``); the stand-in opens no group DM (several users), and says so."""
        users = [user.strip() for user in str(args.get("users") or "").split(",") if user.strip()]
        if args.get("channel"):
            found = str(args["channel"]) in self.dms
            return None if found else {"ok": False, "error": "channel_not_found"}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 1:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": ["the stand-in opens 1:1 DMs only"]},
            }
        if self._dm_user(users[0], token) is None:
            return {"ok": False, "error": "user_not_found"}
        return None

    def _archived(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """A post or an edit in an archived channel (``archive``)."""
        if str(args.get("channel") or "") not in self.archived_channels:
            return None
        if method in ("chat.postMessage", "chat.postEphemeral"):
            return {"ok": False, "error": "is_archived"}
        if method in ("chat.update", "chat.delete"):
            return {"ok": False, "error": "is_inactive"}
        return None

    def _not_updatable(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """``chat.update`` (and ``chat.delete``) acts on an existing message of the app's in
        that channel, as in Slack: an unknown ``ts`` (or one of another channel, or an
        ephemeral message, which only ``response_url`` can replace) is ``message_not_found``;
        someone else's message is ``cant_update_message`` (``cant_delete_message``)."""
        if method not in ("chat.update", "chat.delete"):
            return None
        shown = self.workspace.message(str(args.get("ts") or ""))
        if shown is None or shown.ephemeral or shown.channel != str(args.get("channel")):
            return {"ok": False, "error": "message_not_found"}
        if shown.user != self.bot_user_id:
            verb = "update" if method == "chat.update" else "delete"
            return {"ok": False, "error": f"cant_{verb}_message"}
        return None

    def _not_allowed(
        self, method: str, args: dict[str, Any], scopes: frozenset[str] | None
    ) -> dict[str, Any] | None:
        """``missing_scope`` as Slack words it, or a channel the bot may not post in."""
        if scopes is None:
            return None
        accepted = METHOD_SCOPES.get(method, ())
        if method in ("conversations.history", "conversations.replies"):
            # Each kind of conversation is read with its own scope.
            accepted = (_history_scope(str(args.get("channel") or ""), self.private_channels),)
        if accepted and not scopes & set(accepted):
            return {
                "ok": False,
                "error": "missing_scope",
                # Every scope that would do, comma-separated (``provided`` likewise).
                "needed": ",".join(accepted),
                "provided": ",".join(sorted(scopes)),
            }
        channel = str(args.get("channel") or args.get("channel_id") or "")
        if channel not in self.outside_channels:
            return None
        if channel in self.private_channels:
            return {"ok": False, "error": "channel_not_found"}
        if method == "chat.postMessage" and "chat:write.public" in scopes:
            return None
        if method in (
            "chat.postMessage",
            "chat.postEphemeral",
            "files.completeUploadExternal",
            "conversations.history",
            "conversations.replies",
        ):
            return {"ok": False, "error": "not_in_channel"}
        return None

    def _open_connection(self, request: Request, args: dict[str, Any]) -> dict[str, Any]:
        token = _token(request, args)
        if self.socket_mode is None:
            # The app has no Socket Mode (turned off in its settings).
            return {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        answer = self.socket_mode.open_connection(token)
        if answer["ok"]:
            self._record(ApiCall("apps.connections.open", {}))
        return answer

    def _refusal(
        self, method: str, args: dict[str, Any], request: Request
    ) -> dict[str, Any] | None:
        """What Slack answers a request it will not carry out, or ``None``."""
        if method not in METHODS:
            return {"ok": False, "error": "unknown_method"}
        if method == "oauth.v2.access":
            return self._oauth_refusal(request, args)
        error = self.token_error(_token(request, args))
        if error is not None:
            return {"ok": False, "error": error}
        missing = [name for name in REQUIRED_ARGS.get(method, ()) if not args.get(name)]
        if missing:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {
                    "messages": [f"[ERROR] missing required field: {name}" for name in missing]
                },
            }
        problems: list[str] = []
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            if not args.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if not args.get("text") and not args.get("blocks"):
                return {"ok": False, "error": "no_text"}
            if method == "chat.update" and len(str(args.get("text") or "")) > UPDATE_TEXT:
                return {"ok": False, "error": "msg_too_long"}
            if not _is_blocks(args.get("blocks")):
                return {"ok": False, "error": "invalid_blocks_format"}
            attachments = args.get("attachments")
            if isinstance(attachments, list) and len(attachments) > ATTACHMENTS:
                return {"ok": False, "error": "too_many_attachments"}
            problems = message_problems(list(args.get("blocks") or []))
            if "metadata" in args and method != "chat.postEphemeral":
                refused = _metadata_refusal(args["metadata"])
                if refused:
                    return {"ok": False, "error": refused}
        elif method in ("conversations.history", "conversations.replies"):
            return self._history_refusal(method, args)
        elif method.startswith("views."):
            if not isinstance(args.get("view"), dict):
                return {"ok": False, "error": "invalid_arguments"}
            refused = self._view_refusal(method, args)
            if refused:
                return refused
            problems = view_problems(dict(args.get("view") or {}))
        if problems:
            error = "invalid_blocks" if method.startswith("chat.") else "invalid_arguments"
            return {"ok": False, "error": error, "response_metadata": {"messages": problems}}
        return None

    def _history_refusal(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """What ``conversations.history`` / ``.replies`` refuse: no channel
        (``channel_not_found``), a ``ts`` that is not one (``invalid_ts_oldest``,
        ``invalid_ts_latest``), a cursor it never issued (``invalid_cursor``), a thread with no
        such parent (``thread_not_found``)."""
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        for name in ("oldest", "latest"):
            if args.get(name) not in (None, "") and _seconds(args[name]) is None:
                return {"ok": False, "error": f"invalid_ts_{name}"}
        if args.get("cursor") and _offset(str(args["cursor"])) is None:
            return {"ok": False, "error": "invalid_cursor"}
        if method == "conversations.replies":
            ts = str(args.get("ts") or "")
            if not any(m.ts == ts for m in self.workspace.history(channel)):
                return {"ok": False, "error": "thread_not_found"}
        return None

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """A page of a channel's history (newest first) or of a thread (oldest first), as
        Slack answers: ``oldest``/``latest`` bound it (``inclusive`` takes the bounds too),
        ``limit`` (default 100, at most 999) and ``cursor`` page it; a message's
        ``metadata`` is shown only with ``include_all_metadata``."""
        channel = str(args["channel"])
        thread = str(args["ts"]) if method == "conversations.replies" else None
        inclusive = _flag(args.get("inclusive"))
        oldest = _seconds(args.get("oldest") or "0") or 0.0
        latest = _seconds(args.get("latest") or "") or float("inf")

        def within(ts: str) -> bool:
            at = _seconds(ts) or 0.0
            if inclusive:
                return oldest <= at <= latest
            return oldest < at < latest

        found = [m for m in self.workspace.history(channel, thread) if within(m.ts)]
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 999)
        except (TypeError, ValueError):
            limit = 100
        if self.rate_limits is not None:
            limit = self.rate_limits.history_limit(method, limit)
        start = _offset(str(args.get("cursor") or "")) or 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        metadata = _flag(args.get("include_all_metadata"))
        messages = []
        for shown in page:
            listed: dict[str, Any] = {
                "type": "message",
                "ts": shown.ts,
                "user": shown.user,
                "text": shown.text,
                "blocks": shown.blocks,
            }
            if shown.user == self.bot_user_id:
                listed["bot_id"] = "B0001"
            if shown.thread_ts:
                listed["thread_ts"] = shown.thread_ts
            if metadata and shown.metadata:
                listed["metadata"] = shown.metadata
            messages.append(listed)
        cursor = _cursor(start + limit) if more else ""
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    def _files_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.list``: the files shared, newest first, narrowed by ``channel``, ``user``,
        ``ts_from`` and ``ts_to`` (seconds, inclusive), paged by ``count`` (default 100) and
        ``page``."""
        ts_from = _seconds(str(args.get("ts_from") or "0")) or 0.0
        ts_to = _seconds(str(args.get("ts_to") or "")) or float("inf")
        channel, user = args.get("channel"), args.get("user")
        found = [
            f
            for f in reversed(self.shared_files)
            if (not channel or channel in f["channels"])
            and (not user or f["user"] == user)
            and ts_from <= f["created"] <= ts_to
        ]
        try:
            count = max(int(args.get("count") or 100), 1)
            page = max(int(args.get("page") or 1), 1)
        except (TypeError, ValueError):
            count, page = 100, 1
        listed = found[(page - 1) * count : page * count]
        pages = max((len(found) + count - 1) // count, 1)
        return {
            "ok": True,
            "files": listed,
            "paging": {"count": count, "total": len(found), "page": page, "pages": pages},
        }

    def _oauth_refusal(self, request: Request, args: dict[str, Any]) -> dict[str, Any] | None:
        """``oauth.v2.access`` takes the app's client id and secret (HTTP Basic or
        parameters) and a code, which works once."""
        client_id, client_secret = _client_credentials(request, args)
        code = str(args.get("code") or "")
        if self.oauth_client is not None:
            if client_id != self.oauth_client[0]:
                return {"ok": False, "error": "invalid_client_id"}
            if client_secret != self.oauth_client[1]:
                return {"ok": False, "error": "bad_client_secret"}
        if not code or code in self._used_codes:
            return {"ok": False, "error": "invalid_code"}
        self._used_codes.add(code)
        return None

    def _show(self, method: str, args: dict[str, Any], answer: dict[str, Any]) -> None:
        """Keep what a person would see of this call (the page shows it)."""
        board = self.workspace
        if method == "chat.postMessage":
            board.post(
                Message(
                    ts=str(answer["ts"]),
                    channel=str(answer["channel"]),
                    user=self.bot_user_id,
                    text=str(args.get("text") or ""),
                    blocks=list(args.get("blocks") or []),
                    thread_ts=args.get("thread_ts"),
                    metadata=args.get("metadata"),
                )
            )
        elif method == "chat.delete":
            board.delete(str(args.get("ts")))
        elif method == "chat.update":
            board.update(str(args.get("ts")), str(args.get("text") or ""), args.get("blocks") or [])
        elif method == "chat.postEphemeral":
            board.post(
                Message(
                    ts=board.next_ts(),
                    channel=str(args.get("channel")),
                    user=self.bot_user_id,
                    text=str(args.get("text") or ""),
                    blocks=list(args.get("blocks") or []),
                    ephemeral=True,
                )
            )
        elif method in ("views.open", "views.push", "views.publish"):
            board.open_view(answer["view"], push=method == "views.push")
        elif method == "views.update":
            board.update_view(answer["view"])
        elif method == "files.completeUploadExternal":
            files = args.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            channel = str(args.get("channel_id") or "")
            for f in listed:
                name = self.upload_names.get(f["id"], "")
                self.shared_files.append(
                    {
                        "id": f["id"],
                        "created": int(time.time()),
                        "name": name,
                        "title": f.get("title") or name,
                        "user": self.bot_user_id,
                        "channels": [channel] if channel else [],
                    }
                )
            board.post(
                Message(
                    ts=board.next_ts(),
                    channel=str(args.get("channel_id") or ""),
                    user=self.bot_user_id,
                    text=str(args.get("initial_comment") or ""),
                    thread_ts=args.get("thread_ts"),
                    files=[
                        {
                            "id": f["id"],
                            "title": f.get("title") or self.upload_names.get(f["id"], ""),
                            "name": self.upload_names.get(f["id"], ""),
                            "url": f"{self.url}/uploaded/{f['id']}",
                        }
                        for f in listed
                    ],
                )
            )

    def issue_response_url(self, key: str, channel: str, target: str | None = None) -> str:
        """A fresh ``response_url`` for a command or click from ``channel`` (``target``: the
        ts of the message clicked); its five answers and thirty minutes start now."""
        self.response_channels[key] = channel
        if target is not None:
            self.response_targets[key] = target
        self.response_issued[key] = self.clock.now()
        return f"{self.url}/respond/{key}"

    def issue_trigger(self, trigger_id: str) -> str:
        """``trigger_id`` given out now, with a command, click or shortcut."""
        self.triggers[trigger_id] = self.clock.now()
        return trigger_id

    def _view_refusal(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """A view is at most 250 kB (``view_too_large``) and a modal stack three views
        (``views.push`` onto three: ``push_limit_reached``), reference slack.md §1.6 and §5;
        ``views.open`` and ``.push`` take a trigger Slack gave out, within its lifetime
        (§1.5, §1.6: ``invalid_trigger_id``, ``expired_trigger_id``);
        ``views.update`` a view still open (``not_found``: the user closed it, §1.6) and,
        when given, its current ``hash`` (``hash_conflict``: someone updated it since)."""
        if len(json.dumps(args.get("view") or {}).encode()) > VIEW_BYTES:
            return {"ok": False, "error": "view_too_large"}
        if method == "views.push" and len(self.workspace.modals) >= VIEW_STACK:
            return {"ok": False, "error": "push_limit_reached"}
        if method in ("views.open", "views.push"):
            issued = self.triggers.get(str(args.get("trigger_id") or ""))
            if issued is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if self.trigger_lifetime and self.clock.now() - issued > self.trigger_lifetime:
                return {"ok": False, "error": "expired_trigger_id"}
        if method == "views.update":
            view_id = str(args.get("view_id") or "")
            if self.workspace.view(view_id) is None:
                return {"ok": False, "error": "not_found"}
            wanted = args.get("hash")
            if wanted and wanted != self._view_hashes.get(view_id):
                return {"ok": False, "error": "hash_conflict"}
        return None

    def _response_refusal(self, key: str, payload: Any) -> Response | None:
        """Slack takes up to five answers on a ``response_url`` within thirty minutes of the
        command or click (reference slack.md §1.5), and refuses blocks a message may not have
        (§5), an answer that is not a JSON object (``invalid_payload``) or has neither text
        nor blocks (``no_text``; deleting the original needs neither). The wording of the
        refusals is Slack's webhook errors; the reference names only the limits."""
        issued = self.response_issued.setdefault(key, self.clock.now())
        if self.clock.now() - issued > RESPONSE_URL_LIFETIME:
            return Response(404, b"expired_url", {"Content-Type": "text/plain"})
        if self.response_keys.count(key) >= RESPONSE_URL_USES:
            return Response(404, b"used_url", {"Content-Type": "text/plain"})
        if not isinstance(payload, dict):
            return Response(400, b"invalid_payload", {"Content-Type": "text/plain"})
        deleting = _flag(payload.get("delete_original"))
        if not deleting and not payload.get("text") and not payload.get("blocks"):
            return Response(400, b"no_text", {"Content-Type": "text/plain"})
        blocks = payload.get("blocks")
        if not _is_blocks(blocks) or message_problems(list(blocks or [])):
            return Response(400, b"invalid_blocks", {"Content-Type": "text/plain"})
        return None

    def _respond(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            payload = None  # not JSON: invalid_payload
        key = request.params["key"]
        refusal = self._response_refusal(key, payload)
        if refusal is not None:
            self.refused_responses.append((key, refusal.body.decode()))
            return refusal
        self.response_arrivals.setdefault(key, time.perf_counter())
        self.response_keys.append(key)
        channel = self.response_channels.get(key) or (self._page.channel_id if self._page else "")
        original = self.response_targets.get(key)
        if original and payload.get("replace_original"):
            self.workspace.update(
                original, str(payload.get("text", "")), list(payload.get("blocks") or [])
            )
            ts = original
        else:
            ts = self.workspace.answer(channel, self.bot_user_id, payload)
        self._record(ApiCall("response_url", payload, {"ts": ts}))
        return Response(200, b"ok", {"Content-Type": "text/plain"})

    def _uploaded(self, request: Request) -> Response:
        content = self.uploads.get(request.params["file"])
        if content is None:
            return Response(404, b"no such file")
        name = self.upload_names.get(request.params["file"], "")
        kind = "image/png" if name.endswith(".png") else "application/octet-stream"
        return Response(200, content, {"Content-Type": kind})

    def add_file(
        self,
        file_id: str,
        name: str,
        content: bytes,
        *,
        channel: str | None = "C0001",
        user: str = "USHARER",
        url: str | None = None,
        content_type: str = "text/csv",
        share_ts: str = "1700000000.000100",
    ) -> None:
        """A file ``user`` uploaded and shared in ``channel`` (in the message ``share_ts``), or
        shared nowhere when ``channel`` is ``None`` (a modal's file input); ``url`` overrides
        where Slack says it can be downloaded. ``files.info`` names the uploader (``user``)
        and the channels it is shared in (``channels``, ``shares``), as Slack's does."""
        self.files[file_id] = {
            "content": content,
            "content_type": content_type,
            "info": {
                "id": file_id,
                "name": name,
                "user": user,
                "filetype": "csv" if name.endswith(".csv") else "text",
                "size": len(content),
                "url_private_download": url or f"{self.url}/files/{file_id}",
                "channels": [channel] if channel else [],
                "shares": {"public": {channel: [{"ts": share_ts}]}} if channel else {},
            },
        }

    def _file(self, request: Request) -> Response:
        stored = self.files.get(request.params["file"])
        if stored is None or self.token_error(_bearer(request)) is not None:
            return Response.html("<html>Sign in to Slack</html>")
        return Response(200, stored["content"], {"Content-Type": stored["content_type"]})

    def _upload(self, request: Request) -> Response:
        self.uploads[request.params["file"]] = request.body
        return Response(200, b"OK - uploaded", {"Content-Type": "text/plain"})

    def _answer(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any]:
        if method == "oauth.v2.access":
            team = self.installing_team
            self.install(f"xoxb-installed-{team}", self.installing_scopes, team_id=team)
            return {
                "ok": True,
                "app_id": "A0001",
                "authed_user": {"id": self.installing_user},
                "scope": ",".join(self.installing_scopes),
                "token_type": "bot",
                "access_token": f"xoxb-installed-{team}",
                "bot_user_id": self.bot_user_id,
                "team": {"id": team, "name": f"Workspace {team}"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):05d}"
            self.upload_names[file_id] = str(args.get("filename") or "")
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://sandbox.slack.test/",
                "team": "Sandbox",
                "user": "stockpot",
                "team_id": self.token_teams.get(token, self.team_id),
                "user_id": self.bot_user_id,
                "bot_id": "B0001",
            }
        if method in ("chat.postMessage", "chat.update"):
            # One counter for every message of the workspace (the page's too): two messages never
            # share a ts, so an update never lands on another message.
            ts = args.get("ts") or self.workspace.next_ts()
            channel = str(args.get("channel") or "")
            if _is_user_id(channel):  # chat.postMessage to a person: in the app's DM with them
                channel = self.dm_with(channel)
            return {"ok": True, "channel": channel, "ts": ts, "message": args}
        if method == "conversations.open":
            dm = str(args.get("channel") or "") or self.dm_with(str(args["users"]).strip())
            return {"ok": True, "channel": {"id": dm}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.workspace.next_ts()}
        if method.startswith("views."):
            view = dict(args.get("view") or {})
            view.setdefault("id", args.get("view_id") or f"V{next(self._views):05d}")
            view["hash"] = f"{int(time.time())}.{next(self._views):08d}"
            self._view_hashes[str(view["id"])] = view["hash"]
            return {"ok": True, "view": view}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "files.list":
            return self._files_list(args)
        if method == "files.info":
            stored = self.files.get(str(args.get("file")))
            return (
                {"ok": True, "file": stored["info"]}
                if stored
                else {"ok": False, "error": "file_not_found"}
            )
        if method == "users.info":
            return self._user_info(args, self.token_teams.get(token, self.team_id))
        return {"ok": True}

    def _user_info(self, args: dict[str, Any], asking_team: str) -> dict[str, Any]:
        """``users.info`` as its page on docs.slack.dev shows it: the user object (``team_id``,
        ``deleted``, ``is_bot`` …); ``user_not_found`` for an id Slack does not know, or a
        user of another workspace the asking one shares no channel with."""
        user = self.users.get(str(args.get("user")))
        team = (user.team_id or asking_team) if user else asking_team
        if user is None or (team != asking_team and not user.connected):
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": team,
                "name": user.name,
                "deleted": user.deleted,
                "real_name": user.name,
                "tz": user.tz,
                "profile": {"real_name": user.name, "display_name": user.name, "team": team},
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user.is_bot,
                "is_app_user": False,
            },
        }


def _client_credentials(request: Request, args: dict[str, Any]) -> tuple[str, str]:
    """The client id and secret of an ``oauth.v2.access`` call: HTTP Basic, else parameters."""
    header = request.header("authorization") or ""
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header.removeprefix("Basic ").strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")


class _Refused(Exception):
    """A call Slack refuses before reading its arguments, with ``error``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _bearer(request: Request) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; any other header (no
    scheme, ``Basic``, ``Bearer`` alone) carries none."""
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _token(request: Request, args: dict[str, Any]) -> str:
    return _bearer(request) or str(args.get("token") or "")


def _is_user_id(channel: str) -> bool:
    """A person's id (``U…``, or ``W…`` in an Enterprise Grid) where a channel's is asked."""
    return channel[:1] in ("U", "W")


def _is_blocks(blocks: Any) -> bool:
    """``blocks`` is absent or a JSON array of objects (else ``invalid_blocks_format``)."""
    return blocks is None or (
        isinstance(blocks, list) and all(isinstance(block, dict) for block in blocks)
    )


def _history_scope(channel: str, private: set[str]) -> str:
    """The scope that reads ``channel``'s history: a DM's ``im:history``, a private
    channel's ``groups:history``, else (public) ``channels:history``."""
    if channel.startswith("D"):
        return "im:history"
    return "groups:history" if channel in private else "channels:history"


def _metadata_refusal(metadata: Any) -> str | None:
    """Slack's ``metadata`` is an object with a string ``event_type`` and an object
    ``event_payload``; anything else is ``invalid_metadata_format``."""
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        return "invalid_metadata_format"
    return None


def _seconds(ts: Any) -> float | None:
    try:
        value = float(str(ts))
    except ValueError:
        return None
    return value if value >= 0 else None


def _flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"next:{offset}".encode()).decode()


def _offset(cursor: str) -> int | None:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(number) if kind == "next" else None
    except (ValueError, UnicodeDecodeError):
        return None
