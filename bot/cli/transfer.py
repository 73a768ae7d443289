"""``stockpot transfer``: run a business day, read its log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from stockpot.bot.cli.support import emit_json, session_factory, session_scope
from stockpot.core.db import unit_of_work
from stockpot.core.documents import read_text_file
from stockpot.core.locations import set_automatic, transfer_statuses
from stockpot.core.lookup import company_by_name, location_by_name, not_found
from stockpot.core.models import ExternalLocation, RunKind
from stockpot.core.pos.connections import transfer_day
from stockpot.core.settings import get_settings
from stockpot.core.transfer.lines import RawInput, parse_lines_file
from stockpot.core.transfer.log import run_to_json, runs_of_day
from stockpot.core.transfer.runner import TransferReport, run_transfer
from stockpot.core.words import figure, plural


@click.group()
def transfer() -> None:
    """Transfer a location's business day of sales into the ledger."""


@transfer.command("run")
@click.option("--location", required=True, help="the location's name")
@click.option("--company", help="needed only when two companies have a location of that name")
@click.option("--date", "business_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option(
    "--lines",
    "lines_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a JSON array of normalised sales lines, instead of fetching the day from the POS",
)
@click.option("--dry-run", is_flag=True, help="compute and log, post nothing")
@click.option("--json", "as_json", is_flag=True)
def transfer_run(
    location: str,
    company: str | None,
    business_date: Any,
    lines_file: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Transfer one business date; rerunning replaces the previous result."""
    factory = session_factory()
    with unit_of_work(factory) as session:
        found = location_by_name(session, location, company)
        location_id = found.id
    if lines_file is not None:
        body = read_text_file(lines_file)
        lines = parse_lines_file(body, source=str(lines_file))
        report = run_transfer(
            factory,
            location_id,
            business_date.date(),
            lines,
            RawInput(source="lines-json", body=body),
            kind=RunKind.MANUAL,
            triggered_by="cli",
            dry_run=dry_run,
        )
    else:
        report = transfer_day(
            factory,
            get_settings(),
            location_id,
            business_date.date(),
            kind=RunKind.MANUAL,
            triggered_by="cli",
            dry_run=dry_run,
        )
    if as_json:
        emit_json(report.to_json())
    else:
        print_report(report)


def print_report(report: TransferReport) -> None:
    stats = report.stats
    headline = {
        "posted": f"posted (run {report.run_id}, generation {report.generation}"
        + (f", replaces run {report.superseded_run_id})" if report.superseded_run_id else ")"),
        "unchanged": f"unchanged: same sales and mappings as run {stats.get('unchanged_from_run')}"
        f" (logged as run {report.run_id}), nothing posted",
        "preview": f"dry run (run {report.run_id}), nothing posted"
        + (
            f"; matches what is posted (run {report.matches_live_run_id}): nothing to post"
            if report.matches_live_run_id is not None
            else ""
        ),
    }[report.outcome.value]
    click.echo(f"Transfer of {report.location}, {report.business_date}: {headline}")
    skipped = ", ".join(f"{reason} {count}" for reason, count in stats["skipped"].items())
    click.echo(
        f"  {plural(stats['sales'], 'sale')}, {plural(stats['lines'], 'line')}: "
        f"{stats['mapped']} mapped, "
        f"{stats['unmapped']} unmapped, {stats['ignored']} ignored"
        + (f", skipped: {skipped}" if skipped else "")
    )
    if report.movements:
        click.echo("  Movements:")
        for movement in report.movements:
            click.echo(
                f"    {movement.storage_unit:<16} {movement.ingredient:<24} "
                f"{figure(movement.quantity)} {movement.unit}"
            )
    if report.unmapped:
        click.echo("  Unmapped items (sold, not deducted; map them to include them on a rerun):")
        for item in report.unmapped:
            click.echo(
                f"    {item['pos_code'] or '-':<10} {item['name']:<24} sold {item['quantity']}"
            )


@transfer.command("log")
@click.option("--location", required=True)
@click.option("--company")
@click.option("--date", "business_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--json", "as_json", is_flag=True)
def transfer_log(location: str, company: str | None, business_date: Any, as_json: bool) -> None:
    """Every run of a location's business date, oldest first."""
    with session_scope() as session:
        found = location_by_name(session, location, company)
        runs = [run_to_json(run) for run in runs_of_day(session, found, business_date.date())]
    if as_json:
        emit_json(runs)
        return
    if not runs:
        click.echo(f"no transfer of {location} for {business_date.date()} yet")
    for run in runs:
        stats = run["stats"]
        summary = (
            f"{plural(stats.get('lines', 0), 'line')}, {stats.get('mapped', 0)} mapped, "
            f"{stats.get('unmapped', 0)} unmapped, {plural(stats.get('movements', 0), 'movement')}"
            if stats
            else "; ".join(run["errors"])
        )
        click.echo(
            f"run {run['run_id']}  {run['started_at'][:19]}  {run['kind']:<9} {run['status']:<10} "
            f"{run['outcome'] or '':<9} gen {run['generation'] or '-':<3} {summary}"
        )


def _switch(active: bool) -> click.Command:
    verb = "resume" if active else "pause"

    @click.option("--company", required=True)
    @click.option("--location", required=True, help="a location's name, or `all`")
    def run(company: str, location: str) -> None:
        with session_scope() as session:
            owner = company_by_name(session, company)
            found = [
                row
                for row in session.scalars(
                    select(ExternalLocation)
                    .where(ExternalLocation.company_id == owner.id)
                    .order_by(ExternalLocation.name)
                )
                if location == "all" or row.name == location
            ]
            if not found:
                raise not_found(
                    "location",
                    location,
                    session.scalars(
                        select(ExternalLocation.name).where(ExternalLocation.company_id == owner.id)
                    ),
                )
            for row in found:
                missed = set_automatic(session, row, active)
                state = "resumed" if active else "paused (setup and history are kept)"
                click.echo(f"{row.name}: automatic transfers {state}")
                if missed is not None and missed.days:
                    click.echo(
                        f"  missed while paused: {missed.first} to {missed.last}; transfer "
                        "them with `stockpot transfer run`"
                    )

    run.__doc__ = (
        "Resume automatic transfers (and list the days missed meanwhile)."
        if active
        else "Pause automatic transfers; setup and history are kept."
    )
    return click.command(verb)(run)


transfer.add_command(_switch(False))
transfer.add_command(_switch(True))


@transfer.command("status")
@click.option("--company", required=True)
@click.option("--json", "as_json", is_flag=True)
def transfer_status(company: str, as_json: bool) -> None:
    """Each location's automatic transfer state, last run and waiting or failed jobs."""
    with session_scope() as session:
        rows = transfer_statuses(session, company_by_name(session, company).id)
    if as_json:
        emit_json([row.__dict__ for row in rows])
        return
    for row in rows:
        when = f" at {row.transfer_time}" if row.transfer_time else ""
        latest = f"last run {row.last_run}" if row.last_run else "no run yet"
        click.echo(
            f"{row.name}: {'active' if row.active else 'inactive'}, automatic {row.automatic}"
            f"{when}, {latest}" + (f", {plural(row.pending, 'job')} waiting" if row.pending else "")
        )
        if row.failed:
            click.echo(f"  FAILED {row.failed}")


def register(main: click.Group) -> None:
    main.add_command(transfer)
