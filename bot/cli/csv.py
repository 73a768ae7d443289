"""``stockpot csv``: CSV profiles, importing an export, listing and undoing imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.bot.cli.support import emit_json, session_factory, table
from stockpot.bot.cli.transfer import print_report
from stockpot.core.cell_text import inert
from stockpot.core.csv_import.importer import (
    DuplicateFile,
    Preview,
    import_csv,
    imports,
    preview_csv,
    profiles,
    undo_import,
)
from stockpot.core.errors import NotFound, ValidationFailed
from stockpot.core.exact import format_decimal
from stockpot.core.models import Company, Connection, Provider
from stockpot.core.settings import get_settings
from stockpot.core.words import figure, plural

DATE = click.DateTime(["%Y-%m-%d"])


@click.group()
def csv() -> None:
    """Import sales from POS exports by a CSV connection's profile."""


def _connection(session: Session, name: str, company: str | None) -> int:
    """A CSV connection by name (``Kasse`` or ``csv:Kasse``), unique across companies unless
    ``company`` says which."""
    wanted = name.removeprefix("csv:").strip()
    query = (
        select(Connection.id, Company.name)
        .join(Company, Company.id == Connection.company_id)
        .where(Connection.provider == Provider.CSV, Connection.name == wanted)
    )
    if company is not None:
        query = query.where(Company.name == company)
    found = session.execute(query).all()
    if not found:
        known = ", ".join(
            session.scalars(
                select(Connection.name).where(Connection.provider == Provider.CSV)
            ).all()
        )
        raise NotFound(
            f"no CSV connection '{wanted}' (known: {known or 'none'}); declare it in the "
            "catalog's csv_connections"
        )
    if len(found) > 1:
        companies = ", ".join(company for _, company in found)
        raise ValidationFailed(f"'{wanted}' is a CSV connection of {companies}; add --company")
    return int(found[0][0])


@csv.command("profiles")
@click.option("--company", help="only this company's profiles")
@click.option("--json", "as_json", is_flag=True)
def csv_profiles(company: str | None, as_json: bool) -> None:
    """Every CSV connection, its locations and how its files are read."""
    factory = session_factory()
    company_id = None
    if company is not None:
        with factory() as session:
            company_id = session.scalar(select(Company.id).where(Company.name == company))
        if company_id is None:
            raise NotFound(f"no company '{company}'")
    found = profiles(factory, company_id)
    if as_json:
        emit_json(
            [
                {
                    "connection": p.label,
                    "locations": sorted(p.locations),
                    "profile": p.profile.settings_json(only_set=False),
                }
                for p in found
            ]
        )
        return
    if not found:
        click.echo("no CSV connections; declare one in the catalog's csv_connections")
    for p in found:
        settings = p.profile.settings_json(only_set=False)
        rules = settings.pop("rules")
        click.echo(f"{p.label}  locations: {', '.join(sorted(p.locations)) or 'none'}")
        for rule in rules or [{"type": "(no rule yet: imports are refused)"}]:
            click.echo("  rule: " + ", ".join(f"{k}={v}" for k, v in rule.items() if v))
        click.echo("  " + ", ".join(f"{k}={v!r}" for k, v in settings.items()))


