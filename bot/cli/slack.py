"""``stockpot slack``: what an operator does for Slack workspaces."""

from __future__ import annotations

import click

from stockpot.bot.cli.support import session_scope
from stockpot.core.words import plural
from stockpot.core.workspaces import LINK_CODE_TTL, new_link_code


@click.group("slack")
def slack() -> None:
    """Slack workspaces: link one to an existing company."""


@slack.command("link")
@click.argument("company")
def slack_link(company: str) -> None:
    """Print a one-time code that links a workspace to COMPANY: someone in the workspace runs
    `/pos link <code>` (and becomes an admin of COMPANY). Only the code's hash is stored."""
    with session_scope() as session:
        code = new_link_code(session, company)
    minutes = int(LINK_CODE_TTL.total_seconds() // 60)
    click.echo(code.code)
    click.echo(
        f"In the workspace that should work for {code.company}, run `/pos link {code.code}` "
        f"within {plural(minutes, 'minute')} (until {code.expires_at:%Y-%m-%d %H:%M} UTC); "
        "it works once.",
        err=True,
    )


def register(main: click.Group) -> None:
    main.add_command(slack)
