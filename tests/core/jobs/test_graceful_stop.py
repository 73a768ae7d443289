"""SIGTERM to a real worker process on PostgreSQL: the job in hand is finished, or handed back
at its checkpoint for another worker to take at once; each completes exactly once."""

from __future__ import annotations

import re
import signal
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from stockpot.bot.app import BOT_SCOPES
from stockpot.core.access import bind_channel
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import unit_of_work
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import enqueue_many
from stockpot.core.jobs.specs import Notify
from stockpot.core.lookup import company_by_name
from stockpot.core.models import (
    Connection,
    CsvImport,
    ExternalLocation,
    Job,
    JobState,
    RunStatus,
    TransferRun,
    WorkerHeartbeat,
)
from stockpot.sandbox.http import Fault
from stockpot.sandbox.sides.data import GOLDEN_DATE
from stockpot.sandbox.slack import SlackStandIn
from tests.core.csv_import.files import GERMAN, KASSE
from tests.core.jobs.test_worker_processes import finish, queue_golden_transfer, worker_process
from tests.pos import MAPPED, balances, map_golden

pytestmark = pytest.mark.postgresql_only

LONG_LEASE = {"STOCKPOT_JOB_LEASE_SECONDS": "600"}
"""Nothing here may wait for a lease to run out: a job is finished or handed back."""


class Gate:
    """Holds the first matching request until released; says when it arrived."""

    def __init__(self) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()

    def hold(self) -> None:
        self.arrived.set()
        self.release.wait(60)


def stop_while_held(process, gate: Gate) -> str:
    assert gate.arrived.wait(60), "the worker reached the held request"
    process.send_signal(signal.SIGTERM)
    gate.release.set()
    return finish(process)


def test_a_transfer_in_flight_is_finished_before_the_worker_exits(postgres, settings, sides):
    map_golden(postgres)
    gate = Gate()
    sides.faults.add(Fault(before=gate.hold), path="/daily-reports/", times=1)
    queue_golden_transfer(postgres)
    output = stop_while_held(
        worker_process(postgres, settings, **LONG_LEASE, LOG_LEVEL="INFO"), gate
    )
    # An operator reading the log after a deploy tells a clean stop from a crash.
    assert "SIGTERM received: stopping" in output, output
    assert re.search(r"worker \S+ stopped cleanly: every job it ran finished", output), output
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts, job.lease_expires_at) == (JobState.SUCCEEDED, 1, None)
        assert [run.status for run in session.scalars(select(TransferRun))] == [RunStatus.SUCCEEDED]
    expected = sides.expected_consumption(36, GOLDEN_DATE, expand_menus=True)
    assert balances(postgres) == {MAPPED[key]: -expected[key] for key in MAPPED}


def test_a_migration_is_handed_back_at_its_checkpoint_and_finished_by_another_worker(
    postgres, settings, sides
):
    map_golden(postgres)
    gate = Gate()
    sides.faults.add(Fault(before=gate.hold), path="/daily-reports/", times=1)
    days = 8
    with unit_of_work(postgres.factory) as session:
        location = session.get_one(ExternalLocation, postgres.location_id)
        enqueue_many(
            session,
            [specs.migration(location.company_id, location.id, days, triggered_by="test")],
        )
    stop_while_held(worker_process(postgres, settings, **LONG_LEASE), gate)
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts, job.lease_expires_at) == (JobState.QUEUED, 0, None), (
            "handed back: queued at once, its attempt given back"
        )
        done_before = job.result["progress"]["done"]
        assert 1 <= done_before < days, "it stopped between days, keeping its progress"
    finish(worker_process(postgres, settings, "--until-idle", **LONG_LEASE))
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
        assert job.result["progress"]["done"] == days
        per_day = session.execute(
            select(TransferRun.business_date, func.count()).group_by(TransferRun.business_date)
        ).all()
    assert len(per_day) == days
    assert all(count == 1 for _, count in per_day), "no day was transferred twice"


def test_a_csv_import_in_flight_is_finished_before_the_worker_exits(postgres, settings):
    kasse_profile = KASSE.replace("Trattoria Esempio", "Harbour Kitchen")
    import_catalog(postgres.factory, kasse_profile, source="kasse.yaml")
    gate = Gate()
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        slack.add_file("F1", "kasse.csv", GERMAN)
        slack.faults.add(Fault(before=gate.hold), path="/files/F1", times=1)
        with unit_of_work(postgres.factory) as session:
            company_id = company_by_name(session, "Harbour Kitchen").id
            # The file is shared in C0001: Harbour Kitchen's channel, so its file to read.
            bind_channel(session, "T0001", "C0001", company_id)
            kasse = session.scalar(select(Connection).where(Connection.name == "Kasse"))
            enqueue_many(
                session,
                [
                    specs.csv_import(
                        company_id,
                        kasse.id,
                        "F1",
                        default_date=None,
                        valid_only=True,
                        force=False,
                        thread_ts="1.0",
                        triggered_by="test",
                        notify=Notify(team_id="T0001", channel_id="C0001"),
                    )
                ],
            )
        worker = worker_process(
            postgres,
            settings,
            SLACK_BOT_TOKEN="xoxb-sandbox",
            SLACK_API_URL=slack.api_url,
            SLACK_FILE_HOSTS="127.0.0.1",
            **LONG_LEASE,
        )
        stop_while_held(worker, gate)
        answers = [c for c in slack.calls if c.method == "chat.postMessage"]
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1), job.last_error
        assert session.scalar(select(func.count()).select_from(CsvImport)) == 1
        days = session.scalars(select(TransferRun.business_date).distinct()).all()
    assert len(days) == 2
    assert [c.args["text"] for c in answers] == ["Imported kasse.csv"]


