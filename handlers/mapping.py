"""Mapping from Slack: the Map and Ignore buttons of the unmapped list, the search behind the
mapping modal, its submission, and rerunning the days a new mapping changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.blocks.common import message
from stockpot.bot.blocks.mapping import map_modal, mapped_blocks, target_options
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import MapItemMetadata
from stockpot.core.access import actor_for
from stockpot.core.db import unit_of_work
from stockpot.core.exact import format_decimal
from stockpot.core.jobs import specs
from stockpot.core.mapping import (
    IgnoreChoice,
    IngredientChoice,
    RecipeChoice,
    set_mapping,
)
from stockpot.core.models import PosItem, RunKind
from stockpot.core.quantities import parse_quantity_text
from stockpot.core.unmapped import closest_target, days_unmapped, target_named, targets
from stockpot.handlers.answers import ack_first
from stockpot.handlers.context import (
    button_admin,
    button_id,
    channel_of,
    form_actor,
    notify,
    services,
)


def open_map(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    channel = channel_of(body)
    who = button_admin(context, body)
    with services(context).factory() as session:
        item = who.owns(session.get(PosItem, button_id(body)))
        suggestion = closest_target(session, who.company_id, item.name)
        metadata = MapItemMetadata(
            pos_item_id=item.id, channel_id=channel, company_id=who.company_id
        )
        view = map_modal(metadata.dump(), item.name, suggestion)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def ignore(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    with unit_of_work(services(context).factory) as session:
        item = who.owns(session.get(PosItem, button_id(body)))
        set_mapping(session, item, IgnoreChoice(), by=f"slack:{who.user_id}")
        name = item.name
    respond(
        **message(f"{name} is ignored: sold, but never taken from stock.", []),
        response_type="ephemeral",
        replace_original=False,
    )


def search(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Options for the external select; must answer within Slack's 3 seconds."""
    with services(context).factory() as session:
        who = actor_for(session, context.team_id or "", context.user_id or "", None)
        found = targets(session, who.company_id, str(body.get("value") or ""))
    ack(option_groups=target_options(found))


def _factor(text: str) -> Decimal:
    factor = parse_quantity_text(text)
    if factor <= 0:
        raise ValueError("the quantity must be greater than 0")
    return factor


def submit_map(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who, metadata = form_actor(context, view, MapItemMetadata)
    svc = services(context)
    values = view["state"]["values"]
    selected = values[BlockId.MAP_TARGET][ActionId.MAP_TARGET].get("selected_option") or {}
    try:
        factor = _factor(str(values[BlockId.MAP_FACTOR][ActionId.MAP_FACTOR].get("value") or ""))
    except ValueError as error:
        ack(response_action="errors", errors={BlockId.MAP_FACTOR: str(error)})
        return
    with unit_of_work(svc.factory) as session:
        target = target_named(session, who.company_id, str(selected.get("value", "")))
        if target is None:
            ack(
                response_action="errors",
                errors={BlockId.MAP_TARGET: "choose an ingredient or a recipe of your company"},
            )
            return
        choice = (
            IngredientChoice(target.id, factor)
            if target.kind == "ingredient"
            else RecipeChoice(target.id, factor)
        )
        item = who.owns(session.get(PosItem, metadata.pos_item_id))
        set_mapping(session, item, choice, by=f"slack:{who.user_id}")
        days = len(days_unmapped(session, item))
        name = item.name
    ack()
    client.chat_postEphemeral(
        channel=metadata.channel_id,
        user=who.user_id,
        **message(
            f"{name} is mapped",
            mapped_blocks(name, target, format_decimal(factor), days, str(metadata.pos_item_id)),
        ),
    )


def reprocess(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = button_admin(context, body)
    svc = services(context)
    with svc.factory() as session:
        item = who.owns(session.get(PosItem, button_id(body)))
        days = sorted(days_unmapped(session, item), key=lambda pair: (pair[1], pair[0]))
        runs = [
            specs.transfer(
                who.company_id,
                location_id,
                business_date,
                run_kind=RunKind.MANUAL,
                triggered_by=f"slack:{who.user_id}",
                notify=notify(context, channel),
            )
            for location_id, business_date in days
        ]
    for spec in runs:
        svc.jobs.enqueue(spec)
    respond(
        **message(f"Reprocessing {len(runs)} day(s); each result follows in this channel.", []),
        response_type="ephemeral",
        replace_original=False,
    )


def register(app: App) -> None:
    app.action(ActionId.MAP_OPEN)(ack_first(open_map))
    app.action(ActionId.ITEM_IGNORE)(ignore)
    app.action(ActionId.REPROCESS)(reprocess)
    app.options(ActionId.MAP_TARGET)(search)
    app.view(CallbackId.MAP_ITEM)(submit_map)
