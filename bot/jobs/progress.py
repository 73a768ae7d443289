"""One message that shows long work advancing: posted once, then updated, at most every few
seconds (``chat.update`` is rate-limited), and always at the end. Its ``ts`` is kept by the
job, so a retry on another worker goes on updating the same message; a retry of a job whose
worker died after the end was shown (before the job was recorded done) finds it ``ended``."""

from __future__ import annotations

import time
from typing import Any

from stockpot.bot.jobs.slack import Notifier, Target, sent_key
from stockpot.core.jobs.worker import JobContext

EVERY = 2.0
"""Seconds between updates."""


class ProgressMessage:
    def __init__(
        self, notifier: Notifier, context: JobContext, key: str, target: Target | None
    ) -> None:
        """The progress message of ``context``'s job, its ``ts`` kept under ``key``."""
        self._notifier = notifier
        self._context = context
        self._key = key
        self._target = target
        saved = context.result.get(key)
        self.ts: str | None = str(saved) if saved else None
        self._last = time.monotonic()

    @property
    def ended(self) -> bool:
        """An earlier attempt showed the end (``end``): the work is done and said."""
        return bool(self._context.result.get(sent_key(self._key)))

    def start(self, message: dict[str, Any]) -> str | None:
        """Post the message unless an earlier attempt did (``Notifier.deliver``: also one
        that died before saving its ``ts``); one that shows its end already stays as it is."""
        if self.ended:
            return self.ts
        if self.ts is None:
            self.ts = self._notifier.deliver(self._context, self._key, self._target, message)
            self._last = time.monotonic()
        else:
            self.finish(message)
        return self.ts

    def update(self, message: dict[str, Any]) -> None:
        if time.monotonic() - self._last >= EVERY:
            self.finish(message)

    def finish(self, message: dict[str, Any]) -> None:
        self._last = time.monotonic()
        target = self._notifier.where(self._context, self._key, self._target)
        if target is not None and self.ts is not None:
            self._notifier.update(target, self.ts, message)

    def end(self, message: dict[str, Any]) -> None:
        """Show the end once across the job's attempts (``Notifier.post_once``): a retry
        sends nothing more, and a message deleted meanwhile is posted anew, not lost."""
        self._last = time.monotonic()
        self.ts = self._notifier.post_once(self._context, self._key, self._target, message)
