"""``stockpot db`` and ``stockpot secret``."""

from __future__ import annotations

import click

from stockpot.bot.cli.support import reports_errors
from stockpot.bot.health import safe_url
from stockpot.core.crypto import generate_key
from stockpot.core.settings import get_settings
from stockpot.migrations import schema


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    url = get_settings().database_url
    schema.upgrade(url)
    click.echo(f"database {safe_url(url)} is up to date")


@click.group()
def secret() -> None:
    """Keys for encrypting stored POS credentials."""


@secret.command("generate")
def secret_generate() -> None:
    """Print a new key for STOCKPOT_SECRET_KEY."""
    click.echo(generate_key())


def register(main: click.Group) -> None:
    main.add_command(db)
    main.add_command(secret)
