"""One message that shows long work advancing: posted once, then updated, at most every few
seconds (``chat.update`` is rate-limited), and always at the end."""

from __future__ import annotations

import time

from slack_sdk import WebClient

EVERY = 2.0
"""Seconds between updates."""


class ProgressMessage:
    def __init__(self, client: WebClient, channel: str, text: str) -> None:
        self._client = client
        self._channel = channel
        self._ts = client.chat_postMessage(channel=channel, text=text)["ts"]
        self._last = time.monotonic()

    def update(self, text: str) -> None:
        if time.monotonic() - self._last >= EVERY:
            self.finish(text)

    def finish(self, text: str) -> None:
        self._last = time.monotonic()
        self._client.chat_update(channel=self._channel, ts=self._ts, text=text)
