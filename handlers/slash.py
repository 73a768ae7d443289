"""The slash-command plumbing: parse, dispatch to a subcommand, answer privately, and show
the right usage when the text is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from stockpot.bot.blocks.common import escape, message
from stockpot.bot.blocks.usage import help_blocks
from stockpot.bot.commands import DEFAULT, SlashCommand
from stockpot.core import periods
from stockpot.core.access import Actor
from stockpot.core.errors import StockpotError
from stockpot.core.jobs.specs import Notify
from stockpot.core.lookup import location_names, not_found
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
"""A subcommand's handler."""


def dispatcher(command: SlashCommand, table: dict[str, Subcommand]) -> Callable[..., None]:
    """Answer ``command``: each subcommand of the command table (``bot.commands``) by its
    handler in ``table`` (``DEFAULT`` for text that names no subcommand). Every subcommand of
    the table needs a handler and every handler a line in the table (help cannot drift)."""
    declared = {sub.name for sub in command.subcommands}
    if declared != set(table):
        raise ValueError(
            f"{command.name}: subcommands without a handler {sorted(declared - set(table))}, "
            f"handlers not in bot/commands.py {sorted(set(table) - declared)}"
        )
    default = table.get(DEFAULT)

    def answer(
        body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        words = body.get("text", "").split()
        invocation = Invocation(
            command=body["command"],
            args=words[1:],
            team_id=body["team_id"],
            user_id=body["user_id"],
            channel_id=body["channel_id"],
            trigger_id=body.get("trigger_id", ""),
            context=context,
            client=client,
            respond=respond,
        )
        name = words[0].lower() if words else "help"
        handler = table.get(name) if name != DEFAULT else None
        if name == "help":
            invocation.reply(f"{command.name} help", help_blocks(command.name))
            return
        if handler is None and default is None:
            problem = f"`{command.name} {name}` is not a command.{_did_you_mean(command, name)}"
            invocation.reply(problem, help_blocks(command.name, problem))
            return
        if handler is None:
            invocation.args = words
            handler = default
        try:
            handler(invocation)
        except UsageError as error:
            problem = str(error)
            if handler is default:
                problem += _did_you_mean(command, name)
            invocation.reply(escape(problem), help_blocks(command.name, problem))

    return ack_first(answer)


def _did_you_mean(command: SlashCommand, word: str) -> str:
    closest = command.closest(word)
    return f" Did you mean `{command.name} {closest}`?" if closest else ""


def parse_day(text: str) -> date:
    """A day as people name it (``core.periods``), counted from today."""
    try:
        return periods.parse_day(text, date.today())  # noqa: DTZ011 - the requester's "yesterday" is close enough to ours
    except periods.PeriodError as error:
        raise UsageError(str(error)) from None


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
        with inv.services.factory() as session:
            known = location_names(session, who.company_id)
        raise not_found(f"location in {who.company}", name, known)
    return found
