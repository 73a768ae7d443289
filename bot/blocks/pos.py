"""Messages and modals of ``/pos``."""

from __future__ import annotations

from collections.abc import Sequence

from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    header,
    section,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.core.locations import LocationOverview

LOCATIONS_SHOWN = 20
"""Two blocks a location, within a message's 50."""
OPTIONS = 100


def _storage_select(row: LocationOverview, units: Sequence[tuple[int, str]]) -> Block:
    options = [
        {"text": {"type": "plain_text", "text": clip(name, 75)}, "value": f"{row.id}:{unit_id}"}
        for unit_id, name in units[:OPTIONS]
    ]
    select: Block = {
        "type": "static_select",
        "action_id": ActionId.LOCATION_STORAGE,
        "placeholder": {"type": "plain_text", "text": "Storage unit"},
        "options": options,
    }
    chosen = next((o for o in options if o["value"] == f"{row.id}:{row.storage_unit_id}"), None)
    if chosen is not None:
        select["initial_option"] = chosen
    return select


def locations_blocks(
    company: str,
    rows: Sequence[LocationOverview],
    *,
    admin: bool,
    units: Sequence[tuple[int, str]] = (),
) -> list[Block]:
    """Each location with its storage unit and state; admins get a storage unit select and
    Activate/Deactivate and Pause/Resume buttons."""
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
            f"{unit} · {state} · automatic transfer {row.automatic_transfer}"
        )
        if not admin:
            blocks.append(section(text))
            continue
        blocks.append(section(text, _storage_select(row, units) if units else None))
        value = str(row.id)
        blocks.append(
            actions(
                button("Deactivate", ActionId.LOCATION_DEACTIVATE, value)
                if row.active
                else button("Activate", ActionId.LOCATION_ACTIVATE, value, style="primary"),
                button("Resume", ActionId.LOCATION_RESUME, value)
                if row.automatic_transfer == "paused"
                else button("Pause", ActionId.LOCATION_PAUSE, value),
                button("Migrate 90 days", ActionId.LOCATION_MIGRATE, value),
            )
        )
    if len(rows) > LOCATIONS_SHOWN:
        blocks.append(context(f"{len(rows) - LOCATIONS_SHOWN} more not shown"))
    return blocks


def connect_sides_modal(metadata: str, *, updating: bool = False) -> dict:
    return {
        "type": "modal",
        "callback_id": CallbackId.CONNECT_SIDES,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "SIDES sign-in" if updating else "Connect SIDES"},
        "submit": {"type": "plain_text", "text": "Update" if updating else "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                (
                    "New credentials replace the old ones; stores, links and mappings stay. "
                    if updating
                    else ""
                )
                + "Stockpot signs in to SIDES with this user to read stores, products and daily "
                "reports. The password is stored encrypted."
            ),
            {
                "type": "input",
                "block_id": BlockId.SIDES_USERNAME,
                "label": {"type": "plain_text", "text": "Username"},
                "element": {"type": "plain_text_input", "action_id": ActionId.SIDES_USERNAME},
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
