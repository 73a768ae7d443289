"""Messages and modals of ``/pos``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    clip,
    confirm,
    context,
    escape,
    header,
    local_time,
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


def _state(row: LocationOverview, now: datetime) -> str:
    """What the location does; a pending migration with the local time it began, since the
    list is read later than it is posted (never "now": it may have ended meanwhile), and its
    zone (``local_time``: one message must not read as another's clock)."""
    state = location_state(row.active, row.automatic_transfer, from_csv=row.from_csv)
    if row.migration_since is None:
        return state
    when = local_time(row.migration_since, ZoneInfo(row.timezone), now)
    began = "started" if row.migration_started else "queued"
    return f"{state} · migration {began} {when} (its own message shows how far it is)"


def location_state(active: bool, automatic: str, *, from_csv: bool) -> str:
    """What a location does, truly: an inactive one transfers nothing automatically, and a
    CSV location is fed by uploaded files (the locations list and the Home tab say this)."""
    if from_csv:
        return ("active" if active else "inactive") + " · days come from uploaded CSV files"
    if not active:
        return "inactive · nothing is transferred until it is activated"
    if automatic == "paused":
        return "active · automatic transfer paused"
    return "active · each closed day is transferred automatically"


def _location_buttons(row: LocationOverview) -> Block:
    """Activate/Deactivate; for a POS location also Pause/Resume while it is active (an
    inactive one has nothing to pause) and Migrate once it has a storage unit (a CSV location
    has nothing to fetch) and no migration of it is pending. Deactivating and migrating ask
    first."""
    value = str(row.id)
    name = escape(row.name)
    buttons: list[Block] = [
        button(
            "Deactivate",
            ActionId.LOCATION_DEACTIVATE,
            value,
            confirm=confirm(
                f"Deactivate {clip(row.name, 60)}?",
                f"*{name}* stops transferring its days; what it posted stays in the ledger.",
                "Deactivate",
            ),
        )
        if row.active
        else button("Activate", ActionId.LOCATION_ACTIVATE, value, style="primary")
    ]
    if not row.from_csv and row.active:
        buttons.append(
            button("Resume", ActionId.LOCATION_RESUME, value)
            if row.automatic_transfer == "paused"
            else button("Pause", ActionId.LOCATION_PAUSE, value)
        )
    if not row.from_csv and row.storage_unit_id is not None and not row.migrating:
        buttons.append(migrate_button(row.id, row.name))
    return actions(*buttons)


def migrate_button(location_id: int, name: str, days: int = 90) -> Block:
    """Transfer a location's history: it posts many days, so Slack asks first."""
    return button(
        f"Migrate {days} days",
        ActionId.LOCATION_MIGRATE,
        str(location_id),
        confirm=confirm(
            f"Migrate {days} days?",
            f"The last {days} closed days of *{escape(name)}* are transferred to the ledger, "
            "oldest first (days already transferred are rerun only if something changed).",
            "Migrate",
            danger=False,
        ),
    )


def locations_blocks(
    company: str,
    rows: Sequence[LocationOverview],
    *,
    admin: bool,
    units: Sequence[tuple[int, str]] = (),
    notes: Mapping[int, Sequence[Block]] | None = None,
) -> list[Block]:
    """Each location with its storage unit and state; admins get a storage unit select and
    Activate/Deactivate and Pause/Resume buttons. ``notes``: what a button just did, under
    its location's row (the list is redrawn in place after each change)."""
    notes = notes or {}
    if not rows:
        return [
            section(
                f"{escape(company)} has no POS locations yet: `/pos connect …` then `/pos sync`."
            )
        ]
    blocks: list[Block] = [header(f"Locations of {company}")]
    now = datetime.now(UTC)
    for row in rows[:LOCATIONS_SHOWN]:
        unit = escape(row.storage_unit) if row.storage_unit else "_no storage unit_"
        text = f"*{escape(row.name)}* · {escape(row.connection_shown)}\n{unit} · {_state(row, now)}"
        if not admin:
            blocks.append(section(text))
            continue
        blocks.append(section(text, _storage_select(row, units) if units else None))
        blocks.append(_location_buttons(row))
        blocks.extend(notes.get(row.id, ()))
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


def lightspeed_connected(user_id: str | None, company: str, account: str) -> str:
    """The channel's word that Lightspeed is connected, naming the business it reads (the
    admins see what was connected, as the person who consented saw on the page)."""
    who = f"<@{user_id}> " if user_id else ""
    what = f"it reads {escape(account)}" if account else "Lightspeed did not say which business"
    return f"{who}Lightspeed is connected for {escape(company)}: {what}. Next: `/pos sync`."


def lightspeed_blocks(url: str) -> list[Block]:
    return [
        section(
            "Sign in to Lightspeed and allow Stockpot to read sales and items. The link is "
            "yours: it works once, for 5 minutes, and only in the browser that opens it.",
            button("Connect Lightspeed", ActionId.LIGHTSPEED_AUTHORIZE, url=url, style="primary"),
        )
    ]
