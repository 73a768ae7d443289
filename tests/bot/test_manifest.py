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
