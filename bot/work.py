"""Long work off Slack's listener threads: a small pool of its own, until the jobs system.

A task reports failure itself (it knows where to post); an error that escapes is logged with a
reference, never lost silently.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

log = logging.getLogger(__name__)


class WorkQueue:
    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stockpot-work")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, task: Callable[..., Any], *args: Any) -> Future[Any]:
        future = self._pool.submit(task, *args)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def join(self, timeout: float = 60.0) -> None:
        """Wait until everything submitted so far has finished."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)
        _log_failure(future)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _log_failure(future: Future[Any]) -> None:
    error = future.exception()
    if error is not None:
        log.error("background work failed", exc_info=error)
