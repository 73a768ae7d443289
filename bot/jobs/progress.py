"""One message that shows long work advancing: posted once, then updated, at most every few
seconds (``chat.update`` is rate-limited), and always at the end. Its ``ts`` is kept by the
job, so a retry on another worker goes on updating the same message."""

from __future__ import annotations

import time
from typing import Any

from stockpot.bot.jobs.slack import Notifier, Target

EVERY = 2.0
"""Seconds between updates."""


class ProgressMessage:
    def __init__(self, notifier: Notifier, target: Target | None, ts: str | None = None) -> None:
        self._notifier = notifier
        self._target = target
        self.ts = ts
        self._last = time.monotonic()

    def start(self, message: dict[str, Any]) -> str | None:
        """Post the message unless an earlier attempt did."""
        if self.ts is None:
            self.ts = self._notifier.post(self._target, message)
            self._last = time.monotonic()
        else:
            self.finish(message)
        return self.ts

    def update(self, message: dict[str, Any]) -> None:
        if time.monotonic() - self._last >= EVERY:
            self.finish(message)

    def finish(self, message: dict[str, Any]) -> None:
        self._last = time.monotonic()
        if self._target is not None and self.ts is not None:
            self._notifier.update(self._target, self.ts, message)
