"""``/ledger``: a period's movements and the balances."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from stockpot.bot.blocks.common import escape
from stockpot.bot.blocks.explain import why_picker
from stockpot.bot.blocks.ledger import (
    TOTALS_SHOWN,
    balances_blocks,
    balances_modal,
    totals_blocks,
    totals_csv,
)
from stockpot.bot.ids import ActionId
from stockpot.core import ledger
from stockpot.core.periods import PeriodError, parse_period
from stockpot.handlers.context import actor, channel_of, reading
from stockpot.handlers.slash import Invocation, UsageError


def ledger_balances(inv: Invocation) -> None:
    who = inv.actor()
    unit = " ".join(inv.args).strip() or None
    with inv.reading(who) as scope:
        if unit:
            unit = scope.storage_unit(unit).name
        rows = ledger.balances(scope.session, scope.company())
        currency = scope.company().currency
    if unit:
        rows = [row for row in rows if row.storage_unit == unit]
    inv.reply(f"Stock of {escape(who.company)}", balances_blocks(who.company, rows, unit, currency))


def show_balances(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """``/ledger balances``' **Show all**: every stock line of that storage unit, in a modal
    (as it is now, not as it was when the summary was posted)."""
    ack()
    who = actor(context, channel_of(body))
    with reading(context, who) as scope:
        unit = scope.storage_unit(str(body["actions"][0].get("value") or "")).name
        rows = [
            row
            for row in ledger.balances(scope.session, scope.company())
            if row.storage_unit == unit
        ]
        currency = scope.company().currency
    client.views_open(trigger_id=body["trigger_id"], view=balances_modal(unit, rows, currency))


def ledger_movements(inv: Invocation) -> None:
    who = inv.actor()
    try:
        period, rest = parse_period(inv.args, inv.today(who))
    except PeriodError as error:
        raise UsageError(str(error)) from None
    first, last = period.first, period.last
    unit = " ".join(rest).strip() or None
    with inv.reading(who) as scope:
        if unit:
            unit = scope.storage_unit(unit).name
        rows = ledger.movement_totals(scope.session, scope.company(), first, last, unit)
    blocks = totals_blocks(who.company, period.describe(), rows, unit)
    picker = why_picker(
        [(row.storage_unit, row.ingredient) for row in rows[:TOTALS_SHOWN]], str(first), str(last)
    )
    inv.reply(
        f"Movements of {escape(who.company)}, {period.describe()}",
        blocks + ([picker] if picker else []),
    )
    if len(rows) > TOTALS_SHOWN:
        inv.client.files_upload_v2(
            channel=inv.channel_id,
            content=totals_csv(rows),
            filename=f"movements-{first}-{last}.csv",
            title=f"Movements of {who.company}, {period.describe()}",
        )


def register(app: App) -> None:
    app.action(ActionId.LEDGER_BALANCES_ALL)(show_balances)
