"""The one composition root: settings, database, job runtime, Slack app and worker, wired the
same way for ``stockpot serve``, ``run`` and ``worker``, the demo and the tests, and shut down
together (the answer and work pools included: nothing is left running at exit).

Wiring has an order the callers used to repeat: the job runtime exists before the app (the
app's listeners enqueue through it), and the worker after it (the worker reports through the
app's Slack client), then the runtime learns its worker so that enqueueing wakes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_bolt import App
from slack_sdk import WebClient

from stockpot.bot.app import answer_job, build_app, installation_store, worker_slack
from stockpot.bot.jobs.answers import AnswerJob
from stockpot.bot.jobs.runtime import Replacing, build_worker
from stockpot.bot.work import WorkQueue
from stockpot.core.db import SessionFactory
from stockpot.core.jobs.runtime import JobRuntime
from stockpot.core.jobs.worker import Worker
from stockpot.core.settings import Settings
from stockpot.handlers.answers import answer_pool


@dataclass
class Stockpot:
    """What one process runs: an app (``serve``), a worker (``worker``) or both (``run``)."""

    settings: Settings
    factory: SessionFactory
    jobs: JobRuntime
    app: App | None = None
    work: WorkQueue = field(default_factory=WorkQueue)
    answers: ThreadPoolExecutor = field(default_factory=answer_pool)

    @property
    def worker(self) -> Worker | None:
        return self.jobs.worker

    def close(self) -> None:
        """Finish what the pools hold and stop their threads (the worker's own loop is
        stopped by its caller's stop event, before this)."""
        self.work.shutdown()
        self.answers.shutdown(wait=True)


def bootstrap(
    settings: Settings,
    factory: SessionFactory,
    *,
    app: bool = True,
    worker: bool = False,
    client: WebClient | None = None,
    replacing: Replacing | None = None,
) -> Stockpot:
    """Build what this process runs; ``client`` replaces the Slack client built from the
    settings, ``replacing`` some job handlers (both for the demo)."""
    built = Stockpot(settings, factory, JobRuntime(factory))
    if app:
        built.app = build_app(
            settings,
            factory,
            work=built.work,
            jobs=built.jobs,
            client=client,
            answers=built.answers,
        )
    if worker:
        slack = (
            {"client": built.app.client, "installations": installation_store(settings, factory)}
            if built.app is not None
            else worker_slack(settings, factory)
        )
        built.jobs.worker = build_worker(
            settings,
            factory,
            replacing=replacing,
            answers=_answers(settings, factory, built.jobs, slack["client"]),
            **slack,
        )
    return built


def _answers(
    settings: Settings, factory: SessionFactory, jobs: JobRuntime, client: WebClient | None
) -> AnswerJob | None:
    """The worker's answering of Slack requests, when this process can reach Slack (else the
    answer jobs wait for a worker that can)."""
    if settings.slack.bot_token is None and not (
        settings.slack.client_id and settings.slack.client_secret
    ):
        return None
    return answer_job(settings, factory, jobs, client=client)


@contextmanager
def running(
    settings: Settings,
    factory: SessionFactory,
    *,
    app: bool = True,
    worker: bool = False,
    client: WebClient | None = None,
) -> Iterator[Stockpot]:
    """``bootstrap``, closed when the block ends however it ends."""
    built = bootstrap(settings, factory, app=app, worker=worker, client=client)
    try:
        yield built
    finally:
        built.close()
