"""A retry looks for what its job already posted, a message by the key its metadata carries
and a file by its name and title, over one window: from ``LOOKBACK`` before the job was
queued, which absorbs Slack's clock running apart from ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.jobs.slack import LOOKBACK, find_file, find_message, stamped
from stockpot.sandbox.slack import SlackStandIn

CHANNEL = "C0001"


@pytest.fixture
def client():
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        yield WebClient(token="xoxb-sandbox", base_url=slack.api_url)


def test_messages_and_files_are_looked_for_over_the_same_window(client):
    posted = client.chat_postMessage(**stamped({"channel": CHANNEL, "text": "Report"}, "job:1"))
    client.files_upload_v2(channel=CHANNEL, filename="chart.png", content=b"png", title="Chart")
    shared = datetime.now(UTC)
    # Queued (by our clock) up to LOOKBACK after Slack's clock has them: both are found.
    within = shared + LOOKBACK - timedelta(seconds=30)
    assert find_message(client, CHANNEL, "job:1", within) == posted["ts"]
    assert find_file(client, CHANNEL, "chart.png", "Chart", within)
    # Further apart, neither is: the look starts after them.
    beyond = shared + LOOKBACK + timedelta(seconds=30)
    assert find_message(client, CHANNEL, "job:1", beyond) is None
    assert not find_file(client, CHANNEL, "chart.png", "Chart", beyond)
