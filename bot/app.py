"""The Bolt app factory: one place that wires the Slack client, verification, the services
every listener needs, the error handler and the listeners."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.orm import Session, sessionmaker

from stockpot import handlers
from stockpot.bot import acks
from stockpot.bot.dispatch import Before, StockpotApp, direct_matchers
from stockpot.bot.errors import error_handler
from stockpot.bot.gate import response_hosts_guard, signing_secret
from stockpot.bot.installations import (
    INSTALL_TIMEOUT_SECONDS,
    BoundedOAuthFlow,
    EncryptedInstallationStore,
    StateStore,
    StoredBotAuthorize,
)
from stockpot.bot.jobs.answers import AnswerJob, once_clients
from stockpot.bot.observed import ContextCarryingExecutor, MeteredWebClient, metered_clients
from stockpot.bot.responses import answer_middleware
from stockpot.bot.slack_tokens import SLACK_FIXES
from stockpot.bot.work import WorkQueue
from stockpot.core import redaction
from stockpot.core.crypto import secret_box
from stockpot.core.db import writing_engine
from stockpot.core.errors import ConfigurationError
from stockpot.core.jobs.runtime import JobRuntime
from stockpot.core.settings import Settings
from stockpot.handlers.answers import answer_pool
from stockpot.handlers.context import SERVICES, Services

log = logging.getLogger(__name__)

LISTENER_THREADS = 16
"""Bolt's default is 5; acks must never wait behind slow listeners."""


def slack_client(settings: Settings, logger: logging.Logger | None = None) -> WebClient:
    """The bot's client; ``logger``: where slack_sdk's own lines about its calls go (its
    own ``slack_sdk.web.base_client`` when not given)."""
    if settings.slack.bot_token is None:
        raise ConfigurationError(
            "SLACK_BOT_TOKEN is not set: create the app from app_manifest.yml, install it to "
            "your workspace and copy its bot token (see the README)"
        )
    return _retrying_client(
        settings, token=settings.slack.bot_token.get_secret_value(), logger=logger
    )


def _retrying_client(
    settings: Settings, *, token: str | None, logger: logging.Logger | None = None
) -> WebClient:
    return MeteredWebClient(
        token=token,
        logger=logger,
        base_url=settings.slack.api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),  # 500 and 503, with backoff
        ],
    )


def _install_client(settings: Settings) -> WebClient:
    """The install redirect's client: no retries, and ``INSTALL_TIMEOUT_SECONDS``."""
    return MeteredWebClient(base_url=settings.slack.api_url, timeout=INSTALL_TIMEOUT_SECONDS)


def installation_store(
    settings: Settings, factory: sessionmaker[Session]
) -> EncryptedInstallationStore | None:
    """The workspaces' bot tokens (multi-workspace mode only), encrypted at rest."""
    if not (settings.slack.client_id and settings.slack.client_secret):
        return None
    return EncryptedInstallationStore(
        settings.slack.client_id, writing_engine(factory.kw["bind"]), secret_box(settings)
    )


def worker_slack(settings: Settings, factory: sessionmaker[Session]) -> dict[str, Any]:
    """How a worker process without a Bolt app reaches Slack: the bot token's client, or the
    installed workspaces' bots; neither when Slack is not configured (results are logged)."""
    if settings.slack.bot_token is not None:
        return {"client": slack_client(settings), "installations": None}
    installations = installation_store(settings, factory)
    client = _retrying_client(settings, token=None) if installations is not None else None
    return {"client": client, "installations": installations}


BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "files:read",
    "files:write",
    # Only to find a job's own message again after a worker died between posting it and
    # saving its ts (bot.jobs.slack.Notifier.deliver): public and private channels.
    "channels:history",
    "groups:history",
]


