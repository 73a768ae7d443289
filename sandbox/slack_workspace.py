"""What a person in the Slack stand-in sees, kept from the bot's Web API calls: the channel's
messages (with threads, ephemeral answers and files), the open modals and the App Home.

The page (``sandbox/slack_ui``) polls ``state()``; whatever the person does there is sent to
the bot signed, exactly as Slack would send it, by ``SlackSender``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

MESSAGE_TEXT = 40_000
"""Slack keeps the first 40,000 characters of a message's ``text`` (reference slack.md §5)."""


@dataclass
class Message:
    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    ephemeral: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    """The app's message ``metadata`` (``event_type``, ``event_payload``), if it sent any."""

    def __post_init__(self) -> None:
        self.text = self.text[:MESSAGE_TEXT]

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "channel": self.channel,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "thread_ts": self.thread_ts,
            "ephemeral": self.ephemeral,
            "files": self.files,
        }

    def payload(self) -> dict[str, Any]:
        """The message as Slack puts it into a click's payload (``ephemeral`` tells
        ``SlackSender.action`` to leave it out, as Slack does for ephemeral messages)."""
        shown: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
        }
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if self.ephemeral:
            shown["ephemeral"] = True
        return shown


class Workspace:
    """One channel, its modals and the App Home, as the bot has shaped them so far."""

    def __init__(self, bot_user: str) -> None:
        self.bot_user = bot_user
        self.messages: list[Message] = []
        self.modals: list[dict[str, Any]] = []
        self.home: dict[str, Any] | None = None
        self.version = 0
        self._last_ts = 0
        self._lock = threading.Condition()

    def next_ts(self) -> str:
        """A new message's ``ts``: the time it was posted to the microsecond, as Slack's,
        and unique in the workspace (two messages in one microsecond get the next one)."""
        with self._lock:
            micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
            self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def history(self, channel: str, thread_ts: str | None = None) -> list[Message]:
        """The channel's messages everyone sees, newest first: those not in a thread, or the
        thread ``thread_ts`` (its parent first, then replies, oldest first, as Slack lists
        ``conversations.replies``)."""
        with self._lock:
            shown = [m for m in self.messages if m.channel == channel and not m.ephemeral]
        if thread_ts is None:
            top = [m for m in shown if m.thread_ts in (None, m.ts)]
            return sorted(top, key=lambda m: _ts_key(m.ts), reverse=True)
        thread = [m for m in shown if m.ts == thread_ts or m.thread_ts == thread_ts]
        return sorted(thread, key=lambda m: _ts_key(m.ts))

    def _changed(self) -> None:
        self.version += 1
        self._lock.notify_all()

    def state(self, since: int = -1, wait: float = 0.0) -> dict[str, Any]:
        """The page's view of everything; waits up to ``wait`` seconds for a change."""
        with self._lock:
            if wait and self.version <= since:
                self._lock.wait_for(lambda: self.version > since, timeout=wait)
            return {
                "version": self.version,
                "messages": [m.to_json() for m in self.messages],
                "modal": self.modals[-1] if self.modals else None,
                "home": self.home,
            }

    def post(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)
            self._changed()

    def update(self, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        with self._lock:
            for message in self.messages:
                if message.ts == ts:
                    message.text, message.blocks = text[:MESSAGE_TEXT], blocks
            self._changed()

    def delete(self, ts: str) -> bool:
        """The message ``ts`` is deleted (by someone in the channel, or ``chat.delete``)."""
        with self._lock:
            kept = [message for message in self.messages if message.ts != ts]
            deleted = len(kept) != len(self.messages)
            self.messages[:] = kept
            self._changed()
            return deleted

    def answer(self, channel: str, user: str, payload: dict[str, Any]) -> str:
        """A ``response_url`` answer: private unless it says ``in_channel``; returns its ts."""
        ts = self.next_ts()
        self.post(
            Message(
                ts=ts,
                channel=channel,
                user=self.bot_user,
                text=str(payload.get("text", "")),
                blocks=list(payload.get("blocks") or []),
                ephemeral=payload.get("response_type") != "in_channel",
            )
        )
        return ts

    def open_view(self, view: dict[str, Any], *, push: bool = False) -> None:
        with self._lock:
            if view.get("type") == "home":
                self.home = view
            elif push or not self.modals:
                self.modals.append(view)
            else:
                self.modals = [view]
            self._changed()

    def update_view(self, view: dict[str, Any]) -> None:
        with self._lock:
            for index, shown in enumerate(self.modals):
                if shown.get("id") == view.get("id"):
                    self.modals[index] = view
            self._changed()

    def close_view(self, *, everything: bool = False) -> None:
        with self._lock:
            if everything:
                self.modals.clear()
            elif self.modals:
                self.modals.pop()
            self._changed()

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((v for v in self.modals if v.get("id") == view_id), None)

    def message(self, ts: str) -> Message | None:
        with self._lock:
            return next((m for m in self.messages if m.ts == ts), None)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
