"""``/transfer``: preview or post a day, pause and resume, status and log."""

from __future__ import annotations

from typing import Any

from stockpot.bot.blocks.common import Block, escape, message, plural, section
from stockpot.bot.blocks.jobs import catch_up_blocks
from stockpot.bot.blocks.pos import location_state
from stockpot.core.clock_time import parse_clock_time
from stockpot.core.db import utcnow
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.jobs.schedule import Clock
from stockpot.core.locations import set_automatic, set_transfer_time, transfer_statuses
from stockpot.core.models import RunKind
from stockpot.core.scope import CompanyScope
from stockpot.core.transfer.log import runs_of_day
from stockpot.handlers.pending import queue_or_join
from stockpot.handlers.slash import Invocation, Subcommand, UsageError, company_locations, parse_day


def transfer_day(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    args = [a for a in inv.args if a != "--now"]
    now = len(args) != len(inv.args)
    if not args:
        raise UsageError("which day? `/transfer yesterday` or `/transfer 2026-11-27 Main room`")
    word = args[0].lower()
    parse_day(word, inv.today(who))  # refused before anything is looked up
    name = " ".join(args[1:])
    moment = utcnow()
    with inv.reading(who) as rows:
        # `yesterday` is each location's: its last business day, on its own clock.
        targets = [
            (location.id, location.name, parse_day(word, Clock.of(location).today(moment)))
            for location in rows.locations(name, pos_only=True, active_only=not name)
        ]
    if not targets:
        raise ValidationFailed(f"{who.company} has no active POS location; see `/pos locations`")
    verb, work = ("Posting", "posting") if now else ("Previewing", "preview")
    days = {day for _, _, day in targets}
    here = inv.notify()
    started, joins = queue_or_join(
        inv.services,
        here,
        (
            (
                specs.transfer(
                    who.company_id,
                    location_id,
                    day,
                    run_kind=RunKind.MANUAL,
                    triggered_by=who.audit,
                    dry_run=not now,
                    notify=here,
                ),
                escape(name) if len(days) == 1 else f"{escape(name)} ({day})",
                f"{work} of {escape(name)}, {day}",
            )
            for location_id, name, day in targets
        ),
    )
    lines = []
    if started:
        what = f"{next(iter(days))} for " if len(days) == 1 else ""
        lines.append(f"{verb} {what}{', '.join(started)}; the result follows here.")
    inv.reply("\n".join([*lines, *joins]))


def automatic_switch(active: bool) -> Subcommand:
    def run(inv: Invocation) -> None:
        who = inv.actor()
        who.require_admin()
        name = " ".join(inv.args)
        if not name:
            verb = "resume" if active else "pause"
            raise UsageError(f"which location? `/transfer {verb} <location>` or `all`")
        ids = [location.id for location in company_locations(inv, who, name)]

        def switch(rows: CompanyScope) -> dict[str, Any]:
            # The catch-up offer of the days that fell due while paused is made once, by the
            # resume that found them: said again as it was if this answer is taken over.
            blocks: list[Block] = []
            for location_id in ids:
                location = rows.location(location_id)
                missed = set_automatic(rows.session, location, active)
                if missed is not None:
                    blocks.extend(
                        catch_up_blocks(location.name, location.company_id, location.id, missed)
                    )
            state = "resumed" if active else "paused (setup and history are kept)"
            text = f"Automatic transfers {state} for {plural(len(ids), 'location')}."
            return message(text, [section(text), *blocks] if blocks else [])

        inv.answer_once(who, "automatic", switch)

    return run


def transfer_status(inv: Invocation) -> None:
    who = inv.actor()
    with inv.reading(who) as scope:
        rows = transfer_statuses(scope.session, who.company_id)
    lines = []
    for row in rows:
        from_csv = row.transfer_time is None
        when = (
            f" at {row.transfer_time}"
            if row.active and not from_csv and row.automatic == "active"
            else ""
        )
        latest = f"latest day {row.last_run}" if row.last_run else "no day transferred yet"
        state = location_state(row.active, row.automatic, from_csv=from_csv)
        line = f"*{escape(row.name)}*: {state}{when} · {latest}"
        if row.pending:
            line += f", {plural(row.pending, 'job')} queued or running"
        if row.failed:
            line += f"\n    :x: {escape(row.failed)}"
        lines.append(line)
    inv.reply("\n".join([f"Transfers of {escape(who.company)}", *lines]))


def transfer_log(inv: Invocation) -> None:
    who = inv.actor()
    if len(inv.args) < 2:
        raise UsageError("`/transfer log <location> <date>`")
    day = parse_day(inv.args[-1].lower(), inv.today(who))
    name = " ".join(inv.args[:-1])
    if name == "all":
        raise UsageError("one location at a time: `/transfer log <location> <date>`")
    with inv.reading(who) as rows:
        location = rows.locations(name)[0]
        runs = runs_of_day(rows.session, location, day)
        lines = [
            f"run {r.id} · {r.kind.value} · {r.status.value}"
            + (f" · {r.outcome.value}" if r.outcome else "")
            + (f" · {r.stats.get('movements', 0)} movements" if r.stats else "")
            + (f" · {escape(str(r.errors[0]))}" if r.errors else "")
            for r in runs
        ]
    inv.reply(
        "\n".join([f"Transfer log of {escape(location.name)}, {day}:", *lines])
        if lines
        else f"No run of {escape(location.name)} for {day} yet."
    )


def transfer_time(inv: Invocation) -> None:
    """``/transfer time <location|all> HH:MM``: when each closed day is transferred."""
    who = inv.actor()
    who.require_admin()
    if len(inv.args) < 2:
        raise UsageError("`/transfer time <location|all> HH:MM` (06:00 unless you say)")
    at = parse_clock_time(inv.args[-1])
    ids = [location.id for location in company_locations(inv, who, " ".join(inv.args[:-1]))]
    with inv.changing(who) as rows:
        for location_id in ids:
            set_transfer_time(rows.location(location_id), at)
    inv.reply(
        f"{plural(len(ids), 'location')} now transfer each business day at {at:%H:%M} local time, "
        "once the day has closed."
    )
