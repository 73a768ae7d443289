"""Slack's Web API rate limits, for the stand-in to answer as Slack does when a test asks it to:
HTTP 429, ``Retry-After`` in seconds, and ``{"ok": false, "error": "ratelimited"}``.

From docs.slack.dev/apis/web-api/rate-limits: limits hold per method, per workspace, per app;
posting is about one message per second per channel (``chat.postMessage``, reference slack.md
§0.8); ``chat.update`` is Tier 3, 50 a minute (§0.8). Commercially distributed apps not
approved for the Slack Marketplace (new ones since 29 May 2025) may call
``conversations.history`` and ``.replies`` once a minute, and get at most 15 messages a call.
Windows are fixed and run on the stand-in's clock, so a test moves them with
``clock.advance`` instead of waiting.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import datetime
from typing import Any

PER_MINUTE = {"chat.update": 50}
"""Calls a minute per method per workspace (Tier 3 for ``chat.update``)."""

POSTS_PER_SECOND = 1
"""``chat.postMessage`` per channel per second."""

HISTORY_METHODS = ("conversations.history", "conversations.replies")
UNLISTED_HISTORY_PER_MINUTE = 1
UNLISTED_HISTORY_LIMIT = 15
"""A non-Marketplace app's history calls a minute, and messages a call."""


class RateLimits:
    """Counts calls in fixed windows and says how long a call over its limit must wait."""

    def __init__(self, *, unlisted: bool = False) -> None:
        self.unlisted = unlisted
        """The app is commercially distributed and not in the Slack Marketplace."""
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, ...]] = Counter()

    def retry_after(
        self, method: str, team: str, args: dict[str, Any], now: datetime
    ) -> int | None:
        """Seconds to wait when this call is over its limit (it is not counted), else
        ``None`` (it is)."""
        window = self._window(method, team, args)
        if window is None:
            return None
        key, seconds, allowed = window
        start = math.floor(now.timestamp() / seconds) * seconds
        with self._lock:
            counted = (*key, str(start))
            if self._counts[counted] >= allowed:
                return max(1, math.ceil(start + seconds - now.timestamp()))
            self._counts[counted] += 1
        return None

    def history_limit(self, method: str, asked: int) -> int:
        """How many messages a history call gets when it asks for ``asked``."""
        if self.unlisted and method in HISTORY_METHODS:
            return min(asked, UNLISTED_HISTORY_LIMIT)
        return asked

    def _window(
        self, method: str, team: str, args: dict[str, Any]
    ) -> tuple[tuple[str, ...], int, int] | None:
        if method == "chat.postMessage":
            return (method, team, str(args.get("channel") or "")), 1, POSTS_PER_SECOND
        if self.unlisted and method in HISTORY_METHODS:
            return (method, team), 60, UNLISTED_HISTORY_PER_MINUTE
        if method in PER_MINUTE:
            return (method, team), 60, PER_MINUTE[method]
        return None
