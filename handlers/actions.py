"""Buttons: post a previewed day, activate or deactivate a location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session, selectinload

from bot.blocks.common import message
from bot.ids import ActionId
from bot.metadata import TransferValue
from core.db import unit_of_work
from core.errors import ValidationFailed
from core.locations import link_storage_unit, set_active, set_automatic
from core.models import ExternalLocation
from handlers.context import actor, button_id, channel_of, services
from handlers.pos_commands import start_migration
from handlers.transfer_commands import run_transfer_job


def post_transfer(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    channel = channel_of(body)
    who = actor(context, channel)
    who.require_admin()
    try:
        value = TransferValue.model_validate_json(str(body["actions"][0].get("value", "")))
    except ValidationError:
        raise ValidationFailed("that button is not one Stockpot made; nothing was posted") from None
    svc = services(context)
    with svc.factory() as session:
        location = who.owns(session.get(ExternalLocation, value.location_id))
        name = location.name
    svc.work.submit(
        run_transfer_job,
        svc,
        client,
        channel,
        value.location_id,
        name,
        value.business_date,
        False,
        f"slack:{who.user_id}",
    )


def _location_action(
    apply: Callable[[Session, ExternalLocation], str],
) -> Callable[..., None]:
    """A listener for a location's button: admins only, on their own company's locations."""

    def listener(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        who = actor(context, channel_of(body))
        who.require_admin()
        location_id = button_id(body)
        with unit_of_work(services(context).factory) as session:
            location = who.owns(session.get(ExternalLocation, location_id))
            text = apply(session, location)
        respond(**message(text, []), response_type="ephemeral", replace_original=False)

    return listener


def _activate(active: bool) -> Callable[[Session, ExternalLocation], str]:
    def apply(session: Session, location: ExternalLocation) -> str:
        set_active(session, location, active)
        return f"{location.name} is {'active' if active else 'inactive'}."

    return apply


def _automatic(active: bool) -> Callable[[Session, ExternalLocation], str]:
    def apply(session: Session, location: ExternalLocation) -> str:
        set_automatic(location, active)
        if active:
            return f"Automatic transfers of {location.name} resumed."
        return f"Automatic transfers of {location.name} paused; setup and history are kept."

    return apply


def _storage(body: dict[str, Any]) -> Callable[[Session, ExternalLocation], str]:
    raw = str(body["actions"][0].get("selected_option", {}).get("value", ""))
    unit_id = raw.partition(":")[2]
    if not unit_id.isdigit():
        raise ValidationFailed("that choice is not one Stockpot offered")

    def apply(session: Session, location: ExternalLocation) -> str:
        unit = link_storage_unit(session, location, int(unit_id))
        return f"{location.name} now takes its sales from {unit.name}."

    return apply


def choose_storage(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    _location_action(_storage(body))(ack, body, respond, context)


def migrate_location(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = actor(context, channel)
    who.require_admin()
    location_id = button_id(body)
    svc = services(context)
    with svc.factory() as session:
        location = who.owns(
            session.get(
                ExternalLocation, location_id, options=[selectinload(ExternalLocation.connection)]
            )
        )
    start_migration(svc, client, channel, who.user_id, location)


def register(app: App) -> None:
    app.action(ActionId.TRANSFER_POST)(post_transfer)
    app.action(ActionId.LOCATION_ACTIVATE)(_location_action(_activate(True)))
    app.action(ActionId.LOCATION_DEACTIVATE)(_location_action(_activate(False)))
    app.action(ActionId.LOCATION_PAUSE)(_location_action(_automatic(False)))
    app.action(ActionId.LOCATION_RESUME)(_location_action(_automatic(True)))
    app.action(ActionId.LOCATION_STORAGE)(choose_storage)
    app.action(ActionId.LOCATION_MIGRATE)(migrate_location)
    app.action(ActionId.LIGHTSPEED_AUTHORIZE)(lambda ack: ack())
