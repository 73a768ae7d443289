"""``stockpot stock``: post counts, receipts, waste and moves from a file or arguments, correct
a posting, and write a storage unit's count template."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Any

import click

from stockpot.bot.amounts import human
from stockpot.bot.cli.support import emit_json, session_factory, table
from stockpot.core import company_clock, periods
from stockpot.core.documents import read_text_file
from stockpot.core.errors import ValidationFailed
from stockpot.core.lookup import company_by_name, storage_unit_by_name
from stockpot.core.models import StockKind
from stockpot.core.stock import files
from stockpot.core.stock.costs import money
from stockpot.core.stock.services import StockRequest, StockResult, correct, post_stock
from stockpot.core.words import figure


@click.group("stock")
def stock_group() -> None:
    """Post stock movements: counts, receipts, waste, moves (and corrections)."""


def _common(command: Any) -> Any:
    options = [
        click.option("--company", required=True),
        click.option("--storage-unit", "storage_unit", help="default: the file's storage_unit"),
        click.option(
            "--date",
            "day",
            help="YYYY-MM-DD, today or yesterday (of the unit's business day, the default)",
        ),
        click.option(
            "--file",
            "path",
            type=click.Path(exists=True, dir_okay=False),
            help="a YAML or CSV file of lines",
        ),
        click.option("--by", help="who posts (default: cli:<your login>)"),
        click.option("--dry-run", is_flag=True, help="show what would be posted, post nothing"),
        click.option("--json", "as_json", is_flag=True),
        click.argument("lines", nargs=-1),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _post(kind: StockKind, options: dict[str, Any]) -> None:
    path = options.get("path")
    if path and options["lines"]:
        raise ValidationFailed("give lines either in --file or as arguments, not both")
    if path:
        source = Path(path)
        parsed = files.read_stock_file(
            read_text_file(source, source=source.name), source=source.name
        )
    elif options["lines"]:
        parsed = files.read_arguments(options["lines"])
    else:
        raise ValidationFailed(
            "no lines: give --file FILE or arguments such as 'Flour=25kg' 'Basil=200g'"
        )
    unit = options.get("storage_unit") or parsed.storage_unit
    if not unit:
        raise ValidationFailed(
            "which storage unit? give --storage-unit (or storage_unit: in the file)"
        )
    factory = session_factory()
    with factory() as session:
        company = company_by_name(session, options["company"])
        to = options.get("to") or parsed.to
        units = (unit,) if to is None else (unit, to)
        posting_day = company_clock.unit_posting_day(factory, company.id, *units)
        day = _day(options.get("day"), posting_day) or parsed.business_date
        request = StockRequest(
            kind=kind,
            company_id=company.id,
            storage_unit=unit,
            business_date=day or posting_day,
            posted_by=options.get("by") or f"cli:{getpass.getuser()}",
            lines=parsed.lines,
            to_storage_unit=to,
            supplier=options.get("supplier") or parsed.supplier,
            reference=options.get("reference") or parsed.reference,
            reason=options.get("reason") or parsed.reason,
            source=Path(path).name if path else "arguments",
        )
    result = post_stock(factory, request, dry_run=options["dry_run"])
    if options["as_json"]:
        emit_json(result.to_json())
        return
    show(result)
    if parsed.skipped:
        click.echo(f"not counted (left empty): {', '.join(parsed.skipped)}")


def _day(written: str | None, posting_day: date) -> date | None:
    """``--date``: ``today`` and ``yesterday`` count from the day a posting given no date
    takes (``company_clock.posting_day``), as in Slack."""
    if not written:
        return None
    try:
        return periods.parse_day(written, posting_day)
    except periods.PeriodError as error:
        raise ValidationFailed(f"--date: {error}") from None


def show(result: StockResult) -> None:
    where = result.storage_unit + (f" → {result.to_storage_unit}" if result.to_storage_unit else "")
    head = "would post" if result.dry_run else f"posted {result.kind.value} {result.posting_id}"
    click.echo(f"{head}: {where}, {result.business_date}, by {result.posted_by}")
    counting = result.kind is StockKind.COUNT
    table(
        [
            [
                line.ingredient,
                figure(line.quantity),
                line.unit,
                *([figure(line.adjustment or 0)] if counting else []),
                money(line.value, result.currency),
            ]
            for line in result.lines
        ],
        ["INGREDIENT", "COUNTED" if counting else "QUANTITY", "UNIT"]
        + (["ADJUSTMENT"] if counting else [])
        + ["VALUE"],
    )
    for below in result.below_zero:
        click.echo(
            f"below zero now: {below.ingredient} in {below.storage_unit}, "
            f"{human(below.balance, below.unit)} (posted all the same; a count sets it right)"
        )
    for item in result.absorbed:
        click.echo(
            f"absorbed by count {item.count_id} (a count fixes its balance): "
            f"{figure(item.quantity)} {item.unit} of {item.ingredient} "
            f"in {item.storage_unit}"
        )


@stock_group.command("count")
@_common
def stock_count(**options: Any) -> None:
    """Post a count: each listed ingredient's balance becomes the counted quantity (an
    ADJUSTMENT of counted − balance). Unlisted ingredients are not counted."""
    _post(StockKind.COUNT, options)


@stock_group.command("receive")
@click.option("--supplier")
@click.option("--reference", help="delivery note or invoice number")
@_common
def stock_receive(**options: Any) -> None:
    """Post goods received (Flour=25kg@0.9: 25 kg at 0.90 per kg)."""
    _post(StockKind.RECEIPT, options)


@stock_group.command("waste")
@click.option("--reason")
@_common
def stock_waste(**options: Any) -> None:
    """Post waste."""
    _post(StockKind.WASTE, options)


@stock_group.command("move")
@click.option("--to", required=True, help="destination storage unit")
@_common
def stock_move(**options: Any) -> None:
    """Move stock from --storage-unit to --to (two legs that always balance)."""
    _post(StockKind.MOVE, options)


@stock_group.command("correct")
@click.argument("posting_id", type=int)
@click.option("--company", required=True)
@click.option("--reason")
@click.option("--by", help="who corrects (default: cli:<your login>)")
@click.option("--json", "as_json", is_flag=True)
def stock_correct(
    posting_id: int, company: str, reason: str | None, by: str | None, as_json: bool
) -> None:
    """Reverse a posting (never edit it). A corrected count stops counting."""
    factory = session_factory()
    with factory() as session:
        company_id = company_by_name(session, company).id
    result = correct(factory, company_id, posting_id, by or f"cli:{getpass.getuser()}", reason)
    if as_json:
        emit_json(result.to_json())
        return
    show(result)


@stock_group.command("template")
@click.option("--company", required=True)
@click.option("--storage-unit", "storage_unit", required=True)
def stock_template(company: str, storage_unit: str) -> None:
    """Print a storage unit's count CSV: its ingredients, each with its unit."""
    with session_factory()() as session:
        found = company_by_name(session, company)
        unit = storage_unit_by_name(session, found, storage_unit)
        click.echo(files.template(files.sheet(session, found, unit.id)), nl=False)


def register(main: click.Group) -> None:
    main.add_command(stock_group)
