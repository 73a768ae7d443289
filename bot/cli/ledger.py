"""``stockpot ledger``: balances, movements, traces, and why an ingredient moved."""

from __future__ import annotations

import shlex
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from stockpot.bot.cli.support import (
    emit_json,
    output_file,
    session_factory,
    session_scope,
    table,
)
from stockpot.core import ledger, ledger_export
from stockpot.core.csv_export import csv_text
from stockpot.core.errors import ValidationFailed
from stockpot.core.exact import format_decimal
from stockpot.core.lookup import company_by_name
from stockpot.core.stock import variance
from stockpot.core.stock.costs import money
from stockpot.core.transfer import trace
from stockpot.core.why import WHY_CSV_HEADER, Why, explain, why_csv_rows
from stockpot.core.words import figure, plural


@click.group("ledger")
def ledger_group() -> None:
    """Read the inventory ledger."""


@ledger_group.command("balances")
@click.option("--company", required=True)
@click.option("--json", "as_json", is_flag=True)
def ledger_balances(company: str, as_json: bool) -> None:
    """Stock per storage unit and ingredient, in base units, and its value at cost."""
    with session_scope() as session:
        found = company_by_name(session, company)
        rows = ledger.balances(session, found)
        currency = found.currency
    if as_json:
        emit_json([row.to_json() for row in rows])
        return
    table(
        [
            [
                r.storage_unit,
                r.ingredient,
                figure(r.quantity),
                r.unit,
                money(r.value, currency),
            ]
            for r in rows
        ],
        ["STORAGE UNIT", "INGREDIENT", "BALANCE", "UNIT", "VALUE"],
    )
    total = sum((r.value for r in rows if r.value is not None), Decimal(0))
    click.echo(f"total value: {money(total, currency)} (ingredients with a cost)")


@ledger_group.command("variance")
@click.option("--company", required=True)
@click.option("--storage-unit", "storage_unit", help="default: every storage unit counted twice")
@click.option(
    "--period", help="last (default), a count date, or two count dates: 2026-11-01..2026-11-30"
)
@click.option("--json", "as_json", is_flag=True)
def ledger_variance(
    company: str, storage_unit: str | None, period: str | None, as_json: bool
) -> None:
    """Actual against theoretical usage between two counts of a storage unit."""
    with session_scope() as session:
        found = company_by_name(session, company)
        reports = (
            [variance.variance(session, found, storage_unit, period)]
            if storage_unit
            else variance.last_periods(session, found)
        )
    if as_json:
        emit_json([report.to_json() for report in reports])
        return
    if not reports:
        click.echo("no storage unit has been counted twice yet: a variance runs between two counts")
    for report in reports:
        show_variance(report)


def show_variance(report: variance.Variance) -> None:
    click.echo(
        f"{report.storage_unit}: {report.opening_date} → {report.closing_date} "
        f"(counts at the close of each day)"
    )
    table(
        [
            [
                line.ingredient,
                line.unit,
                figure(line.opening),
                figure(line.receipts),
                figure(line.moves),
                figure(line.waste),
                figure(line.closing),
                figure(line.actual),
                figure(line.theoretical),
                figure(line.variance),
                "–" if line.percent is None else f"{line.percent}%",
                money(line.value, report.currency),
            ]
            for line in report.lines
        ],
        [
            "INGREDIENT",
            "UNIT",
            "OPENING",
            "RECEIVED",
            "MOVED",
            "WASTED",
            "CLOSING",
            "ACTUAL",
            "THEORETICAL",
            "VARIANCE",
            "%",
            "VALUE",
        ],
    )
    click.echo(f"total variance: {money(report.total_value, report.currency)}")
    if report.uncosted:
        click.echo(f"no cost (not in the total): {', '.join(report.uncosted)}")
    unit = ["--storage-unit", report.storage_unit]
    again = shlex.join(["stockpot", "ledger", "variance", "--company", report.company, *unit])
    pending = report.note(f"`{again}`")
    if pending is not None:
        click.echo(f"note: {pending}")


def business_dates(date_from: datetime, date_to: datetime) -> tuple[date, date]:
    """``--from`` and ``--to`` as the first and last business date of a range, refused when
    the range runs backwards (it would read as a period in which nothing moved)."""
    if date_to < date_from:
        raise ValidationFailed("--to is before --from: give the first business date first")
    return date_from.date(), date_to.date()


