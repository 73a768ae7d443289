"""Slack listeners, one module per surface, each with ``register(app)``: thin, they parse,
call ``core``, and render with ``bot.blocks``."""

from __future__ import annotations

from slack_bolt import App

from stockpot.handlers import (
    actions,
    commands,
    csv_actions,
    csv_upload,
    events,
    explain,
    files,
    ledger_commands,
    mapping,
    stock_commands,
    stock_files,
    views,
)


def register(app: App) -> None:
    for module in (
        commands,
        actions,
        mapping,
        views,
        events,
        files,
        csv_actions,
        csv_upload,
        explain,
        stock_commands,
        stock_files,
        ledger_commands,
    ):
        module.register(app)
