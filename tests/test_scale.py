"""The scale test: 3 ``stockpot serve`` and 3 ``stockpot worker`` processes on one PostgreSQL
behind PgBouncer (transaction pooling); 200 SIDES locations whose automatic transfers fall due
at once, and 500 slash commands meanwhile. Every day is transferred once, every answer
arrives once, no job is lost, and every process stops cleanly on SIGTERM.

The figures (wall time, jobs, answers) are printed; the README's "Operating Stockpot" quotes
them. Nothing here asserts a time.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stockpot.bot.app import BOT_SCOPES
from stockpot.core.access import link_workspace
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.jobs.schedule import Clock
from stockpot.core.locations import link_storage_unit
from stockpot.core.models import (
    Company,
    ExternalLocation,
    Job,
    JobKind,
    JobState,
    RunKind,
    TransferRun,
)
from stockpot.core.pos import connections
from stockpot.sandbox.slack import SlackStandIn
from stockpot.sandbox.slack_sender import SlackSender
from tests.bot.test_serve_process import answers, listening_port, until
from tests.pos import connect

STOCKPOT = str(Path(sys.executable).with_name("stockpot"))
LOCATIONS = 200
COMMANDS = 500
WEB, WORKERS = 3, 3
SECRET = "scale-signing-secret"
ADMIN = "UADMIN"

pytestmark = [pytest.mark.postgresql_only, pytest.mark.slow]


def _group(database, settings, company_id: int, policy, sides) -> list[int]:
    """One company, one SIDES account with 200 branches due for yesterday's transfer now."""
    info = connect(database, settings, company_id, policy)
    branches = set(sides.add_branches(LOCATIONS))
    connections.sync_locations(database.factory, settings, info.id, policy=policy)
    now = utcnow()
    with unit_of_work(database.factory) as session:
        company = session.get_one(Company, company_id)
        link_workspace(session, "T0001", company, ADMIN)
        locations = session.scalars(select(ExternalLocation)).all()
        due = []
        for location in locations:
            if int(location.external_id) not in branches:
                continue
            link_storage_unit(session, location, "Kitchen")
            location.active = True
            clock = Clock.of(location)
            location.automatic_since = clock.last_due(now)
            due.append(location.id)
    assert len(due) == LOCATIONS
    return due


def _process(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [STOCKPOT, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _serving(ports: list[int], processes: list[subprocess.Popen]) -> bool:
    """Every web process answers; one that exited meanwhile (a failed start) fails the wait at
    once, with its output, where the wait ran its 120 s out and said nothing (seen once in
    CI)."""
    for process in processes:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"{process.args} exited with {process.returncode}:\n{output}")
    return all(answers(port) for port in ports)


def test_three_web_and_three_workers_on_pgbouncer(
    database, settings, company, policy, sides, pgbouncer_url
):
    if database.dialect != "postgresql":
        pytest.skip("many processes share PostgreSQL")
    due = _group(database, settings, company, policy, sides)
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        env = {
            "DATABASE_URL": pgbouncer_url,
            # As README's deployment says: LISTEN needs a session of its own, so workers behind
            # PgBouncer in transaction pooling listen on a direct connection. (Listening
            # through the pooler left NOTIFY packets on pooled server connections, "got packet
            # 'A' from server when not linked", and twice stalled this test.)
            "STOCKPOT_LISTEN_URL": database.url,
            "STOCKPOT_SECRET_KEY": settings.secret_key.get_secret_value(),
            "SIDES_API_URL": settings.sides.api_url,
            "SLACK_BOT_TOKEN": "xoxb-sandbox",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "SLACK_RESPONSE_HOSTS": "127.0.0.1",
            "STOCKPOT_POS_REQUESTS_PER_SECOND": "1000",
            "STOCKPOT_WORKER_POLL_SECONDS": "0.2",
            "STOCKPOT_SCHEDULER_SECONDS": "1",
            "STOCKPOT_WORKER_THREADS": "4",
            "LOG_LEVEL": "WARNING",
        }
        started = time.monotonic()
        web = [_process(["serve", "--port", "0"], env) for _ in range(WEB)]
        workers = [_process(["worker"], env) for _ in range(WORKERS)]
        processes = web + workers
        try:
            ports = [listening_port(process)[0] for process in web]
            assert until(lambda: _serving(ports, processes), timeout=120), "every web answers"
            senders = [
                SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, slack)
                for port in ports
            ]
            for number, sender in enumerate(senders):
                sender._responses = itertools.count(number * 100_000)  # unique response URLs

            def command(n: int) -> int:
                sender = senders[n % WEB]
                return sender.command("/ledger", "balances", user=ADMIN).status_code

            with ThreadPoolExecutor(max_workers=12) as pool:
                statuses = list(pool.map(command, range(COMMANDS)))
            commands_sent = time.monotonic()
            assert statuses == [200] * COMMANDS
            slack.wait_for("response_url", COMMANDS, timeout=300)

            def transferred() -> bool:
                with database.session() as session:
                    waiting = session.scalar(
                        select(func.count())
                        .select_from(Job)
                        .where(Job.kind == JobKind.TRANSFER, Job.state.in_(("queued", "running")))
                    )
                    done = session.scalar(select(func.count()).select_from(TransferRun))
                return waiting == 0 and done >= LOCATIONS

            assert until(transferred, timeout=300), "every due day was transferred"
            finished = time.monotonic()
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            outputs = [process.communicate(timeout=120)[0] for process in processes]
        assert [p.returncode for p in processes] == [0] * len(processes), outputs
        answered = Counter(slack.response_keys)

    with database.session() as session:
        per_day = session.execute(
            select(TransferRun.location_id, TransferRun.business_date, func.count()).group_by(
                TransferRun.location_id, TransferRun.business_date
            )
        ).all()
        jobs = session.execute(
            select(Job.state, func.count()).where(Job.kind == JobKind.TRANSFER).group_by(Job.state)
        ).all()
        errors = session.scalars(
            select(Job.last_error).where(Job.state != JobState.SUCCEEDED).limit(5)
        ).all()
        kinds = set(session.scalars(select(TransferRun.kind)))
        lines = session.scalar(select(func.sum(TransferRun.stats["lines"].as_integer())))
    assert sorted(location for location, _, _ in per_day) == sorted(due)
    assert {count for *_, count in per_day} == {1}, "no day was transferred twice"
    assert jobs == [(JobState.SUCCEEDED, LOCATIONS)], f"no job lost, failed or doubled: {errors}"
    assert kinds == {RunKind.AUTOMATIC}
    assert len(answered) == COMMANDS and set(answered.values()) == {1}, (
        "every command was answered, once"
    )
    print(
        f"\nscale: {WEB} web + {WORKERS} workers via PgBouncer; {LOCATIONS} transfers "
        f"({lines} lines) and {COMMANDS} commands; commands sent in "
        f"{commands_sent - started:.1f} s, all done in {finished - started:.1f} s; "
        f"answers {sum(answered.values())}, duplicates 0"
    )