@ledger_group.command("movements")
@click.option("--company", required=True)
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--json", "as_json", is_flag=True)
def ledger_movements(company: str, date_from: Any, date_to: Any, as_json: bool) -> None:
    """Movements of a range of business dates (inclusive)."""
    first, last = business_dates(date_from, date_to)
    with session_scope() as session:
        rows = ledger.movements(session, company_by_name(session, company), first, last)
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
                figure(r.quantity),
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
                figure(line.quantity),
                figure(line.contribution),
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
def ledger_export_command(
    company: str, date_from: Any, date_to: Any, kind: str, output: str | None
) -> None:
    """Stream the movements of a range of business dates (inclusive) as CSV or JSON lines,
    with their run, storage unit, ingredient, quantity and origin, for accounting and BI."""
    first, last = business_dates(date_from, date_to)
    write = ledger_export.WRITERS[kind]
    with (
        session_factory()() as session,
        session.begin(),
        output_file(output) as out,
    ):
        found = company_by_name(session, company)
        rows = ledger_export.stream(session, found.id, first, last)
        count = write(rows, out)
    if output:
        click.echo(f"{plural(count, 'movement')} written to {output}", err=True)


@ledger_group.command("why")
@click.argument("ingredient")
@click.option("--company", required=True)
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="end of a period")
@click.option("--storage", help="only this storage unit")
@click.option(
    "--lines",
    "lines_file",
    type=click.Path(dir_okay=False, writable=True),
    help="write every sales line behind it to this CSV file",
)
@click.option("--json", "as_json", is_flag=True)
def ledger_why(
    ingredient: str,
    company: str,
    day: Any,
    last: Any,
    storage: str | None,
    lines_file: str | None,
    as_json: bool,
) -> None:
    """Why INGREDIENT moved: the POS items behind its sales deduction, what each took and
    the recipe path it went through (the ledger's trace, summed per item)."""
    first = day.date()
    end = last.date() if last else first
    if end < first:
        raise ValidationFailed(f"the period {first} to {end} ends before it starts")
    with session_scope() as session:
        owner = company_by_name(session, company)
        why = explain(session, owner.id, ingredient, first, end, storage)
    if lines_file:
        with output_file(lines_file) as out:
            out.write(csv_text(WHY_CSV_HEADER, why_csv_rows(why)))
    if as_json:
        emit_json(why_json(why))
        return
    where = f" in {why.storage_unit}" if why.storage_unit else ""
    period = str(first) if first == end else f"{first} to {end}"
    click.echo(
        f"{why.ingredient}{where}, {period}: {figure(why.from_sales)} {why.unit} from "
        f"sales ({plural(why.days, 'transferred day')}, {plural(len(why.lines), 'sales line')})"
    )
    for kind, quantity in sorted(why.other.items()):
        click.echo(f"  {kind}: {figure(quantity)} {why.unit}")
    table(
        [
            [
                item.location,
                item.pos_code or "",
                item.name,
                figure(item.sold),
                f"{figure(item.contribution)} {why.unit}",
                item.path,
            ]
            for item in why.items
        ],
        ["LOCATION", "CODE", "ITEM", "SOLD", "TOOK", "PATH (PER SALE)"],
    )


def why_json(why: Why) -> dict[str, Any]:
    return {
        "ingredient": why.ingredient,
        "unit": why.unit,
        "storage_unit": why.storage_unit,
        "from": why.first.isoformat(),
        "to": why.last.isoformat(),
        "from_sales": format_decimal(why.from_sales),
        "other": {kind: format_decimal(q) for kind, q in why.other.items()},
        "items": [
            {
                "pos_code": item.pos_code,
                "name": item.name,
                "location": item.location,
                "sold": format_decimal(item.sold),
                "lines": item.lines,
                "contribution": format_decimal(item.contribution),
                "path": item.path,
            }
            for item in why.items
        ],
        "lines": [
            {
                "business_date": entry.business_date.isoformat(),
                "location": entry.location,
                **entry.line.to_json(),
            }
            for entry in why.lines
        ],
    }


def register(main: click.Group) -> None:
    main.add_command(ledger_group)
