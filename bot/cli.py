"""``stockpot``: the operator CLI over the same core services the Slack bot uses."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core import ledger, schema
from core.catalog.importer import import_catalog
from core.crypto import generate_key, secret_box
from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import ConfigurationError, StockpotError
from core.exact import format_decimal
from core.lookup import company_by_name, connection_by_label, location_by_name
from core.mapping import import_mappings, list_mappings
from core.models import RunKind
from core.settings import configure_logging, get_settings
from core.transfer.lines import parse_lines_file
from core.transfer.log import run_to_json, runs_of_day
from core.transfer.runner import RawInput, TransferReport, run_transfer

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a user-facing error as one clear message on stderr and exit 1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StockpotError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database, refusing one whose schema is not current."""
    url = get_settings().database_url
    engine = make_engine(url)
    head = ScriptDirectory.from_config(schema.alembic_config(url)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        state = "is not initialised" if current is None else f"is at revision {current}"
        raise ConfigurationError(
            f"the database {_safe_url(url)} {state}; run `stockpot db upgrade` first"
        )
    return make_session_factory(engine)


@contextmanager
def session_scope() -> Iterator[Session]:
    with unit_of_work(session_factory()) as session:
        yield session


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Stockpot: POS sales into an exact inventory ledger, run from Slack."""
    settings = get_settings()
    configure_logging(settings)
    if settings.is_production:
        try:
            secret_box(settings)
        except ConfigurationError as error:
            raise click.ClickException(str(error)) from None


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@reports_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    url = get_settings().database_url
    schema.upgrade(url)
    click.echo(f"database {_safe_url(url)} is up to date")


@main.group()
def catalog() -> None:
    """Storage units, ingredients, recipes and CSV connections."""


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_errors
def catalog_import(file: Path) -> None:
    """Upsert a company's catalog from a YAML FILE, all or nothing."""
    summary = import_catalog(session_factory(), file.read_text(encoding="utf-8"), source=str(file))
    click.echo(str(summary))


@main.group()
def mappings() -> None:
    """What selling a POS item takes from stock."""


@mappings.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_errors
def mappings_import(file: Path) -> None:
    """Create or replace mappings from a YAML FILE, all or nothing."""
    summary = import_mappings(session_factory(), file.read_text(encoding="utf-8"), source=str(file))
    click.echo(str(summary))


@mappings.command("list")
@click.option("--company", required=True)
@click.option("--connection", "connection_label", help="provider:name, e.g. csv:Till export")
@click.option("--unmapped", is_flag=True, help="only the items without a mapping")
@click.option("--json", "as_json", is_flag=True)
@reports_errors
def mappings_list(
    company: str, connection_label: str | None, unmapped: bool, as_json: bool
) -> None:
    """The POS items of a company and what each one is mapped to."""
    with session_scope() as session:
        owner = company_by_name(session, company)
        connection = (
            connection_by_label(session, owner, connection_label) if connection_label else None
        )
        rows = list_mappings(session, owner, connection)
    if unmapped:
        rows = [row for row in rows if row.target_kind is None]
    if as_json:
        emit_json([row.__dict__ for row in rows])
        return
    table(
        [
            [
                row.pos_code or "",
                row.pos_name,
                row.target_kind or "UNMAPPED",
                row.target or "",
                f"{row.factor} {row.unit}" if row.factor else "",
            ]
            for row in rows
        ],
        ["CODE", "POS ITEM", "MAPPED TO", "TARGET", "PER ITEM SOLD"],
    )


@main.group()
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
    help="a JSON array of normalised sales lines (instead of fetching from the POS)",
)
@click.option("--dry-run", is_flag=True, help="compute and log, post nothing")
@click.option("--json", "as_json", is_flag=True)
@reports_errors
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
        location_id, provider = found.id, found.connection.provider.value
    if lines_file is None:
        raise click.UsageError(
            f"location '{location}' is a {provider} location and fetching from the POS is not "
            "available yet; pass the day's sales with --lines FILE"
        )
    body = lines_file.read_text(encoding="utf-8")
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
        "preview": f"dry run (run {report.run_id}), nothing posted",
    }[report.outcome.value]
    click.echo(f"Transfer of {report.location}, {report.business_date}: {headline}")
    skipped = ", ".join(f"{reason} {count}" for reason, count in stats["skipped"].items())
    click.echo(
        f"  {stats['sales']} sales, {stats['lines']} lines: {stats['mapped']} mapped, "
        f"{stats['unmapped']} unmapped, {stats['ignored']} ignored"
        + (f", skipped: {skipped}" if skipped else "")
    )
    if report.movements:
        click.echo("  Movements:")
        for movement in report.movements:
            click.echo(
                f"    {movement.storage_unit:<16} {movement.ingredient:<24} "
                f"{format_decimal(movement.quantity)} {movement.unit}"
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
@reports_errors
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
            f"{stats.get('lines', 0)} lines, {stats.get('mapped', 0)} mapped, "
            f"{stats.get('unmapped', 0)} unmapped, {stats.get('movements', 0)} movements"
            if stats
            else "; ".join(run["errors"])
        )
        click.echo(
            f"run {run['run_id']}  {run['started_at'][:19]}  {run['kind']:<9} {run['status']:<10} "
            f"{run['outcome'] or '':<9} gen {run['generation'] or '-':<3} {summary}"
        )


