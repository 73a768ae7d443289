"""A fault that holds a request where it is until the test lets it go."""

from __future__ import annotations

import threading


class Hold:
    """For ``Fault(before=hold)`` or ``Fault(after=hold)`` of a stand-in: the request stops
    there until ``release`` is set (for at most ``limit`` seconds); ``arrived`` says it got
    there."""

    def __init__(self, limit: float = 30) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.limit = limit

    def __call__(self) -> None:
        self.arrived.set()
        self.release.wait(self.limit)
