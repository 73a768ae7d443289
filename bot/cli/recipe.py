"""``stockpot recipe show``: a recipe's lines, as Slack's ``/pos recipe`` shows them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import click

from stockpot.bot.cli.support import emit_json, session_scope
from stockpot.core.exact import format_decimal
from stockpot.core.lookup import company_by_name
from stockpot.core.recipes import RecipeLineView, amount_text, recipe_view, trim_text


@click.group("recipe")
def recipe_group() -> None:
    """Check a recipe: lines, quantities, trim, sub-recipes, issue storage."""


def _line_text(line: RecipeLineView, depth: int) -> list[str]:
    indent = "  " * depth
    trim = f", {trim_text(line.trim)}" if line.trim else ""
    kind = ""
    if line.kind == "recipe":
        makes = line.makes or 1
        kind = (
            " (recipe)"
            if makes == 1
            else f" (recipe; its lines make {amount_text(makes, 'portions')})"
        )
    text = (
        f"{indent}- {amount_text(line.quantity, line.unit)} {line.name}{kind}{trim}"
        f" · from {line.issue_storage}"
    )
    return [text, *(t for sub in line.lines for t in _line_text(sub, depth + 1))]


def _exact(value: Any) -> Any:
    """JSON of a view with exact decimals as text, ungrouped for programs to read (as every
    ``--json``: ``core.exact.format_decimal``)."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, RecipeLineView):
        return _exact(vars(value))
    return value


@recipe_group.command("show")
@click.argument("name")
@click.option("--company", required=True)
@click.option("--json", "as_json", is_flag=True)
def recipe_show(name: str, company: str, as_json: bool) -> None:
    """The recipe NAME (case aside; unknown names get the closest ones)."""
    with session_scope() as session:
        view = recipe_view(session, company_by_name(session, company).id, name)
    if as_json:
        emit_json(_exact(vars(view)))
        return
    state = "" if view.active else " (inactive)"
    click.echo(f"{view.name}{state}: makes {amount_text(view.portions, 'portions')}")
    if view.default_issue_storage:
        click.echo(f"issued from {view.default_issue_storage} unless a line says otherwise")
    for line in view.lines:
        for text in _line_text(line, 0):
            click.echo(text)
    if view.sold_as:
        click.echo("sold as: " + "; ".join(view.sold_as))
    if view.used_in:
        click.echo("used in: " + ", ".join(view.used_in))


def register(main: click.Group) -> None:
    main.add_command(recipe_group)
