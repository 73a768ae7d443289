"""``stockpot catalog`` and ``stockpot mappings``."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import click

from stockpot.bot.cli.support import (
    emit_json,
    session_factory,
    session_scope,
    table,
)
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.documents import read_yaml_file
from stockpot.core.errors import PROBLEMS_SHOWN, InvalidDocument, ValidationFailed
from stockpot.core.lookup import company_by_name, connection_by_label
from stockpot.core.mapping import find_item, import_mappings, list_mappings, remove_mapping
from stockpot.core.unmapped import days_with_item
from stockpot.core.words import plural


@click.group()
def catalog() -> None:
    """Storage units, ingredients, recipes and CSV connections."""


ALL_ERRORS = click.option(
    "--all-errors",
    is_flag=True,
    help=f"list every error of a refused file (else the first {PROBLEMS_SHOWN} and a count)",
)


def _importing(run: Callable[[], object], command: str, file: Path, all_errors: bool) -> None:
    """Run an import; a refused file lists its first errors by line and counts the rest,
    naming the option that lists them all (``--all-errors``: every one, on stderr)."""
    try:
        click.echo(str(run()))
    except InvalidDocument as error:
        if all_errors:
            click.echo(
                "\n".join([f"error: {error.headline}", *error.listing(error.problems)]), err=True
            )
        elif len(error.problems) > PROBLEMS_SHOWN:
            click.echo(f"error: {error}", err=True)
            click.echo(
                f"every error: stockpot {command} {shlex.quote(str(file))} --all-errors", err=True
            )
        else:
            click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@ALL_ERRORS
def catalog_import(file: Path, all_errors: bool) -> None:
    """Upsert a company's catalog from a YAML FILE, all or nothing."""
    _importing(
        lambda: import_catalog(session_factory(), read_yaml_file(file), source=str(file)),
        "catalog import",
        file,
        all_errors,
    )


@click.group()
def mappings() -> None:
    """What selling a POS item takes from stock."""


@mappings.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@ALL_ERRORS
def mappings_import(file: Path, all_errors: bool) -> None:
    """Create or replace mappings from a YAML FILE, all or nothing."""
    _importing(
        lambda: import_mappings(session_factory(), read_yaml_file(file), source=str(file)),
        "mappings import",
        file,
        all_errors,
    )


@mappings.command("list")
@click.option("--company", required=True)
@click.option("--connection", "connection_label", help="provider:name, e.g. csv:Till export")
@click.option("--unmapped", is_flag=True, help="only the items without a mapping")
@click.option("--search", "text", help="only items whose name, code or target contains TEXT")
@click.option("--json", "as_json", is_flag=True)
def mappings_list(
    company: str, connection_label: str | None, unmapped: bool, text: str | None, as_json: bool
) -> None:
    """The POS items of a company and what each one is mapped to."""
    with session_scope() as session:
        owner = company_by_name(session, company)
        connection = (
            connection_by_label(session, owner, connection_label) if connection_label else None
        )
        rows = list_mappings(session, owner, connection, text)
    if unmapped:
        rows = [row for row in rows if row.target_kind is None]
    if as_json:
        emit_json([row.__dict__ for row in rows])
        return
    table(
        [
            [
                row.connection,
                row.pos_code or "",
                row.pos_name,
                row.target_kind or "UNMAPPED",
                row.target or "",
                f"{row.factor} {row.unit}" if row.factor else "",
            ]
            for row in rows
        ],
        ["CONNECTION", "CODE", "POS ITEM", "MAPPED TO", "TARGET", "PER ITEM SOLD"],
    )


@mappings.command("remove")
@click.argument("item")
@click.option("--company", required=True)
@click.option("--connection", "connection_label", help="provider:name, when ITEM is ambiguous")
def mappings_remove(item: str, company: str, connection_label: str | None) -> None:
    """Take ITEM (its code, key or exact name) back to unmapped: removes its mapping, or
    un-ignores it. Lists the transferred days that sold it, to rerun."""
    with session_scope() as session:
        owner = company_by_name(session, company)
        connection = (
            connection_by_label(session, owner, connection_label) if connection_label else None
        )
        found = find_item(session, owner, connection, item)
        was = "ignored" if found.mapping is not None and found.mapping.ignored else "mapped"
        if not remove_mapping(session, found):
            raise ValidationFailed(f"{found.name} is not mapped; nothing changed")
        session.flush()
        days = days_with_item(session, found)
        name = found.name
    click.echo(f"{name} is no longer {was}; it is unmapped again.")
    if days:
        dates = ", ".join(str(day) for _, day in days[:10]) + (" …" if len(days) > 10 else "")
        click.echo(
            f"{plural(len(days), 'transferred day')} sold it ({dates}); rerun them with "
            "`stockpot transfer run` for the ledger to change."
        )


def register(main: click.Group) -> None:
    main.add_command(catalog)
    main.add_command(mappings)
