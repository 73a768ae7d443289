"""``stockpot check``: settings, database, Slack and every POS, with the fix for each problem."""

from __future__ import annotations

from dataclasses import replace

from click.testing import CliRunner

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.cli import main
from stockpot.core.settings import get_settings
from stockpot.sandbox.sides import DEFAULT_USERNAME
from stockpot.sandbox.slack import SlackStandIn


def check(monkeypatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return CliRunner().invoke(main, ["check"], catch_exceptions=False)


def test_a_healthy_installation_passes_and_each_problem_names_its_fix(
    connected, settings, sides, monkeypatch
):
    with SlackStandIn().running() as slack:
        slack.install("xoxb-sandbox", BOT_SCOPES)
        env = {
            "DATABASE_URL": connected.url,
            "SLACK_BOT_TOKEN": "xoxb-sandbox",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": slack.api_url,
            "LOG_LEVEL": "WARNING",
        }
        healthy = check(monkeypatch, **env)
        assert healthy.exit_code == 0, healthy.output
        assert "✓ schema: the schema is current" in healthy.output
        assert "✓ slack: bot UBOT in workspace Sandbox" in healthy.output
        assert "✓ Harbour Kitchen: sides:SIDES: connected as" in healthy.output

        user = sides.users[DEFAULT_USERNAME]
        sides.users[DEFAULT_USERNAME] = replace(user, password="changed")
        broken = check(monkeypatch, **{**env, "SLACK_BOT_TOKEN": "revoked-token"})
    assert broken.exit_code == 1
    assert "✗ slack: auth.test answered invalid_auth" in broken.output
    assert "fix: the token is wrong or was revoked" in broken.output
    assert "✗ Harbour Kitchen: sides:SIDES:" in broken.output
    assert "stockpot pos test --company 'Harbour Kitchen'" in broken.output
    assert "2 problem(s)" in broken.output


def test_an_unreachable_database_is_a_problem_with_its_fix(monkeypatch, tmp_path):
    result = check(
        monkeypatch,
        DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
        LOG_LEVEL="WARNING",
    )
    assert result.exit_code == 1
    assert "✗ database: postgresql+psycopg://nobody@127.0.0.1:1/none cannot be reached" in (
        result.output
    )
    assert "fix: check DATABASE_URL" in result.output
    assert "✗ slack settings: Slack is not configured" in result.output
