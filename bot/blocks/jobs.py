"""Messages of long work: a migration's progress, a sync's, and catching up paused days."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    confirm,
    context,
    day_spans,
    escape,
    lines_section,
    plural,
    section,
)
from stockpot.bot.blocks.text import render
from stockpot.bot.ids import ActionId
from stockpot.bot.metadata import CatchUpValue
from stockpot.core.jobs.schedule import CATCH_UP_MAX_DAYS, LOOKBACK_DAYS, MissedDays
from stockpot.core.migration import MigrationProgress


def migration_blocks(
    name: str, progress: MigrationProgress, job_id: int, *, running: bool
) -> list[Block]:
    if running:
        blocks = [
            section(
                f"Migrating *{escape(name)}*: {progress.done}/{progress.total} days "
                f"({progress.first} to {progress.last}), {progress.posted} posted, "
                f"{progress.unchanged} unchanged, {len(progress.failed)} failed…"
            ),
            actions(
                button(
                    "Cancel",
                    ActionId.JOB_CANCEL,
                    str(job_id),
                    style="danger",
                    confirm=confirm(
                        "Cancel the migration?",
                        "The days done stay posted; the rest are not transferred.",
                        "Cancel migration",
                    ),
                )
            ),
        ]
    else:
        blocks = [section(render("migration_summary.txt", name=name, result=progress))]
    return blocks


def fix_buttons(job_id: int, reconnect: int | None = None) -> Block:
    """Retry, and Reconnect first when the POS refused the credentials."""
    buttons = [button("Retry", ActionId.JOB_RETRY, str(job_id))]
    if reconnect is not None:
        buttons.insert(
            0, button("Reconnect", ActionId.CONNECTION_RECONNECT, str(reconnect), style="primary")
        )
    return actions(*buttons)


def migration_stopped_blocks(
    name: str, reason: str, job_id: int, reconnect: int | None = None
) -> list[Block]:
    return [
        section(f":warning: The migration of *{escape(name)}* stopped: {escape(reason)}"),
        fix_buttons(job_id, reconnect),
    ]


def sync_failed_blocks(label: str, reason: str, job_id: int, reconnect: int | None) -> list[Block]:
    return [
        section(f":x: The sync of *{escape(label)}* stopped: {escape(reason)}"),
        fix_buttons(job_id, reconnect),
    ]


def catch_up_blocks(
    name: str, company_id: int, location_id: int, missed: MissedDays
) -> list[Block]:
    """After resuming: the days that fell due while paused, with a button to transfer them."""
    text = f"Automatic transfers of *{escape(name)}* resumed."
    if not missed.days:
        return [section(text + " No day was missed while paused.")]
    return [
        section(
            f"{text} {plural(len(missed.days), 'day')} fell due while paused and are not "
            "transferred: "
            f"{missed.days[0]} to {missed.days[-1]}."
        ),
        *_catch_up_offer(company_id, location_id, missed.days[0], missed.days[-1]),
    ]


def missed_days_blocks(
    name: str, company_id: int, location_id: int, first: date, last: date, days: int
) -> list[Block]:
    """After the scheduler was down longer than it catches up on by itself: the older days
    it did not queue, with a button to transfer them."""
    return [
        section(
            f":warning: Stockpot's scheduler was not running for a while, and queues only the "
            f"latest {LOOKBACK_DAYS} days by itself: {plural(days, 'day')} of *{escape(name)}* "
            f"are not transferred, {first} to {last}. The days after are transferred as usual."
        ),
        *_catch_up_offer(company_id, location_id, first, last),
    ]


def _catch_up_offer(company_id: int, location_id: int, first: date, last: date) -> list[Block]:
    """Catch up for the days from ``first`` to ``last`` (a Catch up takes the latest
    ``CATCH_UP_MAX_DAYS`` of a longer range; the rest are named)."""
    start = max(first, last - timedelta(days=CATCH_UP_MAX_DAYS - 1))
    value = CatchUpValue.made(
        company_id=company_id, location_id=location_id, first=start, last=last
    )
    note = "Nothing is transferred for those days unless you catch up."
    if start > first:
        note += (
            f" Catch up takes the latest {CATCH_UP_MAX_DAYS} days, from {start}; a day before "
            "that is transferred on its own (`/transfer <date> <location> --now`)."
        )
    return [
        actions(button("Catch up", ActionId.CATCH_UP, value.dump(), style="primary")),
        context(note),
    ]


def reprocess_blocks(
    what: str, days: list[tuple[int, date]], done: list[list[Any]], *, running: bool
) -> list[Block]:
    """Reprocessing's one message: how far it is, then what came of it (each day's result is
    in the thread)."""
    outcomes, span, counts = _reprocessed(days, done)
    if running:
        return [
            section(
                f":hourglass_flowing_sand: Reprocessing *{escape(what)}*: {len(done)}/{len(days)} "
                f"days ({span}, oldest first) · {counts}…"
            )
        ]
    icon = ":warning:" if outcomes["failed"] else ":white_check_mark:"
    blocks = [
        section(
            f"{icon} Reprocessed *{escape(what)}*: {plural(len(done), 'day')} ({span}) · {counts}."
        ),
        context(
            "The days, by outcome, are in the thread; "
            "`/transfer log &lt;location&gt; &lt;date&gt;` shows a day's run."
        ),
    ]
    return blocks


def reprocess_stopped_blocks(
    what: str, days: list[tuple[int, date]], done: list[list[Any]], reason: str, job_id: int
) -> list[Block]:
    """Reprocessing that failed for good or was cancelled: how far it got and why, with
    Retry (it goes on with the days not done)."""
    _, span, counts = _reprocessed(days, done)
    return [
        section(
            f":warning: Reprocessing *{escape(what)}* stopped after {len(done)}/{len(days)} "
            f"days ({span}) · {counts}: {escape(reason)}"
        ),
        fix_buttons(job_id),
    ]


def _reprocessed(
    days: list[tuple[int, date]], done: list[list[Any]]
) -> tuple[Counter[str], str, str]:
    """The outcomes of the days done, the span of all days, and the outcomes in words."""
    outcomes = Counter(str(row[2]) for row in done)
    first, last = days[0][1], days[-1][1]
    span = f"{first} to {last}" if first != last else str(first)
    counts = (
        f"{outcomes['posted']} changed, {outcomes['unchanged']} unchanged, "
        f"{outcomes['failed']} failed"
    )
    return outcomes, span, counts


def reprocess_details(done: list[list[Any]]) -> list[Block]:
    """Every day, compactly: per location and outcome the dates (oldest first, consecutive
    days as spans); a failed day with its reason."""
    grouped: dict[tuple[str, str], list[date]] = {}
    failures: list[str] = []
    for location, day, outcome, detail in done:
        if outcome == "failed":
            failures.append(f"{day} · {escape(str(location))}: {escape(str(detail))}")
        else:
            grouped.setdefault((str(location), str(outcome)), []).append(
                date.fromisoformat(str(day))
            )
    lines = [
        f"*{escape(location)}*, {OUTCOME_WORDS.get(outcome, outcome)} ({len(days)}): "
        + day_spans(days)
        for (location, outcome), days in grouped.items()
    ]
    blocks = [lines_section("Days reprocessed, oldest first", lines)]
    if failures:
        blocks.append(lines_section(":warning: Not reprocessed", failures))
    return blocks


OUTCOME_WORDS = {"posted": "changed", "unchanged": "unchanged"}
