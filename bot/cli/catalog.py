"""``stockpot catalog`` and ``stockpot mappings``."""

from __future__ import annotations

from pathlib import Path

import click

from stockpot.bot.cli.support import (
    emit_json,
    reports_errors,
    session_factory,
    session_scope,
    table,
)
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.lookup import company_by_name, connection_by_label
from stockpot.core.mapping import import_mappings, list_mappings


@click.group()
def catalog() -> None:
    """Storage units, ingredients, recipes and CSV connections."""


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_errors
def catalog_import(file: Path) -> None:
    """Upsert a company's catalog from a YAML FILE, all or nothing."""
    summary = import_catalog(session_factory(), file.read_text(encoding="utf-8"), source=str(file))
    click.echo(str(summary))


@click.group()
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


def register(main: click.Group) -> None:
    main.add_command(catalog)
    main.add_command(mappings)
