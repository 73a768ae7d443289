"""The bot running for real: waitress on a free port, Slack replaced by the local stand-in,
SIDES by its sandbox, requests signed as Slack signs them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from slack_bolt import App
from sqlalchemy import select

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.bootstrap import bootstrap
from stockpot.bot.cli import main
from stockpot.bot.observed import ContextCarryingExecutor
from stockpot.bot.ops_http import OpsRoutes
from stockpot.bot.server import BackgroundServer, LateApp, StockpotWsgi
from stockpot.bot.socket_mode import SocketMode
from stockpot.bot.work import WorkQueue
from stockpot.core.access import link_workspace, set_role
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.crypto import generate_key
from stockpot.core.db import unit_of_work
from stockpot.core.jobs.worker import Worker
from stockpot.core.models import Company, Role
from stockpot.core.settings import Settings
from stockpot.sandbox.http import Clock
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, LightspeedSandbox
from stockpot.sandbox.sides import SidesSandbox
from stockpot.sandbox.slack import SlackStandIn
from stockpot.sandbox.slack_sender import SlackSender
from stockpot.sandbox.slack_socket import SocketSender
from tests.catalogs import TRATTORIA

SECRET = "sandbox-signing-secret"
APP_TOKEN = "xapp-1-A0001-1-sandbox"
CLIENT_SECRET = "sandbox-client-secret-5f1c0e"
TEAM, OTHER_TEAM = "T0001", "T0002"
ADMIN, VIEWER, STRANGER, OTHER_ADMIN = "UADMIN", "UVIEW", "USTRANGER", "UOTHER"
OTHER_COMPANY = """
company: Osteria Altra
storage_units: [{name: Cantina, address: Napoli}]
"""


@dataclass
class Bot:
    database: object
    slack: SlackStandIn
    send: SlackSender
    sides: SidesSandbox
    work: WorkQueue
    settings: Settings
    port: int
    worker: Worker
    lightspeed: LightspeedSandbox | None = None
    listeners: ContextCarryingExecutor | None = None
    app: App | None = None

    def drain(self) -> int:
        """Finish the work queued so far: the listeners of requests already acked, short
        tasks, then every due job (helping the background worker, and waiting for what it
        is running)."""
        if self.listeners is not None:
            self.listeners.join()
        self.work.join()
        return self.worker.run_until_idle(wait_for_others=True)


@pytest.fixture
def bot(database, monkeypatch):
    yield from _running_bot(database, monkeypatch, {})


@pytest.fixture
def socket_bot(database, monkeypatch):
    """The same bot reached over Socket Mode: Slack's envelopes come through a WebSocket the
    bot opened (``bot.send`` sends the same payloads as envelopes and returns the ack)."""
    yield from _running_bot(database, monkeypatch, {"SLACK_APP_TOKEN": APP_TOKEN})


@pytest.fixture
def installable_bot(database, monkeypatch):
    """Multi-workspace mode: no bot token, workspaces install the app through OAuth."""
    yield from _running_bot(
        database,
        monkeypatch,
        {
            "SLACK_BOT_TOKEN": None,
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        },
    )


def _running_bot(database, monkeypatch, overrides):
    late = LateApp()
    server = BackgroundServer(late, 0)
    port = server.port
    try:
        yield from _serve(database, monkeypatch, overrides, late, port)
    finally:
        server.stop()


def _serve(database, monkeypatch, overrides, late, port):
    # Slack's clock stands still: a trigger's 3 s (and a response_url's 30 minutes) pass when
    # a test moves it, not while a loaded machine runs the answer (a modal opened after 3 s
    # of wall time under load was refused, and its test failed).
    with (
        SlackStandIn(clock=Clock(datetime.now(UTC))).running() as slack,
        SidesSandbox(retention_days=5000).running() as sides,
        LightspeedSandbox(plain_http_loopback=True).running() as lightspeed,
    ):
        # Installed as a workspace installs it: with exactly the manifest's scopes.
        slack.install("xoxb-sandbox", BOT_SCOPES)
        slack.installing_scopes = tuple(BOT_SCOPES)
        for user in (ADMIN, VIEWER, STRANGER, OTHER_ADMIN):
            # People Slack knows (users.info) in whichever workspace asks.
            slack.add_user(user, user.lower())
        slack.oauth_client = ("111.222", CLIENT_SECRET)
        for name, value in {
            "SLACK_BOT_TOKEN": "xoxb-sandbox",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "SIDES_API_URL": sides.url,
            "STOCKPOT_SECRET_KEY": generate_key(),
            "LIGHTSPEED_CLIENT_ID": DEFAULT_CLIENT_ID,
            "LIGHTSPEED_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
            "LIGHTSPEED_REDIRECT_URI": f"http://127.0.0.1:{port}/lightspeed/oauth/callback",
            "LIGHTSPEED_API_URL": lightspeed.url,
            "LIGHTSPEED_AUTH_URL": lightspeed.url,
            "SLACK_FILE_HOSTS": "slack-files.test,127.0.0.1",
            "SLACK_RESPONSE_HOSTS": "127.0.0.1",
            "SLACK_AUTHORIZE_URL": f"{slack.url}/oauth/v2/authorize",
            "STOCKPOT_WORKER_POLL_SECONDS": "0.05",
            "STOCKPOT_JOB_RETRY_SECONDS": "0",
            "STOCKPOT_POS_REQUESTS_PER_SECOND": "1000",
            **overrides,
        }.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        settings = Settings()
        import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
        import_catalog(database.factory, OTHER_COMPANY, source="other.yaml")
        with unit_of_work(database.factory) as session:
            trattoria = session.scalar(select(Company).where(Company.name == "Trattoria Esempio"))
            link_workspace(session, TEAM, trattoria, ADMIN)
            set_role(session, trattoria.id, TEAM, VIEWER, Role.VIEWER)
            altra = session.scalar(select(Company).where(Company.name == "Osteria Altra"))
            link_workspace(session, OTHER_TEAM, altra, OTHER_ADMIN)
        stockpot = bootstrap(settings, database.factory, worker=True)
        app, worker, work = stockpot.app, stockpot.worker, stockpot.work
        late.app = OpsRoutes(
            StockpotWsgi(app, database.factory, settings), database.factory, settings
        )
        socket_mode = None
        if settings.slack.app_token is not None:
            slack.enable_socket_mode(APP_TOKEN)
            socket_mode = SocketMode(app, APP_TOKEN).connect()
            slack.socket_mode.wait_connected()
            sender = SocketSender(slack)
        else:
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, slack)
        stop = threading.Event()
        background = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        background.start()
        try:
            listeners = app.listener_runner.listener_executor
            yield Bot(
                database,
                slack,
                sender,
                sides,
                work,
                settings,
                port,
                worker,
                lightspeed,
                listeners if isinstance(listeners, ContextCarryingExecutor) else None,
                app,
            )
        finally:
            stop.set()
            worker.wake()  # its lanes see the stop now, not after their next poll
            background.join()
            if socket_mode is not None:
                socket_mode.close()
            sender.close()
            stockpot.close()


@pytest.fixture
def cli(database, monkeypatch):
    """Runs ``stockpot`` on the test database; returns its output, asserting the exit code."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


@pytest.fixture
def day_posted(bot):
    """SIDES connected and synced, store 36 linked and active, 2025-03-14 posted."""
    # Imported here: the Slack helpers import this conftest's users and teams.
    from tests.bot.test_slack_app import connect_sides, posted, teltow_synced_and_active

    connect_sides(bot)
    posted(bot, "connected SIDES")
    teltow_synced_and_active(bot)
    bot.send.command("/transfer", "2025-03-14 Pizzeria Beispiel Teltow --now", user=ADMIN)
    posted(bot, "Posted: Pizzeria Beispiel Teltow, 2025-03-14")
    return bot
