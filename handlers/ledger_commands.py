"""``/ledger``: a period's movements and the balances."""

from __future__ import annotations

from datetime import date

from stockpot.bot.blocks.explain import why_picker
from stockpot.bot.blocks.ledger import TOTALS_SHOWN, balances_blocks, totals_blocks, totals_csv
from stockpot.core import ledger
from stockpot.core.models import Company
from stockpot.handlers.slash import Invocation, UsageError, parse_day


def ledger_balances(inv: Invocation) -> None:
    who = inv.actor()
    unit = " ".join(inv.args).strip() or None
    with inv.services.factory() as session:
        rows = ledger.balances(session, session.get_one(Company, who.company_id))
    if unit:
        rows = [row for row in rows if row.storage_unit == unit]
    inv.reply(f"Stock of {who.company}", balances_blocks(who.company, rows, unit))


def _period(text: str) -> tuple[date, date]:
    start, sep, end = text.partition("..")
    first = parse_day(start)
    last = parse_day(end) if sep else first
    if last < first:
        raise UsageError(f"the period {text} ends before it starts")
    return first, last


def ledger_movements(inv: Invocation) -> None:
    who = inv.actor()
    if not inv.args:
        raise UsageError(
            "which days? `/ledger yesterday` or `/ledger 2026-11-01..2026-11-27 Kitchen`"
        )
    first, last = _period(inv.args[0].lower())
    unit = " ".join(inv.args[1:]).strip() or None
    with inv.services.factory() as session:
        rows = ledger.movement_totals(
            session, session.get_one(Company, who.company_id), first, last, unit
        )
    period = str(first) if first == last else f"{first} to {last}"
    blocks = totals_blocks(who.company, period, rows, unit)
    picker = why_picker(
        [(row.storage_unit, row.ingredient) for row in rows[:TOTALS_SHOWN]], str(first), str(last)
    )
    inv.reply(f"Movements of {who.company}", blocks + ([picker] if picker else []))
    if len(rows) > TOTALS_SHOWN:
        inv.client.files_upload_v2(
            channel=inv.channel_id,
            content=totals_csv(rows),
            filename=f"movements-{first}-{last}.csv",
            title=f"Movements of {who.company}, {period}",
        )
