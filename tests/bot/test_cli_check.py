"""``stockpot check``: settings, database, Slack and every POS, with the fix for each problem."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from stockpot.bot import health
from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.cli import main
from stockpot.bot.health import autovacuum
from stockpot.core.crypto import generate_key
from stockpot.core.models import Connection
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
        if connected.dialect == "postgresql":
            assert "✓ job wake-ups: a NOTIFY reaches a LISTEN on DATABASE_URL" in healthy.output
            if server_autovacuum(connected) == "off":  # as on this machine: warned, not failed
                assert (
                    "! autovacuum: the PostgreSQL server runs with autovacuum = off: "
                    in healthy.output
                )
                assert "    fix: ALTER SYSTEM SET autovacuum = on" in healthy.output
                assert "everything answers (1 warning)" in healthy.output
            else:
                assert "✓ autovacuum: on" in healthy.output
        else:
            assert "job wake-ups" not in healthy.output, "SQLite's worker is woken in-process"
            assert "autovacuum" not in healthy.output

        user = sides.users[DEFAULT_USERNAME]
        sides.users[DEFAULT_USERNAME] = replace(user, password="changed")
        broken = check(monkeypatch, **{**env, "SLACK_BOT_TOKEN": "revoked-token"})
    assert broken.exit_code == 1
    assert "✗ slack: auth.test answered invalid_auth" in broken.output
    assert "fix: the token is wrong or was revoked" in broken.output
    assert "✗ Harbour Kitchen: sides:SIDES:" in broken.output
    assert "stockpot pos test --company 'Harbour Kitchen'" in broken.output
    assert "2 problems" in broken.output


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


def test_an_unreachable_slack_is_a_problem_with_its_fix(monkeypatch, tmp_path, caplog):
    """A refused connection reaches us as urllib's URLError, which is no SlackClientError:
    `stockpot check` ended in its traceback instead of saying Slack cannot be reached (the
    socket-mode check too, with an app token). slack_sdk's own lines about it ("ERROR
    slack_sdk.web.base_client: Failed to send a request…", its retries) were printed above
    the answer, reading like a crash: the check's answer says it once."""
    result = check(
        monkeypatch,
        DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}",
        SLACK_BOT_TOKEN="xoxb-any",
        SLACK_APP_TOKEN="xapp-any",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:1/api/",
    )
    assert result.exit_code == 1
    assert "✗ slack: Slack cannot be reached at http://127.0.0.1:1/api/: " in result.output
    assert "✗ socket mode: Slack cannot be reached at http://127.0.0.1:1/api/: " in result.output
    assert "fix: check SLACK_API_URL and this machine's network" in result.output
    assert "xoxb-any" not in result.output and "xapp-any" not in result.output
    library = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records]
    assert [line for line in library if "slack_sdk" in line] == []


def test_checking_where_there_is_no_database_creates_none(monkeypatch, tmp_path):
    """SQLite makes the file it is asked to open: `stockpot check` in the wrong directory
    (or with a mistyped path) left an empty stockpot.db behind and called it a database that
    answers, not initialised; the next `db upgrade` would have filled the wrong file."""
    monkeypatch.chdir(tmp_path)
    result = check(monkeypatch, DATABASE_URL="sqlite:///stockpot.db", LOG_LEVEL="WARNING")
    assert result.exit_code == 1
    assert "✗ database: there is no database at stockpot.db" in result.output
    assert "fix: run `stockpot db upgrade` to create it, or set DATABASE_URL" in result.output
    assert "schema" not in result.output
    assert not (tmp_path / "stockpot.db").exists()


def test_a_password_with_an_unencoded_at_is_named_not_shown(monkeypatch):
    """In ``user:p@ss@host`` everything after the password's own '@' is read as the host:
    the database line and the driver's error named that "host", a piece of the password.
    The settings refuse it (the rule every command starts with); check says so among its
    checks, with the fix."""
    result = check(
        monkeypatch,
        DATABASE_URL="postgresql+psycopg://stockpot:s3cret@pw-tail@127.0.0.1:1/stockpot",
        LOG_LEVEL="WARNING",
    )
    assert result.exit_code == 1
    assert "pw-tail" not in result.output and "s3cret" not in result.output
    assert (
        "✗ settings: DATABASE_URL: its password holds an '@' not written as %40; "
        "write each '@' in the password as %40" in result.output
    )


@pytest.mark.postgresql_only
def test_workers_listening_through_pgbouncer_are_a_problem_with_its_fix(
    database, pgbouncer_url, monkeypatch
):
    env = {"DATABASE_URL": pgbouncer_url, "LOG_LEVEL": "WARNING"}
    through = check(monkeypatch, **env)
    assert through.exit_code == 1
    assert (
        "✗ job wake-ups: workers cannot LISTEN for new jobs on DATABASE_URL: a NOTIFY sent "
        "there did not arrive within 3 s" in through.output
    )
    assert "fix: set STOCKPOT_LISTEN_URL to a direct connection to PostgreSQL" in through.output
    direct = check(monkeypatch, **env, STOCKPOT_LISTEN_URL=database.url)
    assert "✓ job wake-ups: a NOTIFY reaches a LISTEN on STOCKPOT_LISTEN_URL" in direct.output


