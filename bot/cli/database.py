"""``stockpot db`` and ``stockpot secret``."""

from __future__ import annotations

import click

from stockpot.bot.cli.support import session_factory
from stockpot.bot.health import safe_url
from stockpot.core.crypto import generate_key, secret_box
from stockpot.core.errors import ValidationFailed
from stockpot.core.secret_rotation import rotate_secrets
from stockpot.core.settings import get_settings
from stockpot.migrations import schema


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    url = get_settings().database.url
    schema.upgrade(url)
    click.echo(f"database {safe_url(url)} is up to date")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="drop what the later revisions added")
def db_downgrade(revision: str, yes: bool) -> None:
    """Take the schema back to REVISION (e.g. 0021), for the release before an upgrade."""
    url = get_settings().database.url
    if not yes:
        raise ValidationFailed(
            f"a downgrade to {revision} drops what the later revisions added (README, "
            "Upgrading); take a backup first (pg_dump -Fc), stop every process, then run "
            f"`stockpot db downgrade {revision} --yes`"
        )
    try:
        schema.downgrade(url, revision)
    except ValueError as error:
        raise ValidationFailed(
            f"cannot downgrade to {revision!r}: {error}; a revision is the number a file of "
            "migrations/versions starts with (0021)"
        ) from None
    click.echo(
        f"database {safe_url(url)} is at revision {revision}: run the release whose schema "
        "that is (`stockpot db upgrade` goes forward again)"
    )


@click.group()
def secret() -> None:
    """Keys for encrypting stored POS credentials."""


@secret.command("generate")
def secret_generate() -> None:
    """Print a new key for STOCKPOT_SECRET_KEY."""
    click.echo(generate_key())


@secret.command("rotate")
@click.option("--batch", default=200, show_default=True, help="rows per transaction")
def secret_rotate(batch: int) -> None:
    """Re-encrypt every stored secret under the first key of STOCKPOT_SECRET_KEY. Safe to
    stop and run again; once it reports nothing left, the old keys can be removed."""
    settings = get_settings()
    results = rotate_secrets(session_factory(), secret_box(settings), batch=batch)
    for result in results:
        click.echo(f"{result.table}: {result.rotated} of {result.values} re-encrypted")
    if not any(result.rotated for result in results):
        click.echo("every stored secret is under the newest key: the others can be removed")


def register(main: click.Group) -> None:
    main.add_command(db)
    main.add_command(secret)
