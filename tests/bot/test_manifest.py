"""The manifest declares what the bot handles, within Slack's limits."""

from pathlib import Path

import yaml

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.blocks.usage import USAGES

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "app_manifest.yml").read_text())


def test_every_command_the_bot_answers_is_declared():
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == set(USAGES)
    for command in MANIFEST["features"]["slash_commands"]:
        assert len(command["command"]) <= 32 and len(command["usage_hint"]) <= 1000


def test_events_and_limits():
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "file_shared",
    ]
    assert MANIFEST["oauth_config"]["scopes"]["bot"] == BOT_SCOPES
    assert len(MANIFEST["display_information"]["name"]) <= 35
    assert len(MANIFEST["display_information"]["description"]) <= 140
