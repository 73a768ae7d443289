"""The long-running processes: ``serve`` (Slack over HTTP; enqueues only), ``worker`` (the
scheduler and the job runner) and ``run`` (all of it in one process, for SQLite)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.cli.support import session_factory
from stockpot.core.collector import freeze_startup_heap
from stockpot.core.db import is_sqlite
from stockpot.core.settings import Settings, get_settings
from stockpot.core.words import plural

if TYPE_CHECKING:
    from stockpot.core.jobs.queue import Owed
    from stockpot.core.jobs.worker import Worker

# The processes' own modules (Slack, the app, servers, the scheduler) are imported by the
# commands that run them, so that every other command (and `--help`) starts without them.

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--port", default=3000, show_default=True, help="0 takes a free port (said at start)")
def serve_command(port: int) -> None:
    """Serve Slack (/slack/events), the Lightspeed OAuth callback, /healthz, /readyz and
    /metrics. Jobs are only queued here: run `stockpot worker` beside it (or `stockpot run`
    for one process). SIGTERM: stop accepting, answer what is in flight, exit."""
    from stockpot.bot.bootstrap import running
    from stockpot.bot.server import StockpotWsgi
    from stockpot.bot.serving import serve, stop_on_signals

    settings, factory = get_settings(), session_factory()
    if is_sqlite(settings.database.url):
        click.echo(
            "note: on SQLite `stockpot run` serves and works in one process; with `serve` "
            "alone, queued jobs wait for a `stockpot worker`",
            err=True,
        )
    with running(settings, factory) as stockpot:
        assert stockpot.app is not None
        stop = threading.Event()
        stop_on_signals(stop)
        freeze_startup_heap()
        paths = "/slack/events, /healthz, /readyz, /metrics"
        serve(
            StockpotWsgi(stockpot.app, factory, settings),
            port,
            settings,
            stop=stop,
            listening=lambda bound: click.echo(f"Stockpot is listening on port {bound} ({paths})"),
        )


@contextmanager
def _working(
    settings: Settings, factory: sessionmaker[Session], worker: Worker, scheduler: bool
) -> Iterator[threading.Event]:
    """The scheduler and the worker's threads, stopped cleanly on exit, SIGTERM or SIGINT:
    the worker claims nothing more and finishes (or hands back) what it runs."""
    from stockpot.bot.scheduler import start_scheduler
    from stockpot.bot.serving import stop_on_signals

    stop = threading.Event()
    stop_on_signals(stop)
    schedule = start_scheduler(factory, settings) if scheduler else None
    thread = threading.Thread(target=worker.run, args=(stop,), name="stockpot-worker")
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        if schedule is not None:
            schedule.shutdown(wait=False)
        thread.join()
    # Reached only when nothing went wrong: a crash's traceback is the last line instead.
    log.info(
        "worker %s stopped cleanly: every job it ran finished or was handed back",
        worker.worker_id,
    )


@click.command("worker")
@click.option("--until-idle", is_flag=True, help="run what is queued, then exit")
@click.option("--no-scheduler", is_flag=True, help="only run jobs; another process schedules")
def worker_command(until_idle: bool, no_scheduler: bool) -> None:
    """Run queued jobs (and, unless told otherwise, queue due transfers and reports). Any
    number of workers may run on PostgreSQL."""
    from stockpot.bot.bootstrap import running

    settings, factory = get_settings(), session_factory()
    with running(settings, factory, app=False, worker=True) as stockpot:
        assert stockpot.worker is not None
        _work(settings, factory, stockpot.worker, until_idle, no_scheduler)


def _work(
    settings: Settings,
    factory: sessionmaker[Session],
    worker: Worker,
    until_idle: bool,
    no_scheduler: bool,
) -> None:
    if until_idle:
        from stockpot.core.jobs.queue import owed_later

        ran = worker.run_until_idle(wait_for_others=True)
        with factory() as session:
            owed = owed_later(session, worker.kinds)
        click.echo(idle_said(ran, owed))
        return
    from stockpot.bot.ops_http import OpsRoutes
    from stockpot.bot.serving import GracefulServer

    ops = None
    if settings.metrics_port is not None:
        ops = GracefulServer(
            OpsRoutes(None, factory, settings), settings.metrics_port, "0.0.0.0", 2
        )
        click.echo(f"metrics on port {ops.start().port} (/metrics, /healthz, /readyz)")
    freeze_startup_heap()
    with _working(settings, factory, worker, not no_scheduler) as stop:
        # Said once SIGTERM is handled: from here on a stop is graceful.
        threads = plural(settings.worker_threads, "thread")
        click.echo(f"Stockpot worker {worker.worker_id}: {threads}")
        stop.wait()
    if ops is not None:
        ops.drain(0)


def idle_said(ran: int, owed: Owed) -> str:
    """What ``worker --until-idle`` says as it exits: messages owed for later stay owed (it
    waited up to their last try, about 2 hours, which a cron job or CI took for a hang)."""
    said = f"ran {plural(ran, 'job')}; nothing is left to do"
    if not owed.jobs or owed.next_at is None:
        return said
    return (
        f"{said} now. Messages of {plural(owed.jobs, 'job')} that Slack did not take are "
        f"kept, and tried again from {owed.next_at:%Y-%m-%d %H:%M} UTC by any worker running then"
    )


@click.command("run")
@click.option("--port", default=3000, show_default=True, help="0 takes a free port (said at start)")
def run_command(port: int) -> None:
    """Serve Slack, schedule and run jobs, all in this process (the SQLite default)."""
    from stockpot.bot.bootstrap import running
    from stockpot.bot.server import StockpotWsgi
    from stockpot.bot.serving import serve

    settings, factory = get_settings(), session_factory()
    with running(settings, factory, worker=True) as stockpot:
        assert stockpot.app is not None and stockpot.worker is not None
        freeze_startup_heap()
        with _working(settings, factory, stockpot.worker, scheduler=True) as stop:
            serve(
                StockpotWsgi(stockpot.app, factory, settings),
                port,
                settings,
                stop=stop,
                listening=lambda bound: click.echo(
                    f"Stockpot is listening on port {bound} and running jobs"
                ),
            )


def register(main: click.Group) -> None:
    main.add_command(serve_command)
    main.add_command(worker_command)
    main.add_command(run_command)
