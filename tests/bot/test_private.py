"""An answer for one person (``tell_privately``) against the Slack stand-in over HTTP: shown
to them alone in the channel, else in their DM saying why, else logged; never raised."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.missing_scope import lacking, missing_permission
from stockpot.bot.private import tell_privately
from stockpot.sandbox.slack import SlackStandIn

CHANNEL = "C0001"


@pytest.fixture
def slack():
    with SlackStandIn().running() as server:
        server.install("xoxb-sandbox", BOT_SCOPES)
        server.add_user("U1", "uno")
        yield server


def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-sandbox", base_url=slack.api_url)


def test_shown_in_the_channel_to_someone_in_it(slack):
    assert tell_privately(client(slack), CHANNEL, "U1", text="Saved")
    assert [c.method for c in slack.calls] == ["chat.postEphemeral"]


@pytest.mark.parametrize("gone", ["user", "bot", "archived"])
def test_where_the_channel_cannot_show_it_it_comes_to_their_dm(slack, gone):
    if gone == "user":
        slack.leave(CHANNEL, "U1")
    elif gone == "bot":
        slack.outside_channels.add(CHANNEL)
    else:
        slack.archive(CHANNEL)
    assert tell_privately(client(slack), CHANNEL, "U1", text="Saved *Flour*")
    dm = slack.wait_for("chat.postMessage")[0]
    assert dm.args["channel"] == "U1"
    shown = str(dm.args["blocks"])
    assert "Saved *Flour*" in shown and f"could not show you this in <#{CHANNEL}>" in shown


def test_nowhere_to_show_it_is_logged_not_raised(slack, caplog):
    slack.leave(CHANNEL, "UGONE")  # and Slack knows no such person: no DM either
    with caplog.at_level(logging.WARNING):
        assert not tell_privately(client(slack), CHANNEL, "UGONE", text="Saved")
    assert "could not show UGONE an answer" in caplog.text
    assert "channel_not_found" in caplog.text


def test_a_permission_the_install_lacks_is_logged_with_its_fix(slack, caplog):
    slack.install("xoxb-sandbox", [s for s in BOT_SCOPES if not s.startswith("chat:")])
    with caplog.at_level(logging.WARNING):
        assert not tell_privately(client(slack), CHANNEL, "U1", text="Saved")
    assert "chat.postEphemeral needs the chat:write scope" in caplog.text
    assert "reinstalls the app" in caplog.text


def test_a_scope_any_of_several_would_grant_is_named_with_them_all(slack):
    """``missing_scope`` with ``needed`` listing several scopes (any one would do) reads as
    one of them, not as one scope named "channels:read,groups:read,…"."""
    slack.install("xoxb-sandbox", ["chat:write"])
    with pytest.raises(SlackApiError) as refused:
        client(slack).conversations_info(channel=CHANNEL)
    assert lacking(refused.value) == (
        "conversations.info needs one of the scopes channels:read, groups:read, im:read, "
        "mpim:read, which the install lacks; a workspace admin reinstalls the app to grant it"
    )
    told = str(missing_permission(refused.value))
    assert "lacks one of the scopes `channels:read`, `groups:read`" in told
