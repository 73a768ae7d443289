"""A job's message to a person (``Target`` with their user id) lands in the app's DM with
them; Slack answers the DM's ``D…`` id, and the job keeps it: ``chat.update`` takes only
that (the user id is ``channel_not_found``), so a later edit of the message (a result
replacing its progress, a failure told again) goes to the message, not into a refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk import WebClient

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.jobs.progress import ProgressMessage
from stockpot.bot.jobs.slack import Notifier, Target, channel_key
from stockpot.core.db import unit_of_work
from stockpot.core.jobs.queue import JobSpec, claim, enqueue
from stockpot.core.jobs.worker import JobContext
from stockpot.core.models import JobKind
from stockpot.sandbox.slack import SlackStandIn

TEAM = "T0001"
PERSON = "UBOSS"
LEASE = timedelta(minutes=5)


@pytest.fixture
def slack():
    with SlackStandIn(team_id=TEAM).running() as server:
        server.install("xoxb-sandbox", BOT_SCOPES)
        server.add_user(PERSON, "boss")
        yield server


@pytest.fixture
def context(database, settings, company) -> JobContext:
    """The context of a job a worker claimed (the message's key and where it went are
    saved in its row, as a worker's are)."""
    with unit_of_work(database.factory) as session:
        enqueue(session, JobSpec(kind=JobKind.REPORT, company_id=company))
    job = claim(database.factory, "w1", LEASE)
    assert job is not None
    return JobContext(job, database.factory, settings, LEASE)


def notifier(slack: SlackStandIn, context: JobContext) -> Notifier:
    client = WebClient(token="xoxb-sandbox", base_url=slack.api_url)
    return Notifier(context.factory, client=client)


def test_a_message_to_a_person_is_edited_in_their_dm(slack, context):
    jobs = notifier(slack, context)
    person = Target(TEAM, PERSON)
    ts = jobs.post_once(context, "offer", person, {"text": "3 days are not transferred"})
    dm = slack.dm_with(PERSON)
    assert context.result[channel_key("offer")] == dm
    assert jobs.post_once(context, "offer", person, {"text": "Caught up"}) == ts
    edits = [c for c in slack.calls if c.method == "chat.update"]
    assert [(c.args["channel"], c.args["ts"]) for c in edits] == [(dm, ts)]
    assert slack.workspace.message(ts).text == "Caught up"
    assert [c.method for c in slack.calls].count("chat.postMessage") == 1


def test_a_progress_message_to_a_person_advances_in_their_dm(slack, context):
    progress = ProgressMessage(notifier(slack, context), context, "ts", Target(TEAM, PERSON))
    ts = progress.start({"text": "Working 0/2"})
    progress.finish({"text": "Working 1/2"})
    progress.end({"text": "Done 2/2"})
    assert slack.workspace.message(str(ts)).text == "Done 2/2"
    edits = {c.args["channel"] for c in slack.calls if c.method == "chat.update"}
    assert edits == {slack.dm_with(PERSON)}
