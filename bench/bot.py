"""Serving the bot for the Slack benchmarks: ``stockpot serve`` (or the bare reference app) in
its own process on loopback, Slack replaced by the local stand-in, requests signed like
Slack's, fired from a pool of concurrent connections."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.app import BOT_SCOPES
from stockpot.core.access import link_workspace
from stockpot.core.collector import collector_paused
from stockpot.core.crypto import generate_key
from stockpot.core.db import unit_of_work
from stockpot.core.models import Company
from stockpot.sandbox.slack import SlackStandIn
from stockpot.sandbox.slack_sender import SlackSender

SECRET = "bench-signing-secret"
BENCH_TOKEN = "xoxb-bench"
BARE_TOKEN = "xoxb-bare"
"""Must match ``bench/bare_app.py``."""
TEAM, ADMIN = "T0001", "UADMIN"
PACED_THREADS = 20
"""Enough senders that a slow ack never delays the next request of a paced pass."""


class RemoteSlack:
    """The Slack stand-in in a process of its own, as Slack is: in the benchmark's process
    it would take the interpreter lock from the client timing the acks while the worker posts
    answers to it (only in the stockpot passes: the bare app posts nothing). Its arrival
    times are ``time.perf_counter()`` of that process: the same monotonic clock."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._commands: Any = context.Queue()
        self._answers: Any = context.Queue()
        self._process = context.Process(
            target=_serve_slack, args=(self._commands, self._answers), daemon=True
        )
        self._process.start()
        self.url, self.api_url = self._answers.get(timeout=60)

    def issue_trigger(self, trigger_id: str) -> str:
        """``SlackStandIn.issue_trigger`` without telling that process: the benchmark's
        requests open no modal."""
        return trigger_id

    def issue_response_url(self, key: str, channel: str, target: str | None = None) -> str:
        """``SlackStandIn.issue_response_url`` without telling that process the channel and
        message (it answers without them; the benchmark only times arrivals): each key is
        fresh there, so its five answers and thirty minutes start with its first answer."""
        return f"{self.url}/respond/{key}"

    def arrivals(self) -> dict[str, float]:
        """When each response key's first answer arrived."""
        self._commands.put(("arrivals",))
        return dict(self._answers.get(timeout=60))

    def install(self, token: str, scopes: Iterable[str]) -> None:
        """``SlackStandIn.install`` there."""
        self._commands.put(("install", token, list(scopes)))
        self._answers.get(timeout=60)

    def stop(self) -> None:
        self._commands.put(("stop",))
        self._process.join(timeout=30)

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[RemoteSlack]:
        slack = cls()
        try:
            yield slack
        finally:
            slack.stop()


AnySlack = SlackStandIn | RemoteSlack


def _serve_slack(commands: Any, answers: Any) -> None:
    slack = SlackStandIn()
    slack.start()
    answers.put((slack.url, slack.api_url))
    while (command := commands.get())[0] != "stop":
        if command[0] == "install":
            slack.install(command[1], command[2])
            answers.put(None)
        else:
            answers.put(dict(slack.response_arrivals))
    slack.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def link_bench_workspace(factory: sessionmaker[Session], company: str) -> None:
    """The stand-in's workspace works for ``company``, with ``ADMIN`` as its admin."""
    with unit_of_work(factory) as session:
        found = session.scalars(select(Company).where(Company.name == company)).one()
        link_workspace(session, TEAM, found, ADMIN)


