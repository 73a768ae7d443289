"""The bot's worker: the job handlers that report to Slack, on core's generic worker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.jobs.handlers import job_handlers
from stockpot.bot.jobs.slack import Notifier
from stockpot.core.jobs.worker import JobHandler, Worker
from stockpot.core.models import JobKind
from stockpot.core.settings import Settings

Replacing = Callable[[Notifier], Mapping[JobKind, JobHandler]]


def build_worker(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    client: WebClient | None,
    installations: Any = None,
    replacing: Replacing | None = None,
    answers: JobHandler | None = None,
) -> Worker:
    """A worker whose jobs report through ``client`` (single workspace) or each workspace's
    installed bot (``installations``); with neither, results are only logged. ``replacing``
    swaps some kinds' handlers (the demo's sync). With ``answers`` (``bot.app.answer_job``)
    it also answers Slack requests, on a lane of its own."""
    notifier = Notifier(factory, client=client, installations=installations)
    handlers = {**job_handlers(notifier), **(replacing(notifier) if replacing else {})}
    if answers is None:
        return Worker(factory, settings, handlers)
    handlers[JobKind.ANSWER] = answers
    return Worker(factory, settings, handlers, interactive=[JobKind.ANSWER])
