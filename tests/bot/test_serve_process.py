"""``stockpot serve`` as a real process: SIGTERM closes the door to new requests, and what is
in flight (here a command's answer, sent after the ack) still arrives before it exits."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.slack_tokens import SLACK_FIXES
from stockpot.core.access import link_workspace
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.crypto import generate_key
from stockpot.core.db import unit_of_work
from stockpot.core.models import Company, Job, JobKind, JobState
from stockpot.sandbox.http import Fault
from stockpot.sandbox.slack import SlackStandIn
from stockpot.sandbox.slack_sender import SlackSender
from tests.bot.conftest import SECRET, VIEWER
from tests.catalogs import TRATTORIA
from tests.holds import Hold

STOCKPOT = str(Path(sys.executable).with_name("stockpot"))

pytestmark = pytest.mark.postgresql_only


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_port(process: subprocess.Popen) -> tuple[int, str]:
    """The port a ``serve --port 0`` (or ``run``) process bound, from its start line, which
    it prints once it listens, and the output read up to it. A port probed free and passed
    on could be taken by another process before the bind (a run beside others saw a 404)."""
    assert process.stdout is not None
    read = []
    for line in process.stdout:
        read.append(line)
        found = re.search(r"listening on port (\d+)", line)
        if found:
            return int(found.group(1)), "".join(read)
    raise AssertionError(f"{process.args} exited without listening:\n{''.join(read)}")


def until(condition, timeout: float = 30.0) -> bool:
    """Look until ``condition()`` holds (a process's socket has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def waiting_for_the_job_table(engine) -> bool:
    """Whether a statement waits for a lock on the job table (held by the test)."""
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'job'::regclass"
                )
            )
        )


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def refuses(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False
    return False


def serve(database, slack: SlackStandIn, log_level: str = "WARNING") -> subprocess.Popen:
    """``stockpot serve`` on a free port (``listening_port``) with its own bot token,
    answering at the stand-in."""
    return subprocess.Popen(
        [STOCKPOT, "serve", "--port", "0"],
        env={
            **os.environ,
            "DATABASE_URL": database.url,
            "SLACK_BOT_TOKEN": "xoxb-sandbox",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "SLACK_RESPONSE_HOSTS": "127.0.0.1",
            "STOCKPOT_SECRET_KEY": generate_key(),
            "LOG_LEVEL": log_level,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigterm_stops_accepting_and_finishes_what_is_in_flight(database):
    hold = Hold(60)
    arrived, release = hold.arrived, hold.release

    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        slack.faults.add(Fault(before=hold), path="/respond/", times=1)
        process = serve(database, slack, log_level="INFO")
        try:
            port, started = listening_port(process)
            assert answers(port)
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, slack)
            assert sender.command("/pos", "", user=VIEWER).status_code == 200
            assert arrived.wait(30), "the answer is being sent"
            process.send_signal(signal.SIGTERM)
            assert until(lambda: refuses(port)), "no new connection is accepted"
            release.set()
            output, _ = process.communicate(timeout=60)
            output = started + output
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, output
        # The start line names every path an operator or a load balancer probes.
        assert "(/slack/events, /healthz, /readyz, /metrics)" in output, output
        # An operator reading the log after a deploy tells a clean stop from a crash.
        assert "SIGTERM received: stopping" in output, output
        assert "stopped cleanly: every request in flight was answered" in output, output
        (reply,) = [c for c in slack.calls if c.method == "response_url"]
        assert "what it can do" in str(reply.args)


@pytest.mark.parametrize(
    ("installed", "code"),
    [("never", "invalid_auth"), ("uninstalled", "account_inactive"), ("revoked", "token_revoked")],
)
def test_a_token_slack_refuses_stops_serve_at_once_with_one_line(database, installed, code):
    """Bolt's auth.test at start is answered as Slack answers it (the stand-in issues tokens
    and refuses any other); ``serve`` exits 1 with one line and its fix, and never listens."""
    with SlackStandIn().running() as slack:
        if installed != "never":
            slack.install("xoxb-sandbox", BOT_SCOPES)
            slack.uninstall() if installed == "uninstalled" else slack.revoke("xoxb-sandbox")
        finished = subprocess.run(
            [STOCKPOT, "serve", "--port", "0"],
            env={
                **os.environ,
                "DATABASE_URL": database.url,
                "SLACK_BOT_TOKEN": "xoxb-sandbox",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.api_url,
                "STOCKPOT_SECRET_KEY": generate_key(),
                "LOG_LEVEL": "WARNING",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert [c.method for c in slack.calls] == [], "a refused call is not carried out"
    assert finished.returncode == 1
    assert finished.stdout == "", "never listened: the start line is said once it listens"
    assert finished.stderr.splitlines() == [
        f"error: Slack refused SLACK_BOT_TOKEN (auth.test answered {code}): " + SLACK_FIXES[code]
    ]


def test_sigterm_queues_every_answer_it_acked_before_it_exits(database):
    """Commands acked while their answers cannot be queued yet (the job table is locked) are
    queued before ``stockpot serve`` exits on SIGTERM: nothing acked is lost."""
    from tests.bot.conftest import ADMIN, TEAM

    import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
    with unit_of_work(database.factory) as session:
        link_workspace(session, TEAM, session.scalars(select(Company)).one(), ADMIN)
    with SlackStandIn().running() as slack, database.engine.connect() as holder:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        process = serve(database, slack)
        try:
            port, _ = listening_port(process)
            holder.execute(text("LOCK TABLE job IN SHARE ROW EXCLUSIVE MODE"))
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, slack)
            acks = [sender.command("/pos", "help", user=ADMIN).status_code for _ in range(5)]
            assert acks == [200] * 5
            assert until(lambda: waiting_for_the_job_table(database.engine))
            process.send_signal(signal.SIGTERM)
            assert until(lambda: refuses(port)), "no new connection is accepted"
            holder.rollback()
            output, _ = process.communicate(timeout=60)
        finally:
            holder.rollback()
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, output
    with database.session() as session:
        queued = session.scalars(select(Job.state).where(Job.kind == JobKind.ANSWER)).all()
    assert queued == [JobState.QUEUED] * 5
