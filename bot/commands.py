"""Every slash command and subcommand, once: its usage, what it does and an example.

The help messages (``bot.blocks.usage``), the manifest's usage hints (``bot.manifest``,
``stockpot manifest``) and the dispatcher's check that each subcommand has a handler
(``handlers.slash``) are all read from this table, so they cannot drift apart. To add a
subcommand: add a ``Subcommand`` here and its handler in ``handlers/commands.py``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

DEFAULT = ""
"""The name of a command's default subcommand: text that starts with no subcommand's name
(``/transfer yesterday``, ``/ledger last week``)."""


@dataclass(frozen=True)
class Subcommand:
    name: str
    """The first word (``DEFAULT`` for the command's default)."""
    args: str
    """What follows the name, with ``<placeholders>`` and ``[optional]`` parts."""
    does: str
    example: str
    """A full example of what to type after the command (the name included)."""

    @property
    def usage(self) -> str:
        return " ".join(part for part in (self.name, self.args) if part)


@dataclass(frozen=True)
class SlashCommand:
    name: str
    description: str
    """What Slack shows next to the command in its autocomplete (manifest ``description``)."""
    subcommands: tuple[Subcommand, ...]
    should_escape: bool = False
    """Whether Slack turns @mentions and #channels into ids (``/pos members @user``)."""

    @property
    def names(self) -> list[str]:
        return [sub.name for sub in self.subcommands if sub.name != DEFAULT]

    def usage_hint(self) -> str:
        """The manifest's ``usage_hint``: every usage, shortest form, then ``help``."""
        return " | ".join([*(sub.usage for sub in self.subcommands), "help"])

    def closest(self, word: str) -> str | None:
        """The subcommand ``word`` was probably meant to be (a typo), or ``None``."""
        found = difflib.get_close_matches(word.lower(), self.names, n=1, cutoff=0.6)
        return found[0] if found else None


POS = SlashCommand(
    "/pos",
    "Connect a POS, sync, set up locations and mappings, manage members",
    (
        Subcommand(
            "setup",
            "<company>",
            "set up a new company for this workspace (workspace admins)",
            "setup Pizzeria Beispiel",
        ),
        Subcommand(
            "link",
            "<code>",
            "link this workspace to an existing company with the operator's one-time code",
            "link K7QF-3MZP-XRTA",
        ),
        Subcommand(
            "connect",
            "sides|lightspeed",
            "connect SIDES (username and password) or Lightspeed K-Series (OAuth)",
            "connect sides",
        ),
        Subcommand("test", "", "check every connection", "test"),
        Subcommand("sync", "", "refresh locations and items from the POS", "sync"),
        Subcommand(
            "locations",
            "",
            "locations, their storage unit and state; link, activate, migrate",
            "locations",
        ),
        Subcommand(
            "storage",
            "[add|rename|archive|unarchive …]",
            "list storage units; `add <name> | <address>`, `rename <name> | <new name>`, "
            "`archive <name>` (hidden from choices, history kept), `unarchive <name>`",
            "storage rename Lager | Lager Torstraße",
        ),
        Subcommand(
            "unmapped",
            "",
            "what sold but is not mapped, most-sold first, to map or ignore",
            "unmapped",
        ),
        Subcommand(
            "mappings",
            "[text]",
            "what each item takes from stock (search, edit, remove), and how much of the sales "
            "is mapped",
            "mappings diavola",
        ),
        Subcommand(
            "recipe",
            "<name>",
            "a recipe's lines, quantities, trim, sub-recipes and storage",
            "recipe Pizza Margherita",
        ),
        Subcommand(
            "members",
            "[add|remove @user [admin|viewer]]",
            "who may do what",
            "members add @maria admin",
        ),
        Subcommand(
            "migrate",
            "<location> [days]",
            "transfer the last days (90 by default), oldest first",
            "migrate Pizzeria Beispiel Teltow 30",
        ),
        Subcommand(
            "doctor",
            "[location] [date]",
            "run the troubleshooting checks (and a chosen day's) and say what to fix",
            "doctor Pizzeria Beispiel Teltow",
        ),
        Subcommand(
            "csv",
            "[profile [name]]",
            "import a till's CSV export (upload, preview, Import); `profile`: how one is read",
            "csv",
        ),
        Subcommand(
            "bind",
            "",
            "make this channel work for the company (CSV files shared here are read)",
            "bind",
        ),
        Subcommand(
            "report",
            "[here [HH:MM] [timezone] | off | now [date]]",
            "the daily report and alerts",
            "report here 07:30 Europe/Berlin",
        ),
    ),
    should_escape=True,
)

TRANSFER = SlashCommand(
    "/transfer",
    "Preview and post a business day of sales to the ledger",
    (
        Subcommand(
            DEFAULT,
            "<date|yesterday> [location] [--now]",
            "preview a day, then post it to the ledger (`--now` posts directly)",
            "yesterday Pizzeria Beispiel Teltow",
        ),
        Subcommand(
            "log",
            "<location> <date>",
            "the runs of that day",
            "log Pizzeria Beispiel Teltow 2026-11-27",
        ),
        Subcommand(
            "pause",
            "<location|all>",
            "stop automatic transfers",
            "pause all",
        ),
        Subcommand(
            "resume",
            "<location|all>",
            "restart automatic transfers",
            "resume Pizzeria Beispiel Teltow",
        ),
        Subcommand("status", "", "each location's state and last run", "status"),
        Subcommand(
            "time",
            "<location|all> <HH:MM>",
            "when each closed day is transferred (06:00 unless you say)",
            "time all 05:30",
        ),
    ),
)

LEDGER = SlashCommand(
    "/ledger",
    "Stock per storage unit and ingredient, movements, variance",
    (
        Subcommand(
            DEFAULT,
            "<period> [storage unit]",
            "the movements of those days per ingredient; a period is a date, "
            "`from..to`, `from to to`, `yesterday`, `today`, `last week`, `this week`, "
            "`last month` or `this month`",
            "last week Küche",
        ),
        Subcommand(
            "balances",
            "[storage unit]",
            "stock per storage unit and ingredient",
            "balances Küche",
        ),
        Subcommand(
            "why",
            "<ingredient> <date|from..to> [storage unit]",
            "the sales behind a deduction",
            "why Mozzarella 2026-11-27",
        ),
        Subcommand(
            "variance",
            "[storage unit] [last|date|from..to]",
            "actual against theoretical usage between two counts, in money",
            "variance Küche last",
        ),
    ),
)

STOCK = SlashCommand(
    "/stock",
    "Count, receive, waste and move stock (admins)",
    (
        Subcommand(
            "count",
            "<storage unit> [date]",
            "open the unit's count sheet (empty = not counted)",
            "count Küche",
        ),
        Subcommand(
            "template",
            "<storage unit>",
            "the unit's count CSV: fill it in, upload it here",
            "template Küche",
        ),
        Subcommand(
            "receive",
            "<storage unit> [date] [Flour=25kg@0.9, …]",
            "goods received (a form without lines)",
            "receive Küche Mozzarella=10kg@8.5",
        ),
        Subcommand(
            "waste",
            "<storage unit> [date] [Basil=20g, …]",
            "waste (a form without lines)",
            "waste Küche Basil=20g",
        ),
        Subcommand(
            "move",
            "<storage unit> to <storage unit> [date] [House red=2, …]",
            "move stock between units",
            "move Lager to Bar House red=2",
        ),
        Subcommand(
            "correct",
            "<posting>",
            "reverse a posting (never edited)",
            "correct 42",
        ),
    ),
)

COMMANDS: dict[str, SlashCommand] = {c.name: c for c in (POS, TRANSFER, LEDGER, STOCK)}
"""Every slash command the app declares, in the manifest's order."""
