"""``stockpot``: the operator CLI over the same core services the Slack bot uses.

One module per command group, each with ``register(main)``.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from stockpot.bot.cli import (
    catalog,
    check,
    csv,
    database,
    demo,
    jobs,
    ledger,
    manifest,
    pos,
    recipe,
    sandbox,
    serve,
    slack,
    stock,
    storage,
    transfer,
)
from stockpot.bot.cli.support import StockpotGroup
from stockpot.core.crypto import secret_box
from stockpot.core.errors import ConfigurationError
from stockpot.core.settings import configure_logging, get_settings, settings_problem


@click.group(cls=StockpotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Stockpot: POS sales into an exact inventory ledger, run from Slack."""
    try:
        settings = get_settings()
    except ValidationError as error:
        if ctx.invoked_subcommand == "check":
            return  # `stockpot check` reports it among its checks, with the fix
        click.echo(f"error: settings: {settings_problem(error)}", err=True)
        ctx.exit(1)
    configure_logging(settings)
    if settings.is_production:
        try:
            secret_box(settings)
        except ConfigurationError as error:
            raise click.ClickException(str(error)) from None


for _module in (
    database,
    catalog,
    recipe,
    pos,
    transfer,
    csv,
    ledger,
    stock,
    storage,
    jobs,
    sandbox,
    serve,
    demo,
    check,
    manifest,
    slack,
):
    _module.register(main)

__all__ = ["main"]
