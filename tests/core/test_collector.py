"""The garbage collector is paused while any run is going on, and only then."""

from __future__ import annotations

import gc
import threading
import weakref

from stockpot.core.collector import collector_paused, freeze_startup_heap


def test_the_collector_resumes_when_the_last_overlapping_run_ends():
    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait()
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait()
    with collector_paused():
        second_in.set()
        first_out.wait()
        seen.append(gc.isenabled())  # the first run ended, this one still runs
    thread.join()
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_long_running_process_freezes_what_it_built_to_start():
    """What exists when serving starts is out of the collector's sight; a cycle made later
    is collected as before."""

    class Node:
        pass

    gc.unfreeze()
    try:
        built = [Node() for _ in range(10)]
        freeze_startup_heap()
        assert gc.get_freeze_count() > len(built)
        later = Node()
        later.self = later  # type: ignore[attr-defined]
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