@contextlib.contextmanager
def served(command: Sequence[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Run a server process until the block ends (its output in /tmp/stockpot-bench-PORT.log);
    yields its Slack events URL."""
    log = Path(f"/tmp/stockpot-bench-{port}.log").open("w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}); see its log in /tmp")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after 30 s")


def stockpot_env(
    database_url: str, slack: AnySlack, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """What ``stockpot serve`` and ``stockpot worker`` share: the database, Slack (the
    stand-in, where the bench's bot token is installed as a workspace installs the app) and
    one secret key (pass the same environment to both)."""
    slack.install(BENCH_TOKEN, BOT_SCOPES)
    return {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BENCH_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "SLACK_RESPONSE_HOSTS": "127.0.0.1",
        "STOCKPOT_SECRET_KEY": generate_key(),
        **(extra or {}),
    }


def stockpot_serve(
    database_url: str, slack: AnySlack, env: dict[str, str] | None = None
) -> AbstractContextManager[str]:
    """``stockpot serve`` itself (waitress, the production WSGI server)."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "stockpot"), "serve", "--port", str(port)]
    return served(command, env or stockpot_env(database_url, slack), port)


@contextlib.contextmanager
def stockpot_worker(env: dict[str, str], nice: int = 0, idle: bool = False) -> Iterator[None]:
    """``stockpot worker`` (no scheduler): it works out the answers ``serve`` queues;
    ``nice``: its scheduling priority below the web process's (on a shared host); ``idle``:
    Linux's ``SCHED_IDLE`` policy (it runs only on a core nothing else wants)."""
    log = Path("/tmp/stockpot-bench-worker.log").open("w")  # noqa: SIM115 - closed below
    command = [str(Path(sys.executable).parent / "stockpot"), "worker", "--no-scheduler"]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    if idle:
        command = ["chrt", "--idle", "0", *command]
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def bare_serve(slack: AnySlack) -> AbstractContextManager[str]:
    port = free_port()
    command = [sys.executable, "-m", "bench.bare_app", "--port", str(port)]
    slack.install(BARE_TOKEN, BOT_SCOPES)
    env = {"SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url}
    return served(command, env, port)


Request = Callable[[SlackSender], httpx.Response]


def latencies(
    events_url: str, slack: AnySlack, requests: Sequence[Request], concurrency: int
) -> list[float]:
    """Seconds from sending each request to its answer, ``concurrency`` at a time; any answer
    but 200 is an error (Slack would show the user a failure)."""
    return acked(events_url, slack, requests, concurrency)[0]


def acked(
    events_url: str, slack: AnySlack, requests: Sequence[Request], concurrency: int
) -> tuple[list[float], list[float]]:
    """``latencies``, and when each answer arrived (``time.perf_counter()``)."""
    sender = SlackSender(events_url, SECRET, slack)  # httpx keeps up to 20 connections alive
    one = functools.partial(_timed, sender)

    try:
        with client_collector_off(), ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(one, requests))
    finally:
        sender.close()
    return [elapsed for elapsed, _ in results], [at for _, at in results]


@contextlib.contextmanager
def client_collector_off() -> Iterator[None]:
    """The timing client's own cyclic collector off for a pass (after one collection): its
    full collections walked the benchmark's heap (the catalog it built, SQLAlchemy) for
    100-150 ms, stalling every request in flight, in bare and stockpot passes alike."""
    gc.collect()
    with collector_paused():
        yield


def _timed(sender: SlackSender, request: Request) -> tuple[float, float]:
    """How long ``request`` took to be acknowledged, and when (``time.perf_counter()``)."""
    started = time.perf_counter()
    answer = request(sender)
    finished = time.perf_counter()
    if answer.status_code != 200:
        raise RuntimeError(f"answer {answer.status_code}: {answer.text[:200]}")
    return finished - started, finished


def paced(
    events_url: str, slack: AnySlack, requests: Sequence[Request], rate: float
) -> tuple[list[float], list[float]]:
    """``acked``, but the requests are sent at a steady ``rate`` a second (request ``i`` at
    ``i / rate`` s from the start, whether or not earlier ones were answered), as users
    would send them, instead of as fast as ``concurrency`` allows."""
    sender = SlackSender(events_url, SECRET, slack)
    one = functools.partial(_timed, sender)

    try:
        with client_collector_off(), ThreadPoolExecutor(max_workers=PACED_THREADS) as pool:
            start = time.perf_counter()
            futures = []
            for number, request in enumerate(requests):
                time.sleep(max(0.0, start + number / rate - time.perf_counter()))
                futures.append(pool.submit(one, request))
            results = [future.result() for future in futures]
    finally:
        sender.close()
    return [elapsed for elapsed, _ in results], [at for _, at in results]
