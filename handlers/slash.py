"""The slash-command plumbing: parse, dispatch to a subcommand, answer privately, and show
the right usage when the text is wrong."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.blocks.common import escape, message
from stockpot.bot.blocks.usage import help_blocks
from stockpot.bot.commands import DEFAULT, SlashCommand
from stockpot.core import company_clock, periods
from stockpot.core.access import Actor
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.jobs.specs import Notify
from stockpot.core.models import ExternalLocation
from stockpot.core.scope import CompanyScope
from stockpot.handlers.answers import ack_first
from stockpot.handlers.context import (
    Services,
    actor,
    changing,
    notify,
    reading,
    said_once,
    services,
)


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

    def reading(self, who: Actor) -> AbstractContextManager[CompanyScope]:
        """The rows of ``who``'s company, to read."""
        return reading(self.context, who)

    def changing(self, who: Actor) -> AbstractContextManager[CompanyScope]:
        """The rows of ``who``'s company, changed in one transaction."""
        return changing(self.context, who)

    def answer_once(
        self, who: Actor, step: str, change: Callable[[CompanyScope], dict[str, Any]]
    ) -> None:
        """Make the change and give the answer it works out, once (``said_once``): a
        takeover of this answer says the same, not what the state it left says."""
        self.answer(said_once(self.context, who, step, change))

    def notify(self) -> Notify:
        return notify(self.context, self.channel_id)

    def today(self, who: Actor) -> date:
        """Today on the company's clock (``core.company_clock.today``): the one date every
        command counts ``yesterday``, ``this week`` and a default date from, not the server's
        (a location in Auckland or Los Angeles is a day off UTC for hours every day); but
        ``/transfer``, whose ``yesterday`` is each location's business day, and a stock
        posting's date, its default and a typed ``today`` or ``yesterday`` alike
        (``core.company_clock.posting_day``)."""
        return company_clock.company_today(self.services.factory, who.company_id)

    def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """A private answer to the person who typed the command."""
        self.answer(message(text, blocks or []))

    def answer(self, said: dict[str, Any]) -> None:
        """``said`` (a ``message``) as a private answer to the person who typed the command."""
        self.respond(**said, response_type="ephemeral")


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


def parse_day(text: str, today: date) -> date:
    """A day as people name it (``core.periods``), counted from ``today`` (``Invocation.today``)."""
    try:
        return periods.parse_day(text, today)
    except periods.PeriodError as error:
        raise UsageError(str(error)) from None


def company_locations(inv: Invocation, who: Actor, name: str) -> list[ExternalLocation]:
    """The locations ``name`` means (``all``: every one), refused with the closest names."""
    with inv.reading(who) as rows:
        found = rows.locations(name)
    if not found:
        raise ValidationFailed(f"{who.company} has no location yet; see `/pos locations`")
    return found