@csv.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--connection", required=True, help="the CSV connection (Kasse or csv:Kasse)")
@click.option("--company", help="needed only when two companies have a connection of that name")
@click.option("--date", "default_date", type=DATE, help="the business date of rows without one")
@click.option("--dry-run", is_flag=True, help="check and preview, post nothing")
@click.option("--valid-only", is_flag=True, help="import the valid rows, leave out the rest")
@click.option("--force", is_flag=True, help="import a file whose content was imported before")
@click.option("--json", "as_json", is_flag=True)
def csv_import(
    file: Path,
    connection: str,
    company: str | None,
    default_date: Any,
    dry_run: bool,
    valid_only: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Import a POS export: one transfer run of kind csv per location and business date."""
    factory = session_factory()
    with factory() as session:
        connection_id = _connection(session, connection, company)
    when = default_date.date() if default_date else None
    max_bytes = get_settings().csv.max_bytes
    with file.open("rb") as stream:
        if dry_run:
            preview = preview_csv(
                factory,
                connection_id,
                stream,
                file_name=file.name,
                max_bytes=max_bytes,
                default_date=when,
            )
            _print_preview(preview, as_json)
            _refuse_as_the_import_would(preview, valid_only=valid_only, force=force)
            return
        try:
            result = import_csv(
                factory,
                connection_id,
                stream,
                file_name=file.name,
                max_bytes=max_bytes,
                default_date=when,
                valid_only=valid_only,
                force=force,
                triggered_by="cli",
            )
        except DuplicateFile as duplicate:
            raise ValidationFailed(
                f"{duplicate} ({_undo_hint(duplicate.previous_id)}), or pass --force only if "
                "its sales are to count twice"
            ) from None
    if as_json:
        emit_json(result.to_json())
        return
    skipped = (
        f", {plural(result.rows_skipped, 'invalid row')} left out" if result.rows_skipped else ""
    )
    click.echo(
        f"Imported {_named(file.name, result.import_id)}: {plural(result.rows, 'row')}{skipped}"
    )
    for report in result.reports:
        print_report(report)


def _undo_hint(import_id: int) -> str:
    return f"import {import_id}: `stockpot csv undo {import_id}` takes it back"


def _named(file_name: str, import_id: int) -> str:
    """An import as the CLI names it: by its file, as Slack does, with the number only where
    a command takes it (``sales-2026-11.csv (import 12: `stockpot csv undo 12` takes it
    back)``)."""
    return f"{inert(file_name, 80)} ({_undo_hint(import_id)})"


def _print_preview(preview: Preview, as_json: bool) -> None:
    scan = preview.scan
    if as_json:
        emit_json(
            {
                "file_name": scan.file_name,
                "dialect": scan.dialect.describe(),
                "rows": scan.rows,
                "error_count": scan.error_count,
                "errors": [str(problem) for problem in scan.errors],
                "dates": [d.isoformat() for d in scan.dates],
                "unmapped": {code: format_decimal(q) for code, q in preview.unmapped.items()},
                "duplicate_of": preview.duplicate_of,
                "duplicate_file": preview.duplicate_file,
            }
        )
        return
    click.echo(
        f"{scan.file_name}: {scan.dialect.describe()}, {plural(scan.rows, 'row')}, dates "
        f"{', '.join(d.isoformat() for d in scan.dates) or 'none'} (dry run, nothing posted)"
    )
    table(
        [
            [
                str(r.line),
                str(r.business_date),
                r.location,
                " + ".join(map(preview.named, r.codes)),
                figure(r.quantity),
            ]
            for r in scan.sample
        ],
        ["line", "date", "location", "codes", "quantity"],
    )
    if preview.unmapped:
        click.echo("Unmapped codes (sold, not deducted until mapped):")
        for line in preview.unmapped_lines():
            click.echo(f"  {line}")
    if preview.duplicate_of is not None:
        named = _named(preview.duplicate_file or "", preview.duplicate_of)
        click.echo(
            f"This file was already imported as {named}; importing it again counts its sales twice."
        )
    if scan.error_count:
        click.echo(f"{plural(scan.error_count, 'error')}:")
        for problem in scan.errors:
            click.echo(f"  {problem}")


def _refuse_as_the_import_would(preview: Preview, *, valid_only: bool, force: bool) -> None:
    """A dry run exits 1 when the same import would be refused (a deploy script or a
    person's `&&` took the exit 0 of a file with wrong rows for a file that imports)."""
    said = []
    if preview.scan.error_count and not valid_only:
        said.append("fix the file, or import the valid rows only (--valid-only)")
    if preview.duplicate_of is not None and not force:
        said.append("it was imported before (--force imports it again)")
    if said:
        raise ValidationFailed("the import would post nothing: " + "; ".join(said))


@csv.command("imports")
@click.option("--connection", required=True)
@click.option("--company")
@click.option("--json", "as_json", is_flag=True)
def csv_imports(connection: str, company: str | None, as_json: bool) -> None:
    """The latest imports of a CSV connection, newest first."""
    factory = session_factory()
    with factory() as session:
        connection_id = _connection(session, connection, company)
    rows = [
        {
            "import_id": record.id,
            "file_name": record.file_name,
            "status": record.status.value,
            "rows": record.rows,
            "days": len(record.days),
            "imported_at": record.created_at.isoformat(),
            "imported_by": record.imported_by,
        }
        for record in imports(factory, connection_id)
    ]
    if as_json:
        emit_json(rows)
        return
    table(
        [
            [
                str(r["import_id"]),
                inert(r["file_name"]),
                r["status"],
                str(r["rows"]),
                str(r["days"]),
                r["imported_at"][:19],
            ]
            for r in rows
        ],
        ["import", "file", "status", "rows", "days", "imported at (UTC)"],
    )


@csv.command("undo")
@click.argument("import_id", type=int)
def csv_undo(import_id: int) -> None:
    """Reverse one import: its days run again without its rows; other imports stay."""
    result = undo_import(session_factory(), import_id, triggered_by="cli")
    click.echo(
        f"Import of {inert(result.file_name, 80)} (import {import_id}) undone: "
        f"{result.taken_back()}"
    )
    for report in result.reports:
        print_report(report)


def register(main: click.Group) -> None:
    main.add_command(csv)