@main.group("ledger")
def ledger_group() -> None:
    """Read the inventory ledger."""


@ledger_group.command("balances")
@click.option("--company", required=True)
@click.option("--json", "as_json", is_flag=True)
@reports_errors
def ledger_balances(company: str, as_json: bool) -> None:
    """Stock per storage unit and ingredient, in base units."""
    with session_scope() as session:
        rows = ledger.balances(session, company_by_name(session, company))
    if as_json:
        emit_json([row.to_json() for row in rows])
        return
    table(
        [[r.storage_unit, r.ingredient, format_decimal(r.quantity), r.unit] for r in rows],
        ["STORAGE UNIT", "INGREDIENT", "BALANCE", "UNIT"],
    )


@ledger_group.command("movements")
@click.option("--company", required=True)
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--json", "as_json", is_flag=True)
@reports_errors
def ledger_movements(company: str, date_from: Any, date_to: Any, as_json: bool) -> None:
    """Movements of a range of business dates (inclusive)."""
    with session_scope() as session:
        rows = ledger.movements(
            session, company_by_name(session, company), date_from.date(), date_to.date()
        )
    if as_json:
        emit_json([row.to_json() for row in rows])
        return
    table(
        [
            [
                str(r.id),
                r.business_date.isoformat(),
                r.type,
                r.storage_unit,
                r.ingredient,
                format_decimal(r.quantity),
                r.unit,
                str(r.run_id or ""),
                f"reverses {r.reverses_id}" if r.reverses_id else "",
            ]
            for r in rows
        ],
        ["ID", "DATE", "TYPE", "STORAGE UNIT", "INGREDIENT", "QUANTITY", "UNIT", "RUN", ""],
    )


@ledger_group.command("trace")
@click.argument("movement_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@reports_errors
def ledger_trace(movement_id: int, as_json: bool) -> None:
    """The sales lines behind a movement, and what each contributed."""
    with session_scope() as session:
        lines = ledger.trace(session, movement_id)
    if as_json:
        emit_json([line.to_json() for line in lines])
        return
    table(
        [
            [
                line.sale_id,
                line.line_id,
                line.pos_code or "",
                line.name,
                format_decimal(line.quantity),
                format_decimal(line.contribution),
            ]
            for line in lines
        ],
        ["SALE", "LINE", "CODE", "ITEM", "SOLD", "CONTRIBUTION"],
    )


@main.group()
def secret() -> None:
    """Keys for encrypting stored POS credentials."""


@secret.command("generate")
def secret_generate() -> None:
    """Print a new key for STOCKPOT_SECRET_KEY."""
    click.echo(generate_key())
