"""Python's cyclic garbage collector, paused while a unit of work allocates heavily.

A transfer allocates hundreds of thousands of objects; every 700 allocations a young
collection runs, and now and then a full one walks every object of the process (SQLAlchemy's
included): about 100 ms landed inside a 20,000-line run. Runs pause the collector and it
catches up once no run is going on. Reference counting still frees everything without cycles.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off until the last of the overlapping callers (threads) is done."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()


def freeze_startup_heap() -> None:
    """Everything a long-running process built to start (modules, settings, the Slack app
    and its listeners, the engine) moved out of the collector's sight, once, just before it
    serves: each full collection walked all of it again, 50–110 ms with every other thread
    of the process stopped (nine of them in a web process's burst of 4,000 acks, the
    slowest percent of its acks). Objects made later are collected as before."""
    gc.collect()
    gc.freeze()
