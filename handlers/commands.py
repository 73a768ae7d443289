"""Slash commands ``/pos``, ``/transfer``, ``/ledger`` and ``/stock``: each acknowledges at
once, then parses its text; reads answer privately right away, long work (syncs, fetching a day,
migrations, reports) is queued as a job and reports in the channel."""

from __future__ import annotations

from slack_bolt import App

from stockpot.bot.commands import DEFAULT, LEDGER, POS, STOCK, TRANSFER
from stockpot.core.models import StockKind
from stockpot.handlers.csv_upload import pos_csv
from stockpot.handlers.explain import ledger_why, pos_recipe
from stockpot.handlers.ledger_commands import ledger_balances, ledger_movements
from stockpot.handlers.pos_commands import (
    pos_bind,
    pos_connect,
    pos_doctor,
    pos_link,
    pos_locations,
    pos_mappings,
    pos_members,
    pos_migrate,
    pos_report,
    pos_setup,
    pos_storage,
    pos_sync,
    pos_test,
    pos_unmapped,
)
from stockpot.handlers.slash import dispatcher
from stockpot.handlers.stock_commands import (
    ledger_variance,
    stock_correct,
    stock_count,
    stock_flow,
    stock_template,
)
from stockpot.handlers.transfer_commands import (
    automatic_switch,
    transfer_day,
    transfer_log,
    transfer_status,
    transfer_time,
)


def register(app: App) -> None:
    app.command(POS.name)(
        dispatcher(
            POS,
            {
                "setup": pos_setup,
                "link": pos_link,
                "locations": pos_locations,
                "connect": pos_connect,
                "test": pos_test,
                "sync": pos_sync,
                "members": pos_members,
                "unmapped": pos_unmapped,
                "bind": pos_bind,
                "storage": pos_storage,
                "mappings": pos_mappings,
                "doctor": pos_doctor,
                "migrate": pos_migrate,
                "report": pos_report,
                "csv": pos_csv,
                "recipe": pos_recipe,
            },
        )
    )
    app.command(TRANSFER.name)(
        dispatcher(
            TRANSFER,
            {
                DEFAULT: transfer_day,
                "log": transfer_log,
                "pause": automatic_switch(False),
                "resume": automatic_switch(True),
                "status": transfer_status,
                "time": transfer_time,
            },
        )
    )
    app.command(LEDGER.name)(
        dispatcher(
            LEDGER,
            {
                DEFAULT: ledger_movements,
                "balances": ledger_balances,
                "why": ledger_why,
                "variance": ledger_variance,
            },
        )
    )
    app.command(STOCK.name)(
        dispatcher(
            STOCK,
            {
                "count": stock_count,
                "receive": stock_flow(StockKind.RECEIPT),
                "waste": stock_flow(StockKind.WASTE),
                "move": stock_flow(StockKind.MOVE),
                "correct": stock_correct,
                "template": stock_template,
            },
        )
    )
