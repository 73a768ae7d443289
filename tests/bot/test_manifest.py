"""The manifest declares what the bot handles, within Slack's limits, and grants every Web
API method the bot calls."""

import ast
import inspect
import re
from pathlib import Path

import yaml
from slack_sdk import WebClient

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.blocks.usage import help_blocks
from stockpot.bot.commands import COMMANDS
from stockpot.bot.manifest import manifest_text
from stockpot.sandbox.slack import METHOD_SCOPES, METHODS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "app_manifest.yml").read_text())


def test_every_command_the_bot_answers_is_declared():
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == set(COMMANDS)
    for command in MANIFEST["features"]["slash_commands"]:
        assert len(command["command"]) <= 32 and len(command["usage_hint"]) <= 1000


def test_app_manifest_yml_is_the_generated_one():
    """Run `stockpot manifest --write` after changing bot/commands.py or BOT_SCOPES."""
    assert (ROOT / "app_manifest.yml").read_text() == manifest_text()


def test_usage_hints_come_from_the_command_table():
    hints = {c["command"]: c["usage_hint"] for c in MANIFEST["features"]["slash_commands"]}
    for name, command in COMMANDS.items():
        for sub in command.subcommands:
            assert sub.usage in hints[name]
            assert f"{name} {sub.usage}".replace("<", "&lt;").replace(">", "&gt;") in str(
                help_blocks(name)
            ), "the help shows each usage, escaped"


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


def _web_api_methods(name: str, seen: set[str] | None = None) -> set[str]:
    """The Web API methods a ``WebClient`` method calls, read from slack_sdk's own source
    (``files_upload_v2`` calls ``files.getUploadURLExternal`` and
    ``files.completeUploadExternal``)."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    source = inspect.getsource(getattr(WebClient, name))
    found = set(re.findall(r'api_call\(\s*"([\w.]+)"', source))
    for inner in re.findall(r"self\.(\w+)\(", source):
        if inner != "api_call" and callable(getattr(WebClient, inner, None)):
            found |= _web_api_methods(inner, seen)
    return found


def _methods_the_bot_calls() -> dict[str, set[str]]:
    """Every Web API method called anywhere in the shipped code, with where."""
    client_methods = {
        name for name in dir(WebClient) if not name.startswith("_") and name != "api_call"
    }
    called: dict[str, set[str]] = {}
    for folder in ("bot", "handlers", "core"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in client_methods
                ):
                    for method in _web_api_methods(node.func.attr):
                        called.setdefault(method, set()).add(str(path.relative_to(ROOT)))
    return called


def test_every_web_api_method_the_bot_calls_is_allowed_by_the_manifest():
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    called = _methods_the_bot_calls()
    # The scan finds what the bot is known to call (a scan that finds nothing proves nothing).
    assert {"chat.postMessage", "chat.update", "views.open", "files.completeUploadExternal"} <= set(
        called
    )
    for method, where in sorted(called.items()):
        if method == "apps.connections.open":
            continue  # called with the app-level token (connections:write), not the bot's
        assert method in METHODS, f"{method} (called in {where}): teach the stand-in its scopes"
        accepted = set(METHOD_SCOPES.get(method, ()))
        assert not accepted or accepted & granted, (
            f"{method} (called in {sorted(where)}) needs one of {sorted(accepted)}; "
            f"app_manifest.yml grants {sorted(granted)}"
        )


def _cli(*args: str):
    from click.testing import CliRunner

    from stockpot.bot.cli import main

    return CliRunner().invoke(main, ["manifest", *args], catch_exceptions=False)


def _urls(node) -> list[str]:
    if isinstance(node, dict):
        return [u for key, value in node.items() for u in _urls(value)] + [
            value for key, value in node.items() if "url" in key and isinstance(value, str)
        ]
    if isinstance(node, list):
        return [u for item in node for u in _urls(item)] + [
            item for item in node if isinstance(item, str) and item.startswith("https://")
        ]
    return []


def test_the_manifest_is_printed_with_the_operators_own_address():
    """An operator had to replace stockpot.example.com by hand in every request URL."""
    result = _cli("--url", "https://stock.pizzeria.example.org/")
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    urls = _urls(printed)
    assert len(urls) == len(_urls(MANIFEST)) >= 8
    assert all(u.startswith("https://stock.pizzeria.example.org/slack/") for u in urls), urls
    assert "//slack" not in result.output.replace("https://", "")
    assert printed["features"]["slash_commands"] == [
        {**command, "url": "https://stock.pizzeria.example.org/slack/events"}
        for command in MANIFEST["features"]["slash_commands"]
    ]


def test_a_socket_mode_manifest_has_no_address():
    result = _cli("--socket-mode")
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.output)
    assert _urls(printed) == []
    assert printed["settings"]["socket_mode_enabled"] is True
    assert printed["settings"]["interactivity"]["is_enabled"] is True
    assert printed["oauth_config"]["scopes"] == MANIFEST["oauth_config"]["scopes"]


def test_an_address_slack_would_refuse_is_refused_with_what_to_write():
    for given in ("http://stock.example.org", "stock.example.org", "https://x.org/?a=1"):
        result = _cli("--url", given)
        assert result.exit_code == 2
        assert f"Invalid value for --url: {given!r} is not an address Slack sends" in (
            result.output
        )
        assert "e.g. https://stockpot.example.org" in result.output
    both = _cli("--url", "https://x.org", "--socket-mode")
    assert both.exit_code == 2 and "Socket Mode uses no address" in both.output
