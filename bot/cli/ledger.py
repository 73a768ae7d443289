"""``stockpot ledger``: balances, movements, traces."""

from __future__ import annotations

from typing import Any

import click

from stockpot.bot.cli.support import (
    emit_json,
    reports_errors,
    session_factory,
    session_scope,
    table,
)
from stockpot.core import ledger, ledger_export
from stockpot.core.errors import ValidationFailed
from stockpot.core.exact import format_decimal
from stockpot.core.lookup import company_by_name
from stockpot.core.transfer import trace


@click.group("ledger")
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
        lines = trace.trace(session, movement_id)
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


@ledger_group.command("export")
@click.option("--company", required=True)
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--format", "kind", type=click.Choice(sorted(ledger_export.WRITERS)), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="default: stdout")
@reports_errors
def ledger_export_command(
    company: str, date_from: Any, date_to: Any, kind: str, output: str | None
) -> None:
    """Stream the movements of a range of business dates (inclusive) as CSV or JSON lines,
    with their run, storage unit, ingredient, quantity and origin, for accounting and BI."""
    if date_to < date_from:
        raise ValidationFailed("--to is before --from: give the first business date first")
    write = ledger_export.WRITERS[kind]
    with (
        session_factory()() as session,
        session.begin(),
        click.open_file(output or "-", "w", encoding="utf-8") as out,
    ):
        found = company_by_name(session, company)
        rows = ledger_export.stream(session, found.id, date_from.date(), date_to.date())
        count = write(rows, out)
    if output:
        click.echo(f"{count} movement(s) written to {output}", err=True)


def register(main: click.Group) -> None:
    main.add_command(ledger_group)
