"""Help and usage texts of the slash commands."""

from __future__ import annotations

from stockpot.bot.blocks.common import Block, context, header, section

POS = [
    ("/pos setup <company>", "set up a new company for this workspace (workspace admins)"),
    ("/pos link <code>", "link this workspace to an existing company with the operator's code"),
    ("/pos connect sides", "connect SIDES with a username and password"),
    ("/pos connect lightspeed", "connect Lightspeed K-Series (OAuth)"),
    ("/pos test", "check every connection"),
    ("/pos sync", "refresh locations and items from the POS"),
    ("/pos locations", "locations, their storage unit and state"),
    ("/pos storage [add <name> | <address>]", "list or create storage units"),
    ("/pos unmapped", "what sold but is not mapped, most-sold first, to map or ignore"),
    ("/pos mappings [text]", "what each item takes from stock (search, edit, remove)"),
    ("/pos recipe <name>", "a recipe's lines, quantities, trim, sub-recipes and storage"),
    ("/pos members [add|remove] @user [admin|viewer]", "who may do what"),
    ("/pos migrate <location> [days]", "transfer the last days (90 by default), oldest first"),
    ("/pos doctor [location]", "run the troubleshooting checks and say what to fix"),
    ("/pos csv", "import a till's CSV export: upload it, preview, then Import"),
    ("/pos csv profile [name]", "create or edit a CSV profile (how a till's exports are read)"),
    ("/pos bind", "make this channel work for the company (CSV files shared here are read)"),
    ("/pos report [here [HH:MM] [timezone]|off|now [date]]", "the daily report and alerts"),
]
TRANSFER = [
    ("/transfer <date|yesterday> [location]", "preview a day, then post it to the ledger"),
    ("/transfer <date|yesterday> [location] --now", "post it directly"),
    ("/transfer log <location> <date>", "the runs of that day"),
    ("/transfer pause|resume <location|all>", "stop or restart automatic transfers"),
    ("/transfer status", "each location's state and last run"),
    ("/transfer time <location|all> HH:MM", "when each closed day is transferred (06:00)"),
]
LEDGER = [
    ("/ledger <date|from..to> [storage unit]", "the movements of those days per ingredient"),
    ("/ledger balances [storage unit]", "stock per storage unit and ingredient"),
    ("/ledger why <ingredient> <date|from..to> [storage unit]", "the sales behind a deduction"),
    (
        "/ledger variance [storage unit] [last|date|from..to]",
        "actual against theoretical usage between two counts, in money",
    ),
]
STOCK = [
    ("/stock count <storage unit> [date]", "open the unit's count sheet (empty = not counted)"),
    ("/stock template <storage unit>", "the unit's count CSV: fill it in, upload it here"),
    ("/stock receive <storage unit> [Flour=25kg@0.9, …]", "goods received (a form without lines)"),
    ("/stock waste <storage unit> [Basil=20g, …]", "waste (a form without lines)"),
    ("/stock move <storage unit> to <storage unit> [House red=2, …]", "move stock between units"),
    ("/stock correct <posting>", "reverse a posting (never edited)"),
]

USAGES = {"/pos": POS, "/transfer": TRANSFER, "/ledger": LEDGER, "/stock": STOCK}


def help_blocks(command: str, problem: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":warning: {problem}"))
    blocks.append(header(f"{command} — what it can do"))
    blocks.append(section("\n".join(f"`{usage}` — {what}" for usage, what in USAGES[command])))
    blocks.append(context("Changes need an admin of the company; viewers can read."))
    return blocks