def build_app(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    work: WorkQueue | None = None,
    jobs: JobRuntime | None = None,
    client: WebClient | None = None,
    answers: Executor | None = None,
    answering: bool = False,
) -> App:
    """One workspace with ``SLACK_BOT_TOKEN``; any number of workspaces installing the app
    with ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` (tokens kept encrypted).

    ``answering``: a worker's app, answering requests the web process verified and queued
    (``answer_job``): it needs no signing secret, and runs each listener to its end."""
    redaction.install()
    common: dict[str, Any] = {
        "signing_secret": "" if answering else signing_secret(settings),
        "process_before_response": answering,
        # A worker's app starts without asking Slack (auth.test): the web app already did.
        "token_verification_enabled": not answering,
        # ``bot.gate`` verifies every HTTP request before Bolt sees it (Bolt's check raised on
        # a malformed timestamp and logged refused bodies); Socket Mode needs no signature.
        "request_verification_enabled": False,
        "listener_executor": ContextCarryingExecutor(max_workers=LISTENER_THREADS),
        # The name Bolt gives an unnamed app (the caller's file name, also its loggers'
        # name), given: to find it Bolt reads the source lines of every frame on the stack
        # (inspect.stack()), ~25 ms per app under a test runner's deep stack.
        "name": "app.py",
    }
    installations = None
    if settings.slack.bot_token is not None:
        app = _checked_app(client or slack_client(settings), common)
    elif settings.slack.client_id and settings.slack.client_secret:
        installations = installation_store(settings, factory)
        assert installations is not None  # the client id and secret are set
        engine = writing_engine(factory.kw["bind"])
        oauth = OAuthSettings(
            client_id=settings.slack.client_id,
            client_secret=settings.slack.client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
            installation_store=installations,
            # Given to the constructor: set afterwards, it reached nothing (the
            # authorization it builds had already read it).
            installation_store_bot_only=True,
            state_store=StateStore(engine),
            authorization_url=settings.slack.authorize_url,
        )
        app = StockpotApp(
            client=client or _retrying_client(settings, token=None),
            oauth_flow=BoundedOAuthFlow(client=_install_client(settings), settings=oauth),
            authorize=StoredBotAuthorize(installations),
            **common,
        )
    else:
        raise ConfigurationError(
            "Slack is not configured: set SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID "
            "and SLACK_CLIENT_SECRET to let workspaces install the app (see the README)"
        )
    bundle = Services(
        factory=factory,
        settings=settings,
        work=work or WorkQueue(),
        jobs=jobs or JobRuntime(factory),
        installations=installations,
        answers=answers or answer_pool(),
    )

    def provide_services(req: BoltRequest) -> None:
        req.context[SERVICES] = bundle

    app.middleware(Before(response_hosts_guard(settings.slack.response_hosts)))
    app.middleware(Before(metered_clients))
    app.middleware(Before(answer_middleware))
    if answering:
        app.middleware(Before(once_clients))
    app.middleware(Before(provide_services))
    app.error(error_handler(settings.slack.response_hosts))
    handlers.register(app)
    direct_matchers(app)
    if not answering:  # the web process acked and let this delivery through once already
        acks.route(app)
    return app


def answer_job(
    settings: Settings,
    factory: sessionmaker[Session],
    jobs: JobRuntime,
    *,
    client: WebClient | None = None,
) -> AnswerJob:
    """What lets a worker answer Slack requests (``build_worker(answers=…)``): its answering
    app, built now (so the first answer does not wait for it); ``jobs`` is the worker's
    runtime (work an answer queues wakes it)."""
    return AnswerJob(build_app(settings, factory, jobs=jobs, client=client, answering=True))


def _checked_app(client: WebClient, common: dict[str, Any]) -> App:
    """Bolt asks Slack (auth.test) whether the bot token works before it serves anything;
    a refused token or an unreachable Slack is a configuration problem, said in one line
    with its fix (the same words as ``stockpot check``), never retried: nothing serves."""
    try:
        return StockpotApp(client=client, **common)
    except BoltError as error:
        refused = error.__context__
        if not isinstance(refused, SlackApiError):
            raise _unreachable(client, error) from error
        code = str(refused.response.get("error"))
        fix = SLACK_FIXES.get(code, "check SLACK_BOT_TOKEN (`stockpot check` tests it)")
        raise ConfigurationError(
            f"Slack refused SLACK_BOT_TOKEN (auth.test answered {code}): {fix}"
        ) from None
    except (SlackClientError, OSError) as error:
        raise _unreachable(client, error) from error


def _unreachable(client: WebClient, error: Exception) -> ConfigurationError:
    return ConfigurationError(
        f"Slack could not be reached (auth.test: {type(error).__name__}: {error}); check that "
        f"this host reaches {client.base_url} (`stockpot check` tests it)"
    )


class _GivenClientWins(logging.Filter):
    """Bolt reads ``SLACK_BOT_TOKEN`` from the environment by itself and warns at each start
    that the client given to it wins over it; ours carries that very token, so the warning
    is noise in front of the one line an operator should read."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.App").addFilter(_GivenClientWins())
