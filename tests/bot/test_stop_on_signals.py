"""``stop_on_signals``: SIGTERM or SIGINT stops the process even when it lands on a thread
other than the main one while the main thread sleeps in ``stop.wait()``, and even when it
arrives while the main thread holds the stop Event's lock. A worker hung 240 s after SIGTERM
twice in CI: the signal had landed on another thread, and CPython runs Python handlers only
in the main thread, which slept on."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

SCRIPT = """
import os, signal, threading
from stockpot.bot.serving import stop_on_signals

stop = threading.Event()
stop_on_signals(stop)
with stop._cond:  # where stop.wait() is between its looks at the flag: the lock held
    os.kill(os.getpid(), signal.{name})
    for _ in range(10_000):  # the handler runs between these bytecodes, the lock still held
        pass
print("stopped" if stop.wait(30) else "not stopped")
"""


ELSEWHERE = """
import signal, threading
from stockpot.bot.serving import stop_on_signals

stop = threading.Event()
stop_on_signals(stop)
# The main thread refuses the signal, so the kernel hands it to the relay thread: what
# happens by chance when a signal lands on a worker's heartbeat or lane thread.
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.{name}}})
print("waiting", flush=True)
stop.wait()
print("stopped")
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_that_lands_on_another_thread_stops_a_main_thread_asleep(name):
    process = subprocess.Popen(
        [sys.executable, "-c", ELSEWHERE.format(name=name)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "waiting"
        process.send_signal(getattr(signal, name))
        output, errors = process.communicate(timeout=30)
        assert (process.returncode, output.strip()) == (0, "stopped"), errors
    finally:
        process.kill()


OTHER_SIGNAL = """
import signal, sys, threading
from stockpot.bot.serving import stop_on_signals

told = threading.Event()
stop = threading.Event()
stop_on_signals(stop)
signal.signal(signal.SIGUSR1, lambda *_: told.set())  # a library's own handler
print("waiting", flush=True)
sys.stdin.readline()  # the test has sent SIGUSR1 by now
assert told.wait(30), "the library's handler ran"
print("stopped" if stop.is_set() else "still running", flush=True)
stop.wait()
print("stopped")
"""


def test_another_signal_with_a_handler_of_its_own_does_not_stop_the_process():
    """The wakeup pipe carries every signal that has a Python handler: a library's SIGUSR1
    must not read as a stop, and SIGTERM after it still does."""
    process = subprocess.Popen(
        [sys.executable, "-c", OTHER_SIGNAL],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        assert process.stdout.readline().strip() == "waiting"
        process.send_signal(signal.SIGUSR1)
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "still running"
        process.send_signal(signal.SIGTERM)
        output, errors = process.communicate(timeout=30)
        assert (process.returncode, output.strip()) == (0, "stopped"), errors
    finally:
        process.kill()


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_that_comes_while_the_stop_event_is_locked_still_stops(name):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(name=name)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "stopped"), result.stderr


def test_the_demo_stops_cleanly_on_sigterm(tmp_path):
    """``stockpot demo`` stops on SIGTERM through the same relay (its handler used to stop
    the demo itself, setting the Event its main thread waits on)."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "stockpot", "demo", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        assert "open http://" in demo.stdout.readline()
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0, demo.stderr.read() if demo.stderr else ""
    finally:
        demo.kill()
