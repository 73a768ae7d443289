"""The App Home tab: the company at a glance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stockpot.bot.blocks.common import Block, context, escape, header, lines_section, section
from stockpot.bot.blocks.pos import location_state

HOME_LOCATIONS = 40


@dataclass(frozen=True)
class HomeLocation:
    name: str
    active: bool
    automatic: str
    last_run: str | None
    """The latest business date's run, ``2026-11-27 posted`` / ``… failed``, or ``None``
    before the first transfer."""
    from_csv: bool = False


def home_view(
    company: str,
    connections: Sequence[tuple[str, str]],
    locations: Sequence[HomeLocation],
    unmapped: int,
) -> dict:
    blocks: list[Block] = [header(f"Stockpot for {company}")]
    blocks.append(
        lines_section(
            "Connections",
            [f"{escape(label)}: {status}" for label, status in connections]
            or ["none yet: `/pos connect`"],
        )
    )
    blocks.append(
        lines_section(
            "Locations",
            [
                f"{escape(loc.name)}: "
                f"{location_state(loc.active, loc.automatic, from_csv=loc.from_csv)} · "
                f"{'latest day: ' + loc.last_run if loc.last_run else 'no day transferred yet'}"
                for loc in locations[:HOME_LOCATIONS]
            ]
            or ["none yet: `/pos sync`"],
        )
    )
    blocks.append(
        section(
            f"*Unmapped items:* {unmapped}" + (" — `/pos unmapped` to map them" if unmapped else "")
        )
    )
    blocks.append(
        context("`/pos help` · `/pos locations` · `/transfer yesterday` · `/ledger balances`")
    )
    return {"type": "home", "blocks": blocks}


def not_linked_view(reason: str) -> dict:
    return {"type": "home", "blocks": [header("Stockpot"), section(escape(reason))]}
