"""Help texts of the slash commands, from the command table (``bot.commands``).

Every text is escaped as Slack's formatting requires: an unescaped ``<company>`` is read as a
link or mention and disappears, so ``<``, ``>`` and ``&`` become ``&lt;``, ``&gt;``, ``&amp;``.
"""

from __future__ import annotations

from stockpot.bot.blocks.common import SECTION_TEXT, Block, context, escape, header, section
from stockpot.bot.commands import COMMANDS, SlashCommand, Subcommand


def _line(command: SlashCommand, sub: Subcommand) -> str:
    usage = escape(f"{command.name} {sub.usage}")
    example = escape(f"{command.name} {sub.example}")
    return f"`{usage}`\n      {escape(sub.does)}  ·  e.g. `{example}`"


def help_blocks(command: str, problem: str | None = None) -> list[Block]:
    """What ``command`` can do, each usage with an example; ``problem`` (plain text from the
    user's side, escaped here) goes first."""
    table = COMMANDS[command]
    blocks: list[Block] = []
    if problem:
        blocks.append(section(f":warning: {escape(problem)}"))
    blocks.append(header(f"{command} — what it can do"))
    chunk: list[str] = []
    for sub in table.subcommands:
        line = _line(table, sub)
        if chunk and len("\n".join([*chunk, line])) > SECTION_TEXT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    chunk.append(f"`{command} help` — this list")
    blocks.append(section("\n".join(chunk)))
    others = " · ".join(f"`{name} help`" for name in COMMANDS if name != command)
    blocks.append(
        context(f"Changes need an admin of the company; viewers can read. The others: {others}")
    )
    return blocks
