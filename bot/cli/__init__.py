"""``stockpot``: the operator CLI over the same core services the Slack bot uses.

One module per command group, each with ``register(main)``.
"""

from __future__ import annotations

import click

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
from stockpot.core.settings import configure_logging, get_settings


@click.group(cls=StockpotGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Stockpot: POS sales into an exact inventory ledger, run from Slack."""
    settings = get_settings()
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
