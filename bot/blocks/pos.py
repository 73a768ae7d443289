"""Messages and modals of ``/pos``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.blocks.common import Block, button, context, escape, header, section
from bot.ids import ActionId, BlockId, CallbackId

LOCATIONS_SHOWN = 45


@dataclass(frozen=True)
class LocationRow:
    id: int
    name: str
    connection: str
    storage_unit: str | None
    active: bool
    automatic_transfer: str


def locations_blocks(company: str, rows: Sequence[LocationRow], *, admin: bool) -> list[Block]:
    if not rows:
        return [
            section(
                f"{escape(company)} has no POS locations yet: `/pos connect …` then `/pos sync`."
            )
        ]
    blocks: list[Block] = [header(f"Locations of {company}")]
    for row in rows[:LOCATIONS_SHOWN]:
        state = "active" if row.active else "inactive"
        unit = escape(row.storage_unit) if row.storage_unit else "_no storage unit_"
        text = (
            f"*{escape(row.name)}* ({escape(row.connection)})\n"
            f"{unit} · {state} · automatic {row.automatic_transfer}"
        )
        accessory = None
        if admin:
            accessory = (
                button("Deactivate", ActionId.LOCATION_DEACTIVATE, str(row.id))
                if row.active
                else button("Activate", ActionId.LOCATION_ACTIVATE, str(row.id), style="primary")
            )
        blocks.append(section(text, accessory))
    if len(rows) > LOCATIONS_SHOWN:
        blocks.append(context(f"{len(rows) - LOCATIONS_SHOWN} more not shown"))
    return blocks


def connect_sides_modal(metadata: str, *, username: str = "") -> dict:
    return {
        "type": "modal",
        "callback_id": CallbackId.CONNECT_SIDES,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Connect SIDES"},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                "Stockpot signs in to SIDES with this user to read stores, products and daily "
                "reports. The password is stored encrypted."
            ),
            {
                "type": "input",
                "block_id": BlockId.SIDES_USERNAME,
                "label": {"type": "plain_text", "text": "Username"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ActionId.SIDES_USERNAME,
                    **({"initial_value": username} if username else {}),
                },
            },
            {
                "type": "input",
                "block_id": BlockId.SIDES_PASSWORD,
                "label": {"type": "plain_text", "text": "Password"},
                "element": {"type": "plain_text_input", "action_id": ActionId.SIDES_PASSWORD},
            },
        ],
    }


def lightspeed_blocks(url: str) -> list[Block]:
    return [
        section(
            "Sign in to Lightspeed and allow Stockpot to read sales and items. The link is "
            "yours and works once, for 10 minutes.",
            button("Connect Lightspeed", ActionId.LIGHTSPEED_AUTHORIZE, url=url, style="primary"),
        )
    ]
