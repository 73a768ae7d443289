"""The stand-in's web page: one person in one channel, with modals and the App Home.

The page (static files in ``sandbox/slack_ui``) reads ``/ui/state`` and posts what the person
does to ``/ui/...``; each of those becomes what Slack would send the bot, signed, through
``SlackSender``: slash commands with a ``response_url`` back here, block actions from a
message or a modal, options requests while typing into an external select, view submissions
(whose ``response_action`` errors the page shows under their inputs), and events for a shared
file and for opening the App Home.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from stockpot.sandbox.http import Request, Response
from stockpot.sandbox.slack_workspace import Message

if TYPE_CHECKING:
    from stockpot.sandbox.slack import SlackStandIn
    from stockpot.sandbox.slack_sender import SlackSender

STATIC = {"app.js": "text/javascript", "app.css": "text/css", "index.html": "text/html"}
FILE_LIMIT = 50 * 1024 * 1024


@dataclass
class Page:
    stand_in: SlackStandIn
    sender: SlackSender
    user_id: str
    user_name: str
    channel_id: str
    channel_name: str
    commands: frozenset[str] | None = None
    """The slash commands the app declares; Slack answers any other itself. ``None``: all."""

    def __post_init__(self) -> None:
        self._files = itertools.count(1)
        self._events = itertools.count(1)
        routes = [
            ("GET", r"/", lambda r: self._static("index.html")),
            ("GET", r"/ui/(?P<name>app\.js|app\.css)", lambda r: self._static(r.params["name"])),
            ("GET", r"/ui/state", self._state),
            ("POST", r"/ui/command", self._command),
            ("POST", r"/ui/action", self._action),
            ("POST", r"/ui/options", self._options),
            ("POST", r"/ui/submit", self._submit),
            ("POST", r"/ui/close", self._close),
            ("POST", r"/ui/upload", self._upload),
            ("POST", r"/ui/home", self._home),
        ]
        for method, pattern, handler in routes:
            self.stand_in.route(method, pattern, handler)

    @staticmethod
    def _static(name: str) -> Response:
        body = files("stockpot.sandbox.slack_ui").joinpath(name).read_bytes()
        return Response(200, body, {"Content-Type": f"{STATIC[name]}; charset=utf-8"})

    def _state(self, request: Request) -> Response:
        since = int(request.arg("since", "-1") or -1)
        state = self.stand_in.workspace.state(since, wait=10.0 if since >= 0 else 0.0)
        state["me"] = {"id": self.user_id, "name": self.user_name}
        state["channel"] = {"id": self.channel_id, "name": self.channel_name}
        return Response.json(state)

    def _person(self, text: str, **extra: Any) -> None:
        board = self.stand_in.workspace
        board.post(
            Message(
                ts=board.next_ts(), channel=self.channel_id, user=self.user_id, text=text, **extra
            )
        )

    def _command(self, request: Request) -> Response:
        text = str(request.json().get("text", "")).strip()
        if not text.startswith("/"):
            self._person(text)
            return Response.json({"ok": True})
        command, _, rest = text.partition(" ")
        if self.commands is not None and command not in self.commands:
            self._slackbot(
                f"`{command}` is not a valid command. In Slack, all messages that start with "
                'the "/" character are interpreted as commands.\n\nIf you are trying to send a '
                'message and not run a command, try preceding the "/" with an empty space.'
            )
            return Response.json({"ok": False, "error": "invalid_command"})
        answer = self.sender.command(
            command,
            rest.strip(),
            user=self.user_id,
            team=self.stand_in.team_id,
            channel=self.channel_id,
        )
        return self._relay(answer.status_code, answer.text)

    def _slackbot(self, text: str) -> None:
        """What Slack itself says, only to this person (it never reaches the app)."""
        board = self.stand_in.workspace
        board.post(
            Message(
                ts=board.next_ts(),
                channel=self.channel_id,
                user="USLACKBOT",
                text=text,
                ephemeral=True,
            )
        )

    def _action(self, request: Request) -> Response:
        data = request.json()
        action = dict(data["action"])
        view_id = data.get("view_id")
        if view_id:
            view = self.stand_in.workspace.view(str(view_id))
            answer = self.sender.action(
                action, user=self.user_id, team=self.stand_in.team_id, view=view or {}
            )
        else:
            shown = self.stand_in.workspace.message(str(data.get("message_ts")))
            message = shown.payload() if shown else None
            answer = self.sender.action(
                action,
                user=self.user_id,
                team=self.stand_in.team_id,
                channel=self.channel_id,
                message=message,
            )
        return self._relay(answer.status_code, answer.text)

    def _options(self, request: Request) -> Response:
        data = request.json()
        view = self.stand_in.workspace.view(str(data.get("view_id")))
        answer = self.sender.options(
            str(data["action_id"]),
            str(data.get("value", "")),
            block_id=str(data["block_id"]),
            user=self.user_id,
            team=self.stand_in.team_id,
            view=view,
        )
        return Response(answer.status_code, answer.content, {"Content-Type": "application/json"})

    def _submit(self, request: Request) -> Response:
        data = request.json()
        board = self.stand_in.workspace
        view = board.view(str(data["view_id"]))
        if view is None:
            return Response.json({"ok": False, "error": "that modal is closed"}, 404)
        answer = self.sender.view_submission(
            view, data.get("values", {}), user=self.user_id, team=self.stand_in.team_id
        )
        reply: dict[str, Any] = {}
        if answer.text:
            try:
                reply = answer.json()
            except json.JSONDecodeError:
                reply = {}
        action = reply.get("response_action")
        if answer.status_code == 200 and action in (None, "clear"):
            board.close_view(everything=action == "clear")
        elif action in ("update", "push") and reply.get("view"):
            shown = {**reply["view"], "id": view.get("id") if action == "update" else None}
            if action == "update":
                board.update_view(shown)
            else:
                board.open_view({**shown, "id": f"V{board.next_ts()}"}, push=True)
        return Response.json({"status": answer.status_code, **reply})

    def _close(self, request: Request) -> Response:
        self.stand_in.workspace.close_view()
        return Response.json({"ok": True})

    def _upload(self, request: Request) -> Response:
        name = request.header("x-file-name") or "upload.csv"
        if len(request.body) > FILE_LIMIT:
            return Response.json({"ok": False, "error": "file_too_large"}, 413)
        file_id = f"FU{next(self._files):05d}"
        board = self.stand_in.workspace
        shared = board.next_ts()
        if request.header("x-share") == "no":
            # A modal's file input: the file is uploaded, not shared in the channel.
            self.stand_in.add_file(file_id, name, request.body, channel=None, user=self.user_id)
            return Response.json({"file_id": file_id})
        self.stand_in.add_file(
            file_id,
            name,
            request.body,
            channel=self.channel_id,
            user=self.user_id,
            content_type=request.header("content-type") or "text/csv",
            share_ts=shared,
        )
        board.post(
            Message(
                ts=shared,
                channel=self.channel_id,
                user=self.user_id,
                files=[{"id": file_id, "name": name, "title": name, "url": ""}],
            )
        )
        answer = self.sender.event(
            {
                "type": "file_shared",
                "file_id": file_id,
                "user_id": self.user_id,
                "channel_id": self.channel_id,
                "file": {"id": file_id},
                "event_ts": self.stand_in.workspace.next_ts(),
            },
            team=self.stand_in.team_id,
            event_id=f"EvUpload{next(self._events)}",
        )
        return self._relay(answer.status_code, answer.text)

    def _home(self, request: Request) -> Response:
        answer = self.sender.event(
            {"type": "app_home_opened", "user": self.user_id, "tab": "home"},
            team=self.stand_in.team_id,
            event_id=f"EvHome{next(self._events)}",
        )
        return self._relay(answer.status_code, answer.text)

    @staticmethod
    def _relay(status: int, text: str) -> Response:
        return Response.json({"status": status, "body": text[:500]})
