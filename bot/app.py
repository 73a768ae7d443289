"""The Bolt app factory: one place that wires the Slack client, verification, the services
every listener needs, the error handler and the listeners."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from sqlalchemy.orm import Session, sessionmaker

import handlers
from bot.errors import handle_error
from bot.work import WorkQueue
from core.errors import ConfigurationError
from core.settings import Settings
from handlers.context import SERVICES, Services

log = logging.getLogger(__name__)

LISTENER_THREADS = 16
"""Bolt's default is 5; acks must never wait behind slow listeners."""


def slack_client(settings: Settings) -> WebClient:
    if settings.slack_bot_token is None:
        raise ConfigurationError(
            "SLACK_BOT_TOKEN is not set: create the app from app_manifest.yml, install it to "
            "your workspace and copy its bot token (see the README)"
        )
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def build_app(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    work: WorkQueue | None = None,
    client: WebClient | None = None,
) -> App:
    if settings.slack_signing_secret is None:
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page"
        )
    app = App(
        client=client or slack_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )
    bundle = Services(factory=factory, settings=settings, work=work or WorkQueue())

    @app.middleware
    def provide_services(context: BoltContext, next: Any) -> None:
        context[SERVICES] = bundle
        next()

    app.error(handle_error)
    handlers.register(app)
    return app
