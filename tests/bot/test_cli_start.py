"""The CLI starts at once: `--help` loads no Slack, chart or demo code; a read-only command
in an empty directory leaves no database file behind; the schema check logs nothing."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from click.testing import CliRunner

from stockpot.bot.cli import main
from stockpot.core.settings import CHATTY_LIBRARIES, Settings, configure_logging

HEAVY = ("slack_bolt", "slack_sdk", "matplotlib", "stockpot.bot.demo", "stockpot.sandbox")


def test_the_command_line_loads_no_slack_chart_or_demo_code():
    code = (
        "import sys; import stockpot.bot.cli; "
        f"print(sorted({{m.split('.')[0] if not m.startswith('stockpot') else m "
        f"for m in sys.modules if m.startswith({HEAVY!r})}}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_a_read_only_command_in_an_empty_directory_creates_no_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STOCKPOT_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["ledger", "balances", "--company", "Trattoria"])
    assert result.exit_code == 1
    assert "there is no database at" in result.output
    assert "stockpot db upgrade" in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_schema_check_logs_nothing(database, caplog):
    from stockpot.bot.health import schema_problem

    with caplog.at_level(logging.DEBUG):
        assert schema_problem(database.engine) is None
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []


def test_library_chatter_shows_only_at_debug(monkeypatch):
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        configure_logging(Settings.from_variables(LOG_LEVEL="INFO"))
        assert all(logging.getLogger(n).level == logging.WARNING for n in CHATTY_LIBRARIES)
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)
        root.setLevel(logging.DEBUG)
        configure_logging(Settings.from_variables(LOG_LEVEL="DEBUG"))
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.NOTSET)


UNENCODED = "postgresql+psycopg://stockpot:s3cret@pw-tail@127.0.0.1:1/stockpot"
"""A password holding an '@' not written %40: the URL reads "pw-tail@127.0.0.1" as its host."""


def test_serve_and_worker_refuse_an_unencoded_at_in_the_password_and_show_none_of_it(
    monkeypatch,
):
    """Only `stockpot check` caught it: `serve` and `worker` went on to connect and printed
    the driver's "failed to resolve host 'pw-tail@127.0.0.1'", a piece of the password.
    Settings refuse it now, naming the setting and the fix, and echo nothing of the value."""
    monkeypatch.setenv("DATABASE_URL", UNENCODED)
    for command in (["serve"], ["worker"], ["db", "upgrade"]):
        result = CliRunner().invoke(main, command, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(
            "error: settings: DATABASE_URL: its password holds an '@' not written as %40; "
            "write each '@' in the password as %40"
        ), result.output
        assert "pw-tail" not in result.output and "s3cret" not in result.output


def test_the_listen_url_is_held_to_the_same_rule(monkeypatch):
    monkeypatch.setenv("STOCKPOT_LISTEN_URL", UNENCODED)
    result = CliRunner().invoke(main, ["worker"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error: settings: STOCKPOT_LISTEN_URL: its password holds an '@'" in result.output
    assert "pw-tail" not in result.output and "s3cret" not in result.output


def test_a_refused_setting_is_named_and_its_value_never_echoed(monkeypatch):
    """Pydantic's own message quotes the value refused (input_value=...): a token or a
    password set in the wrong variable would be printed."""
    monkeypatch.setenv("STOCKPOT_WORKER_THREADS", "xoxb-not-a-number")
    result = CliRunner().invoke(main, ["jobs", "list"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error: settings: STOCKPOT_WORKER_THREADS: Input should be a valid integer" in (
        result.output
    )
    assert "xoxb" not in result.output


@pytest.mark.parametrize(
    "given",
    [
        "postgres://stockpot:s3cret@db.example:5433/stockpot",
        "postgresql://stockpot:s3cret@db.example:5433/stockpot",
    ],
)
def test_a_plain_postgresql_url_is_read_as_psycopg(given):
    """Hosts hand out ``postgres://`` (Heroku, Render, Fly) or ``postgresql://`` (libpq's own
    form, what README's example of a bad password shows): SQLAlchemy read the first as a
    dialect that does not exist and the second as psycopg2, which Stockpot does not ship, so
    `serve`, `worker`, `db upgrade` and `check` died in a traceback (No module named
    'psycopg2'). Both are read as the psycopg driver Stockpot runs on."""
    settings = Settings.from_variables(DATABASE_URL=given)
    assert settings.database.url == "postgresql+psycopg://stockpot:s3cret@db.example:5433/stockpot"


def test_check_reaches_a_plain_postgresql_url_instead_of_crashing(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "✗ database: postgresql+psycopg://nobody@127.0.0.1:1/none cannot be reached" in (
        result.output
    )


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("stockpot.db", "it is not a database URL"),
        ("mysql://stockpot:s3cret@db.example/stockpot", "Stockpot runs on SQLite or PostgreSQL"),
        (
            "postgresql+asyncpg://stockpot:s3cret@db.example/stockpot",
            "Stockpot talks to PostgreSQL through psycopg",
        ),
    ],
)
def test_a_database_url_stockpot_cannot_open_is_refused_by_name(monkeypatch, given, said):
    """A path where a URL belongs, or another database or driver, ended `serve`, `worker`,
    `db upgrade` and `check` in SQLAlchemy's traceback (ArgumentError, No module named
    'MySQLdb'); now settings refuse it, naming the variable and the fix, echoing none of it."""
    monkeypatch.setenv("DATABASE_URL", given)
    for command in (["serve"], ["worker"], ["db", "upgrade"]):
        result = CliRunner().invoke(main, command, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"error: settings: DATABASE_URL: {said}"), result.output
        assert "postgresql+psycopg://user:password@host/db" in result.output
        assert "s3cret" not in result.output
    checked = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    assert checked.exit_code == 1
    assert f"✗ settings: DATABASE_URL: {said}" in checked.output


@pytest.mark.parametrize("given", ["", " ", ",", " , "])
def test_a_blank_secret_key_is_refused_by_name_not_in_a_traceback(monkeypatch, given):
    """`STOCKPOT_SECRET_KEY=` left blank in a `.env` ended `check`, `serve` and every other
    command in an IndexError traceback (a key list with no key)."""
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", given)
    for command in (["jobs", "list"], ["worker"]):
        result = CliRunner().invoke(main, command, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(
            "error: settings: STOCKPOT_SECRET_KEY: it is set but holds no key; set it to one "
            "`stockpot secret generate` prints"
        ), result.output
    checked = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    assert checked.exit_code == 1
    assert "✗ settings: STOCKPOT_SECRET_KEY: it is set but holds no key" in checked.output


def test_an_unknown_log_level_is_refused_by_name_not_in_a_traceback(monkeypatch):
    """`LOG_LEVEL=verbose` ended every command in logging's ValueError traceback."""
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    result = CliRunner().invoke(main, ["jobs", "list"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        "error: settings: LOG_LEVEL: write one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    ), result.output


def test_a_log_level_is_read_in_any_case():
    assert Settings.from_variables(LOG_LEVEL=" warning ").log.level == "WARNING"


def test_a_blank_signing_secret_is_not_set_and_serve_refuses_to_start(database, monkeypatch):
    """`SLACK_SIGNING_SECRET=` served with the empty key: a request signed with it passed the
    gate as Slack's, so anyone reaching the port could act as any user."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "  ")
    assert Settings().slack.signing_secret is None
    result = CliRunner().invoke(main, ["serve", "--port", "0"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "SLACK_SIGNING_SECRET is not set" in result.output
    checked = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    assert "✗ slack settings: Slack is not configured" in checked.output
