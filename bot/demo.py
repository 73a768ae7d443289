"""``stockpot demo``: the whole product on one machine, with no accounts.

One process runs the sandbox Lightspeed and SIDES servers, the Slack stand-in (which serves the
page people use), the real bot over HTTP, the scheduler and a worker, on a SQLite file in the
data directory. The bot is the production bot, pointed at the stand-in by its settings; only
the data it starts with is the demo's: the company's catalog, its till export's mappings, and
the SIDES mappings, imported when SIDES is first synced (so the walkthrough connects SIDES
itself and still finds its 19 best sellers mapped and the rest to map), and last week's stock
of the Mitte branch's store (``bot.demo_stock``: counts, deliveries, a variance to read).
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.app import BOT_SCOPES
from stockpot.bot.bootstrap import bootstrap
from stockpot.bot.commands import COMMANDS
from stockpot.bot.demo_stock import seed_week
from stockpot.bot.jobs.handlers import SyncJob
from stockpot.bot.scheduler import start_scheduler
from stockpot.bot.server import BackgroundServer, LateApp, StockpotWsgi
from stockpot.bot.socket_mode import SocketMode
from stockpot.core import company_clock
from stockpot.core.access import bind_channel, link_workspace
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import make_engine, make_session_factory, unit_of_work
from stockpot.core.jobs.worker import JobContext
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Company, Connection, JobKind, PosItem, PosMapping, Provider
from stockpot.core.settings import Settings
from stockpot.migrations import schema
from stockpot.sandbox import demo as data
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, LightspeedSandbox
from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME, SidesSandbox
from stockpot.sandbox.slack import SlackStandIn

log = logging.getLogger(__name__)

TEAM = "TDEMO"
USER = "UDEMO"
USER_NAME = "you"
CHANNEL = "CDEMO"
CHANNEL_NAME = "stockpot"
BOT_TOKEN = "xoxb-sandbox"
APP_TOKEN = "xapp-1-ADEMO-1-sandbox"


class DemoSyncJob(SyncJob):
    """A sync that, the first time SIDES is synced, maps the demo stores' 19 best sellers."""

    def run(self, context: JobContext) -> dict[str, Any]:
        result = super().run(context)
        with context.factory() as session:
            connection = session.get_one(Connection, context.job.connection_id)
            provider, label = connection.provider, connection.label
            mapped = session.scalar(
                select(PosMapping.id)
                .join(PosItem, PosItem.id == PosMapping.pos_item_id)
                .where(PosItem.connection_id == connection.id)
                .limit(1)
            )
        if provider is Provider.SIDES and mapped is None:
            import_mappings(
                context.factory, data.text("sides-mappings.yaml"), source="sides-mappings.yaml"
            )
            log.info("demo: mapped the best sellers of %s", label)
        return result


