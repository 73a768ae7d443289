"""``stockpot storage``: list, rename, archive and unarchive storage units (as ``/pos
storage`` does)."""

from __future__ import annotations

import click

from stockpot.bot.cli.support import emit_json, session_scope, table
from stockpot.core.lookup import company_by_name
from stockpot.core.storage import archive_storage_unit, rename_storage_unit, storage_units


@click.group("storage")
def storage_group() -> None:
    """Storage units: list, rename, archive (hidden from choices, history kept)."""


@storage_group.command("list")
@click.option("--company", required=True)
@click.option("--json", "as_json", is_flag=True)
def storage_list(company: str, as_json: bool) -> None:
    """Every storage unit, archived ones marked."""
    with session_scope() as session:
        rows = storage_units(session, company_by_name(session, company).id)
    if as_json:
        emit_json([row.__dict__ for row in rows])
        return
    table(
        [[r.name, r.address, str(r.locations), "archived" if r.archived else ""] for r in rows],
        ["STORAGE UNIT", "ADDRESS", "LOCATIONS", "STATE"],
    )


@storage_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@click.option("--company", required=True)
def storage_rename(name: str, new_name: str, company: str) -> None:
    """Rename NAME to NEW_NAME; its movements, links and recipes follow."""
    with session_scope() as session:
        owner = company_by_name(session, company).id
        before, unit = rename_storage_unit(session, owner, name, new_name)
        click.echo(f"storage unit {before} is now called {unit.name}")


@storage_group.command("archive")
@click.argument("name")
@click.option("--company", required=True)
def storage_archive(name: str, company: str) -> None:
    """Archive NAME: hidden from choices, nothing can be posted to it, history kept."""
    with session_scope() as session:
        unit = archive_storage_unit(session, company_by_name(session, company).id, name)
        click.echo(f"storage unit {unit.name} is archived")


@storage_group.command("unarchive")
@click.argument("name")
@click.option("--company", required=True)
def storage_unarchive(name: str, company: str) -> None:
    """Bring NAME back into use."""
    with session_scope() as session:
        owner = company_by_name(session, company).id
        unit = archive_storage_unit(session, owner, name, archived=False)
        click.echo(f"storage unit {unit.name} is in use again")


def register(main: click.Group) -> None:
    main.add_command(storage_group)
