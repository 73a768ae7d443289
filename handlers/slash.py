"""The slash-command plumbing: parse, dispatch to a subcommand, answer privately, and show
the right usage when the text is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from stockpot.bot.blocks.common import message
from stockpot.bot.blocks.usage import help_blocks
from stockpot.core.access import Actor
from stockpot.core.business_day import sane_date
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.jobs.specs import Notify
from stockpot.core.models import ExternalLocation
from stockpot.handlers.answers import ack_first
from stockpot.handlers.context import Services, actor, notify, services


class UsageError(StockpotError):
    code = "usage"


@dataclass
class Invocation:
    command: str
    args: list[str]
    team_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    context: BoltContext
    client: WebClient
    respond: Respond

    @property
    def services(self) -> Services:
        return services(self.context)

    def actor(self) -> Actor:
        return actor(self.context, self.channel_id)

    def notify(self) -> Notify:
        return notify(self.context, self.channel_id)

    def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """A private answer to the person who typed the command."""
        self.respond(**message(text, blocks or []), response_type="ephemeral")


Subcommand = Callable[[Invocation], None]


def dispatcher(table: dict[str, Subcommand], default: Subcommand | None) -> Callable[..., None]:
    def answer(
        command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        words = command.get("text", "").split()
        invocation = Invocation(
            command=command["command"],
            args=words[1:],
            team_id=command["team_id"],
            user_id=command["user_id"],
            channel_id=command["channel_id"],
            trigger_id=command.get("trigger_id", ""),
            context=context,
            client=client,
            respond=respond,
        )
        name = words[0].lower() if words else "help"
        handler = table.get(name)
        if handler is None and default is not None:
            invocation.args = words
            handler = default
        if handler is None or name == "help":
            problem = None if name == "help" else f"`{command['command']} {name}` is not a command."
            invocation.reply(f"{command['command']} help", help_blocks(command["command"], problem))
            return
        try:
            handler(invocation)
        except UsageError as error:
            invocation.reply(str(error), help_blocks(command["command"], str(error)))

    return ack_first(answer)


def parse_day(text: str) -> date:
    today = date.today()  # noqa: DTZ011 - the requester's "yesterday" is close enough to ours
    if text == "yesterday":
        return today - timedelta(days=1)
    if text == "today":
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"'{text}' is not a date: use YYYY-MM-DD, `yesterday` or `today`"
        ) from None
    return sane_date(day, today)


def company_locations(inv: Invocation, who: Actor, name: str) -> list[ExternalLocation]:
    query = (
        select(ExternalLocation)
        .where(ExternalLocation.company_id == who.company_id)
        .options(selectinload(ExternalLocation.connection))
    )
    if name and name != "all":
        query = query.where(ExternalLocation.name == name)
    with inv.services.factory() as session:
        found = list(session.scalars(query.order_by(ExternalLocation.name)))
    if not found:
        raise ValidationFailed(f"no location '{name}' in {who.company}; see `/pos locations`")
    return found