@dataclass
class Demo:
    data_dir: Path
    port: int = 8080
    pos_requests_per_second: float = 50
    """The sandbox is on this machine: the demo need not wait like a real POS asks."""
    socket_mode: bool = False
    """Reach the bot over Socket Mode (a WebSocket it opens) instead of HTTP requests."""
    servers: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopped: bool = False

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'demo.db'}"

    def start(self) -> str:
        """Start everything; returns the page's address."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lightspeed = LightspeedSandbox(plain_http_loopback=True).start(0)
        sides = SidesSandbox(retention_days=5000).start(0)
        slack = SlackStandIn(team_id=TEAM).start(self.port)
        self.servers += [lightspeed, sides, slack]
        late = LateApp()
        http = BackgroundServer(late, 0)
        self.servers.append(http)
        if self.socket_mode:
            slack.enable_socket_mode(APP_TOKEN)
        # Installed first, as a workspace installs the app: Bolt asks auth.test at start.
        slack.install(BOT_TOKEN, BOT_SCOPES)
        settings = self._settings(lightspeed.url, sides.url, slack, http.port)
        schema.upgrade(self.database_url)
        factory = make_session_factory(make_engine(self.database_url))
        first_start = self._seed(factory)
        self._stockpot = bootstrap(
            settings, factory, worker=True, replacing=lambda n: {JobKind.SYNC: DemoSyncJob(n)}
        )
        app, runner = self._stockpot.app, self._stockpot.worker
        assert app is not None and runner is not None
        late.app = StockpotWsgi(app, factory, settings)
        worker = threading.Thread(target=runner.run, args=(self._stop,), daemon=True)
        worker.start()
        self._threads.append(worker)
        self._scheduler = start_scheduler(factory, settings)
        if self.socket_mode:
            self._socket = SocketMode(app, APP_TOKEN).connect()
            assert slack.socket_mode is not None
            slack.socket_mode.wait_connected()
        slack.add_user(USER, USER_NAME, is_admin=True)
        slack.attach_bot(
            f"http://127.0.0.1:{http.port}/slack/events",
            settings.slack.signing_secret.get_secret_value(),  # type: ignore[union-attr]
            user_id=USER,
            channel_id=CHANNEL,
            channel_name=CHANNEL_NAME,
            commands=COMMANDS,
        )
        app.client.chat_postMessage(channel=CHANNEL, **_welcome(first_start))
        return f"{slack.url}/"

    def _settings(self, lightspeed: str, sides: str, slack: SlackStandIn, port: int) -> Settings:
        secret_file = self.data_dir / "signing-secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(16))
            secret_file.chmod(0o600)
        return Settings.from_variables(
            DATABASE_URL=self.database_url,
            STOCKPOT_DATA_DIR=str(self.data_dir),
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=secret_file.read_text().strip(),
            SLACK_API_URL=slack.api_url,
            SLACK_FILE_HOSTS="127.0.0.1",
            SLACK_RESPONSE_HOSTS="127.0.0.1",
            SIDES_API_URL=sides,
            LIGHTSPEED_API_URL=lightspeed,
            LIGHTSPEED_AUTH_URL=lightspeed,
            LIGHTSPEED_CLIENT_ID=DEFAULT_CLIENT_ID,
            LIGHTSPEED_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
            LIGHTSPEED_REDIRECT_URI=f"http://127.0.0.1:{port}/lightspeed/oauth/callback",
            STOCKPOT_POS_REQUESTS_PER_SECOND=self.pos_requests_per_second,
            STOCKPOT_WORKER_POLL_SECONDS=2,
            SLACK_APP_TOKEN=APP_TOKEN if self.socket_mode else None,
        )

    @staticmethod
    def _seed(factory: sessionmaker[Session]) -> bool:
        """The demo company, once: a second start reuses the data directory as it is."""
        with factory() as session:
            if session.scalar(select(Company.id).where(Company.name == data.COMPANY)):
                return False
        import_catalog(factory, data.text("catalog.yaml"), source="catalog.yaml")
        import_mappings(factory, data.text("kasse-mappings.yaml"), source="kasse-mappings.yaml")
        with unit_of_work(factory) as session:
            company = session.scalars(select(Company).where(Company.name == data.COMPANY)).one()
            link_workspace(session, TEAM, company, USER)
            bind_channel(session, TEAM, CHANNEL, company.id)
            today = company_clock.today(session, company)
        seed_week(factory, data.COMPANY, today)
        return True

    @property
    def stopping(self) -> threading.Event:
        """Set to end ``wait`` (a signal's relay sets it: ``bot.serving.stop_on_signals``)."""
        return self._stop

    def wait(self) -> None:
        self._stop.wait()

    def stop(self) -> None:
        """Stop everything started; a second call (Ctrl-C after SIGTERM) does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        scheduler = getattr(self, "_scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        socket = getattr(self, "_socket", None)
        if socket is not None:
            socket.close()
        for thread in self._threads:
            thread.join(timeout=10)
        stockpot = getattr(self, "_stockpot", None)
        if stockpot is not None:
            stockpot.close()
        for server in reversed(self.servers):
            server.stop()


def _welcome(first_start: bool) -> dict[str, Any]:
    again = "" if first_start else " (your data from last time is still here)"
    text = (
        f"*Welcome to the Stockpot demo{again}.* This is a stand-in for Slack; the bot, the "
        "POS connectors and the database are the real ones, against sandbox POS servers.\n"
        f"1. `/pos connect sides` and sign in as `{DEFAULT_USERNAME}` / `{DEFAULT_PASSWORD}`\n"
        "2. `/pos sync`, then `/pos locations`: pick a storage unit, *Activate*, *Migrate*\n"
        "3. `/pos unmapped`: *Map* one item\n"
        "4. `/transfer yesterday`: a preview, then *Post to ledger* (unless it matches what "
        "is posted)\n"
        "5. `/ledger balances`\n"
        "6. Upload a till export (CSV) into this channel\n"
        "7. `/ledger variance Lager`: last week's counts against the till, in euros\n"
        "8. `/stock count Lager`: count the store yourself\n"
        "`/pos help` lists everything."
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