def slack_worker(postgres, settings, slack: SlackStandIn, *extra: str):
    """A worker process that tells the Slack stand-in what came of its jobs."""
    return worker_process(
        postgres,
        settings,
        *extra,
        SLACK_BOT_TOKEN="xoxb-sandbox",
        SLACK_API_URL=slack.api_url,
        **LONG_LEASE,
    )


def posted(slack: SlackStandIn) -> list[tuple[str, str | None]]:
    """Every message posted (not updated): its text, and the thread it went to."""
    return [
        (c.args["text"], c.args.get("thread_ts"))
        for c in slack.calls
        if c.method == "chat.postMessage"
    ]


def queue_for_u1(postgres, spec) -> None:
    """Queue ``spec(location, notify)`` for the connected store, reporting to U1 in C0001."""
    with unit_of_work(postgres.factory) as session:
        location = session.get_one(ExternalLocation, postgres.location_id)
        notify = Notify(team_id="T0001", channel_id="C0001", user_id="U1")
        enqueue_many(session, [spec(location, notify)])


def test_a_migration_handed_back_goes_on_in_its_one_progress_message(postgres, settings, sides):
    """The migration handed back above, reporting to Slack: the second worker updates the
    first's progress message to the summary; no second progress message, no second
    summary."""
    map_golden(postgres)
    gate = Gate()
    sides.faults.add(Fault(before=gate.hold), path="/daily-reports/", times=1, after=1)
    days = 4
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        queue_for_u1(
            postgres,
            lambda location, notify: specs.migration(
                location.company_id, location.id, days, triggered_by="test", notify=notify
            ),
        )
        stop_while_held(slack_worker(postgres, settings, slack), gate)
        with postgres.session() as session:
            assert session.scalars(select(Job.state)).one() == JobState.QUEUED, "handed back"
        finish(slack_worker(postgres, settings, slack, "--until-idle"))
        (progress,) = posted(slack)
        assert progress[0].startswith("Migrating ") and progress[1] is None
        last = [c for c in slack.calls if c.method == "chat.update"][-1]
    assert (
        last.args["text"].startswith("<@U1> Migrated ")
        and f"{days}/{days} days" in last.args["text"]
    )
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
        assert session.scalar(select(func.count()).select_from(TransferRun)) == days


def test_a_reprocess_handed_back_is_finished_by_another_worker_with_one_message(
    postgres, settings, sides
):
    """Reprocessing checks for a stop between days, like a migration: the day in flight is
    finished, the rest handed back. Each day is transferred once, and the one progress
    message ends in the summary, with one thread of details."""
    map_golden(postgres)
    gate = Gate()
    sides.faults.add(Fault(before=gate.hold), path="/daily-reports/", times=1, after=1)
    days = [(postgres.location_id, GOLDEN_DATE - timedelta(days=n)) for n in range(3)]
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        queue_for_u1(
            postgres,
            lambda location, notify: specs.reprocess(
                location.company_id, days, what="Pizza", triggered_by="test", notify=notify
            ),
        )
        stop_while_held(slack_worker(postgres, settings, slack), gate)
        with postgres.session() as session:
            job = session.scalars(select(Job)).one()
            assert (job.state, len(job.result["done"])) == (JobState.QUEUED, 2), (
                "the day in flight was finished, the last handed back"
            )
        finish(slack_worker(postgres, settings, slack, "--until-idle"))
        (progress, details) = posted(slack)
        last = [c for c in slack.calls if c.method == "chat.update"][-1]
        ts = next(c.ts for c in slack.calls if c.method == "chat.postMessage")
    assert progress == ("Reprocessing 0/3 days for Pizza", None)
    assert details == ("Each day of Pizza", ts)
    assert last.args["text"] == "<@U1> Reprocessed 3/3 days for Pizza"
    with postgres.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
        per_day = session.execute(
            select(TransferRun.business_date, func.count()).group_by(TransferRun.business_date)
        ).all()
    assert sorted(per_day) == sorted((day, 1) for _, day in days), "each day transferred once"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_worker_that_stops_cleanly_leaves_no_heartbeat(postgres, settings, sig):
    process = worker_process(postgres, settings, STOCKPOT_HEARTBEAT_SECONDS="0.05")
    assert (process.stdout.readline() or "").startswith("Stockpot worker"), "it started"
    process.send_signal(sig)
    finish(process)
    with postgres.session() as session:
        assert session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 0
