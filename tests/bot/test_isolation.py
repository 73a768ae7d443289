"""Tenant isolation: an admin of another company (another workspace) names this company's
locations, storage units, items, modals and runs by name or by id, through every command,
button, modal and search, and gets a refusal or their own company's view; nothing changes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from stockpot.bot.blocks.mapping import map_modal
from stockpot.bot.blocks.pos import connect_sides_modal
from stockpot.bot.ids import ActionId, BlockId
from stockpot.bot.metadata import ConnectSidesMetadata, MapItemMetadata
from stockpot.core.access import set_role
from stockpot.core.db import unit_of_work
from stockpot.core.mapping import import_mappings
from stockpot.core.models import (
    Company,
    ExternalLocation,
    Ingredient,
    Job,
    JobKind,
    LedgerMovement,
    PosItem,
    PosMapping,
    Role,
)
from stockpot.core.units import Unit
from tests.bot.conftest import ADMIN, OTHER_ADMIN, OTHER_TEAM, TEAM
from tests.bot.test_file_owners import ALTRA_ADMIN, ALTRA_CHANNEL, two_companies
from tests.bot.test_slack_app import texts
from tests.catalogs import TRATTORIA_MAPPINGS

COMMANDS = [
    ("/transfer", "2026-11-27 Main room --now"),
    ("/transfer", "2026-11-27 Main room"),
    ("/transfer", "log Main room 2026-11-27"),
    ("/transfer", "pause Main room"),
    ("/transfer", "resume Main room"),
    ("/transfer", "time Main room 07:00"),
    ("/transfer", "status"),
    ("/pos", "migrate Main room 3"),
    ("/pos", "locations"),
    ("/pos", "storage"),
    ("/pos", "unmapped"),
    ("/pos", "mappings"),
    ("/pos", "members"),
    ("/ledger", "balances Kitchen"),
    ("/ledger", "2026-11-01..2026-11-30 Kitchen"),
]


def _state(bot) -> dict:
    with bot.database.session() as session:
        room = session.scalar(select(ExternalLocation).where(ExternalLocation.name == "Main room"))
        return {
            "room": (room.active, room.automatic_transfer, room.transfer_time),
            # work queued (the answers to the requests themselves are jobs too, of no company
            # but the asker's: they touch nothing)
            "jobs": session.scalar(
                select(func.count()).select_from(Job).where(Job.kind != JobKind.ANSWER)
            ),
            "movements": session.scalar(select(func.count()).select_from(LedgerMovement)),
            "mappings": session.scalar(select(func.count()).select_from(PosMapping)),
        }


@pytest.fixture
def mapped(bot):
    import_mappings(bot.database.factory, TRATTORIA_MAPPINGS, source="mappings.yaml")
    return bot


def test_commands_from_another_company_never_see_or_touch_this_one(mapped):
    bot = mapped
    before = _state(bot)
    for command, text in COMMANDS:
        bot.send.command(command, text, user=OTHER_ADMIN, team=OTHER_TEAM)
    answers = bot.slack.wait_for("response_url", len(COMMANDS), timeout=20)
    for answer in answers:
        shown = texts(answer)
        assert "Trattoria" not in shown and "Margherita" not in shown, shown
        assert "House red" not in shown and "Espresso" not in shown, shown
    bot.drain()
    assert _state(bot) == before


def test_buttons_modals_and_search_from_another_company_are_refused(mapped):
    bot = mapped
    before = _state(bot)
    with bot.database.session() as session:
        item = session.scalars(select(PosItem).where(PosItem.key == "101")).one()
        item_id, company_id = item.id, item.company_id
    for action in (ActionId.MAP_OPEN, ActionId.ITEM_IGNORE, ActionId.REPROCESS):
        bot.send.block_action(action, str(item_id), user=OTHER_ADMIN, team=OTHER_TEAM)
    refusals = bot.slack.wait_for(
        "response_url", 3, where=lambda c: "does not belong to Osteria Altra" in texts(c)
    )
    assert len(refusals) == 3

    map_view = map_modal(
        MapItemMetadata(pos_item_id=item_id, channel_id="C0001", company_id=company_id).dump(),
        "Margherita",
        None,
    )
    values = {
        BlockId.MAP_TARGET: {ActionId.MAP_TARGET: {"selected_option": {"value": "ingredient:1"}}},
        BlockId.MAP_FACTOR: {ActionId.MAP_FACTOR: {"value": "1"}},
    }
    answer = bot.send.view_submission(map_view, values, user=OTHER_ADMIN, team=OTHER_TEAM)
    assert "another company" in answer.text
    sides_view = connect_sides_modal(
        ConnectSidesMetadata(channel_id="C0001", company_id=company_id).dump()
    )
    sides_values = {
        BlockId.SIDES_USERNAME: {ActionId.SIDES_USERNAME: {"value": "a"}},
        BlockId.SIDES_PASSWORD: {ActionId.SIDES_PASSWORD: {"value": "b"}},
    }
    answer = bot.send.view_submission(sides_view, sides_values, user=OTHER_ADMIN, team=OTHER_TEAM)
    assert "opened for another company" in json.dumps(answer.json()["errors"])

    options = bot.send.options(
        ActionId.MAP_TARGET, "", block_id=BlockId.MAP_TARGET, user=OTHER_ADMIN, team=OTHER_TEAM
    )
    offered = json.dumps(options.json())
    assert "Mozzarella" not in offered and "Margherita" not in offered
    bot.drain()
    assert _state(bot) == before


def test_the_map_search_offers_the_catalog_of_the_company_the_modal_is_for(bot):
    """Two companies in one workspace (Trattoria, its first; Osteria Altra, bound to C0002):
    the map modal opened in Altra's channel searched the workspace's first company's catalog.
    Altra's own admin was refused (not a member of Trattoria) and could map nothing from
    Slack; an admin of both was offered Trattoria's ingredients for Altra's item."""
    two_companies(bot)
    with unit_of_work(bot.database.factory) as session:
        altra = session.scalar(select(Company).where(Company.name == "Osteria Altra"))
        session.add(Ingredient(company_id=altra.id, name="Mozzarella di bufala", base_unit=Unit.KG))
        set_role(session, altra.id, TEAM, ADMIN, Role.ADMIN)
        altra_id = altra.id
    metadata = MapItemMetadata(pos_item_id=1, channel_id=ALTRA_CHANNEL, company_id=altra_id)
    view = {"id": "V00001", "type": "modal", "private_metadata": metadata.dump()}
    for user in (ALTRA_ADMIN, ADMIN):
        options = bot.send.options(
            ActionId.MAP_TARGET, "Mozz", block_id=BlockId.MAP_TARGET, user=user, view=view
        )
        offered = [
            option["text"]["text"]
            for group in options.json()["option_groups"]
            for option in group["options"]
        ]
        assert offered == ["Mozzarella di bufala (kg per sale)"], (user, offered)
    # a modal naming Altra but sent from Trattoria's channel is offered nothing of either
    forged = MapItemMetadata(pos_item_id=1, channel_id="C0001", company_id=altra_id)
    options = bot.send.options(
        ActionId.MAP_TARGET,
        "Mozz",
        block_id=BlockId.MAP_TARGET,
        user=ADMIN,
        view={**view, "private_metadata": forged.dump()},
    )
    assert options.json() == {"option_groups": []}
