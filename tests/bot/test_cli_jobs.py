"""``stockpot migrate``, ``stockpot jobs`` and ``stockpot worker --until-idle`` against the SIDES
sandbox, on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from stockpot.bot.cli import main
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.models import Job, JobKind, JobState, TransferRun


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_a_migration_is_queued_then_run_by_a_worker(connected, settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", connected.url)
    monkeypatch.setenv("STOCKPOT_POS_REQUESTS_PER_SECOND", "1000")
    queued = run("migrate", "Pizzeria Beispiel Teltow", "--days", "3")
    assert "migration of Pizzeria Beispiel Teltow (3 days) queued as job 1" in queued
    assert "already queued as job 1" in run("migrate", "Pizzeria Beispiel Teltow", "--days", "3")
    listed = json.loads(run("jobs", "list", "--json"))
    assert [(j["kind"], j["state"]) for j in listed] == [("migration", "queued")]
    assert "ran 1 job;" in run("worker", "--until-idle")
    (done,) = json.loads(run("jobs", "list", "--json"))
    assert (done["state"], done["attempts"]) == ("succeeded", "1/5")
    # The location by name, a migration's days and how many are done (an id and a blank
    # date column before).
    assert (done["location"], done["days"], done["days_done"]) == ("Pizzeria Beispiel Teltow", 3, 3)
    shown = run("jobs", "list").splitlines()
    assert shown[0].split() == [
        "id",
        "kind",
        "state",
        "location",
        "date",
        "days",
        "done",
        "attempts",
        "last",
        "error",
    ]
    assert "migration  succeeded  Pizzeria Beispiel Teltow" in shown[-1], shown
    assert f"{done['first_date']}…{done['last_date']}  3/3" in shown[-1], shown
    with connected.session() as session:
        assert len(session.scalars(select(TransferRun)).all()) == 3
    assert "error: migrate a whole number of days from 1 to 400, not 0" in run(
        "migrate", "Pizzeria Beispiel Teltow", "--days", "0", code=1
    )
    assert "error: no job 9" in run("jobs", "retry", "9", code=1)


def test_worker_until_idle_leaves_messages_owed_for_later_and_says_when(
    company, settings, database, monkeypatch
):
    """A report done whose message Slack did not take is owed, tried again after the retry
    wait for up to 8 tries (about 2 hours): `worker --until-idle`, meant for cron and CI,
    waited for all of them. It stops, keeps them owed and says when they are tried."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    at = utcnow() + timedelta(minutes=40)
    owed = {"reason": "", "cancelled": False, "facts": {}, "tries": 3, "said": {"ts": {}}}
    with unit_of_work(database.factory) as session:
        job = Job(
            kind=JobKind.REPORT,
            company_id=company,
            state=JobState.SUCCEEDED,
            run_after=utcnow(),
            telling=owed,
            lease_expires_at=at,
        )
        session.add(job)
    said = run("worker", "--until-idle")
    assert said.strip().endswith(
        "ran 0 jobs; nothing is left to do now. Messages of 1 job that Slack did not take "
        f"are kept, and tried again from {at:%Y-%m-%d %H:%M} UTC by any worker running then"
    ), said
    with database.session() as session:
        kept = session.get_one(Job, job.id)
        assert (kept.telling, kept.lease_expires_at) == (owed, at)