@pytest.mark.postgresql_only
def test_a_listen_url_that_is_no_url_is_a_problem_and_its_password_is_not_shown(
    database, monkeypatch
):
    """A typo in STOCKPOT_LISTEN_URL's port (or a URL that does not parse) is the wake-ups
    check failing with its fix, like an unreachable one, not `stockpot check` crashing."""
    for wrong in (
        "postgresql://stockpot:s3cret-pw@127.0.0.1:54x2/stockpot",
        "stockpot:s3cret-pw@127.0.0.1/stockpot",
    ):
        result = check(
            monkeypatch, DATABASE_URL=database.url, STOCKPOT_LISTEN_URL=wrong, LOG_LEVEL="WARNING"
        )
        assert result.exit_code == 1
        assert "✗ job wake-ups: workers cannot LISTEN on STOCKPOT_LISTEN_URL: " in result.output
        assert "fix: check STOCKPOT_LISTEN_URL" in result.output
        assert "s3cret-pw" not in result.output


def test_autovacuum_off_is_a_warning_with_why_and_the_fix_on_is_a_pass():
    """The reading is a pure function of the server's settings: every reading it can have."""
    on = autovacuum({"autovacuum": "on", "track_counts": "on"})
    assert (on.ok, on.warning, on.needed) == (True, False, False)
    assert on.detail == "on: PostgreSQL vacuums and analyses each table as it changes"

    off = autovacuum({"autovacuum": "off", "track_counts": "on"})
    assert (off.ok, off.warning, off.needed) == (False, True, False)
    assert off.detail.startswith("the PostgreSQL server runs with autovacuum = off: ")
    for why in ("statistics go stale", "bloat the tables and their indexes", "BRIN"):
        assert why in off.detail
    assert "ALTER SYSTEM SET autovacuum = on" in off.fix and "pg_reload_conf()" in off.fix

    # autovacuum does nothing without the row counts it decides by
    counts_off = autovacuum({"autovacuum": "on", "track_counts": "off"})
    assert counts_off.warning and "track_counts = off" in counts_off.detail
    assert "ALTER SYSTEM SET track_counts = on" in counts_off.fix


def test_the_real_servers_autovacuum_is_read_and_readiness_lists_it_not_needed(database):
    """This machine's PostgreSQL runs with autovacuum = off: the database checks say so
    (`stockpot check` and /readyz: `test_a_healthy_installation…`), as a warning that
    readiness does not wait for. SQLite has no such setting."""
    ready = health.readiness(database.factory, timedelta(minutes=1), workers_needed=False)
    found = [c for c in ready if c.name == "autovacuum"]
    if database.dialect != "postgresql":
        assert found == []
        return
    (reading,) = found
    assert (reading.ok, reading.warning) == (
        server_autovacuum(database) == "on",
        server_autovacuum(database) != "on",
    )
    assert not reading.needed
    assert all(c.ok for c in ready if c.needed), "a warning never makes a process unready"


def server_autovacuum(database) -> str:
    with database.engine.connect() as connection:
        return connection.execute(text("SHOW autovacuum")).scalar_one()


def test_stored_secrets_are_tried_with_the_key_not_vouched_for_by_it(
    connected, settings, monkeypatch
):
    """A database restored under another STOCKPOT_SECRET_KEY: `check` said "✓ secret key:
    stored credentials can be decrypted" from the key alone, then failed each POS on it."""
    env = {"DATABASE_URL": connected.url, "LOG_LEVEL": "WARNING"}
    right = check(monkeypatch, **env)
    assert "✓ secret key: STOCKPOT_SECRET_KEY holds a valid key" in right.output
    assert "✓ stored secrets: 1 stored secret, each decrypts with STOCKPOT_SECRET_KEY" in (
        right.output
    )
    other = check(monkeypatch, **env, STOCKPOT_SECRET_KEY=generate_key())
    assert other.exit_code == 1
    assert "stored credentials can be decrypted" not in other.output
    with connected.session() as session:
        (row,) = session.scalars(select(Connection.id))
    assert (
        "✗ stored secrets: 1 of 1 stored secret cannot be decrypted with any key of "
        f"STOCKPOT_SECRET_KEY (connection row {row} (credentials))\n"
        "    fix: give the key they were encrypted with, after the current one "
        "(STOCKPOT_SECRET_KEY=new,old), or connect those POS and workspaces again"
    ) in other.output
    assert settings.secret_key is not None
    old = settings.secret_key.get_secret_value()
    both = check(monkeypatch, **env, STOCKPOT_SECRET_KEY=f"{generate_key()},{old}")
    assert "✓ stored secrets: 1 stored secret, each decrypts" in both.output


@pytest.mark.parametrize("uri", ["ftp://stockpot.example.com/cb", "http://stockpot.example.com/cb"])
def test_a_lightspeed_redirect_lightspeed_would_refuse_is_a_problem_before_anyone_connects(
    monkeypatch, tmp_path, uri
):
    """Refused only when an admin pressed Connect before: `check` said nothing of it."""
    result = check(
        monkeypatch,
        DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}",
        LIGHTSPEED_REDIRECT_URI=uri,
        LOG_LEVEL="WARNING",
    )
    assert result.exit_code == 1
    assert f"✗ lightspeed redirect: LIGHTSPEED_REDIRECT_URI is '{uri}': Lightspeed sends" in (
        result.output
    )
    assert "fix: set LIGHTSPEED_REDIRECT_URI to https://<your Stockpot host>/" in result.output


def test_a_loopback_lightspeed_redirect_for_the_sandbox_is_no_problem(monkeypatch, tmp_path):
    result = check(
        monkeypatch,
        DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}",
        LIGHTSPEED_REDIRECT_URI="http://127.0.0.1:3000/lightspeed/oauth/callback",
        LOG_LEVEL="WARNING",
    )
    assert "lightspeed redirect" not in result.output
