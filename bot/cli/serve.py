"""``stockpot serve``: the Slack bot over HTTP (or Socket Mode)."""

from __future__ import annotations

import click

from bot.app import build_app
from bot.cli.support import reports_errors, session_factory
from bot.server import StockpotWsgi, serve
from core.settings import get_settings


@click.command("serve")
@click.option("--port", default=3000, show_default=True)
@reports_errors
def serve_command(port: int) -> None:
    """Serve Slack (/slack/events), the Lightspeed OAuth callback and /healthz."""
    settings, factory = get_settings(), session_factory()
    app = build_app(settings, factory)
    click.echo(f"Stockpot is listening on port {port} (/slack/events, /healthz)")
    serve(StockpotWsgi(app, factory, settings), port, settings)


def register(main: click.Group) -> None:
    main.add_command(serve_command)
