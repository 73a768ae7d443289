"""The long-running processes: ``serve`` (Slack over HTTP; enqueues only), ``worker`` (the
scheduler and the job runner) and ``run`` (all of it in one process, for SQLite)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.app import build_app, worker_slack
from stockpot.bot.cli.support import reports_errors, session_factory
from stockpot.bot.jobs.runtime import build_worker
from stockpot.bot.ops_http import OpsRoutes
from stockpot.bot.scheduler import start_scheduler
from stockpot.bot.server import StockpotWsgi
from stockpot.bot.serving import GracefulServer, serve, stop_on_signals
from stockpot.core.db import is_sqlite
from stockpot.core.jobs.runtime import JobRuntime
from stockpot.core.jobs.worker import Worker
from stockpot.core.settings import Settings, get_settings

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--port", default=3000, show_default=True)
@reports_errors
def serve_command(port: int) -> None:
    """Serve Slack (/slack/events), the Lightspeed OAuth callback, /healthz, /readyz and
    /metrics. Jobs are only queued here: run `stockpot worker` beside it (or `stockpot run`
    for one process). SIGTERM: stop accepting, answer what is in flight, exit."""
    settings, factory = get_settings(), session_factory()
    if is_sqlite(settings.database_url):
        click.echo(
            "note: on SQLite `stockpot run` serves and works in one process; with `serve` "
            "alone, queued jobs wait for a `stockpot worker`",
            err=True,
        )
    app = build_app(settings, factory)
    stop = threading.Event()
    stop_on_signals(stop)
    click.echo(f"Stockpot is listening on port {port} (/slack/events, /healthz, /metrics)")
    serve(StockpotWsgi(app, factory, settings), port, settings, stop=stop)


@contextmanager
def _working(
    settings: Settings, factory: sessionmaker[Session], worker: Worker, scheduler: bool
) -> Iterator[threading.Event]:
    """The scheduler and the worker's threads, stopped cleanly on exit, SIGTERM or SIGINT:
    the worker claims nothing more and finishes (or hands back) what it runs."""
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


@click.command("worker")
@click.option("--until-idle", is_flag=True, help="run what is queued, then exit")
@click.option("--no-scheduler", is_flag=True, help="only run jobs; another process schedules")
@reports_errors
def worker_command(until_idle: bool, no_scheduler: bool) -> None:
    """Run queued jobs (and, unless told otherwise, queue due transfers and reports). Any
    number of workers may run on PostgreSQL."""
    settings, factory = get_settings(), session_factory()
    worker = build_worker(settings, factory, **worker_slack(settings, factory))
    if until_idle:
        ran = worker.run_until_idle(wait_for_others=True)
        click.echo(f"ran {ran} job(s); nothing is left to do")
        return
    ops = None
    if settings.metrics_port is not None:
        ops = GracefulServer(
            OpsRoutes(None, factory, settings), settings.metrics_port, "0.0.0.0", 2
        )
        click.echo(f"metrics on port {ops.start().port} (/metrics, /healthz, /readyz)")
    with _working(settings, factory, worker, not no_scheduler) as stop:
        # Said once SIGTERM is handled: from here on a stop is graceful.
        click.echo(f"Stockpot worker {worker.worker_id}: {settings.worker_threads} thread(s)")
        stop.wait()
    if ops is not None:
        ops.drain(0)


@click.command("run")
@click.option("--port", default=3000, show_default=True)
@reports_errors
def run_command(port: int) -> None:
    """Serve Slack, schedule and run jobs, all in this process (the SQLite default)."""
    settings, factory = get_settings(), session_factory()
    runtime = JobRuntime(factory)
    app = build_app(settings, factory, jobs=runtime)
    runtime.worker = build_worker(settings, factory, **worker_slack(settings, factory))
    with _working(settings, factory, runtime.worker, scheduler=True) as stop:
        click.echo(f"Stockpot is listening on port {port} and running jobs")
        serve(StockpotWsgi(app, factory, settings), port, settings, stop=stop)


def register(main: click.Group) -> None:
    main.add_command(serve_command)
    main.add_command(worker_command)
    main.add_command(run_command)
