"""The bot's worker: the job handlers that report to Slack, on core's generic worker."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.jobs.handlers import job_handlers
from stockpot.bot.jobs.slack import Notifier
from stockpot.core.jobs.worker import Worker
from stockpot.core.settings import Settings


def build_worker(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    client: WebClient | None,
    installations: Any = None,
) -> Worker:
    """A worker whose jobs report through ``client`` (single workspace) or each workspace's
    installed bot (``installations``); with neither, results are only logged."""
    notifier = Notifier(factory, client=client, installations=installations)
    return Worker(factory, settings, job_handlers(notifier))
