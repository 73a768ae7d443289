"""Buttons: post a previewed day, activate or deactivate a location."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.common import message
from bot.ids import ActionId
from bot.metadata import TransferValue
from core.db import unit_of_work
from core.errors import ValidationFailed
from core.locations import set_active
from core.models import ExternalLocation
from handlers.commands import run_transfer_job
from handlers.context import actor, services


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value", ""))


def _channel(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or body["container"].get("channel_id"))


def post_transfer(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    channel = _channel(body)
    who = actor(context, channel)
    who.require_admin()
    try:
        value = TransferValue.model_validate_json(_value(body))
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


def _set_active(active: bool):  # noqa: ANN202 - a listener factory
    def listener(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        who = actor(context, _channel(body))
        who.require_admin()
        try:
            location_id = int(_value(body))
        except ValueError:
            raise ValidationFailed("that button is not one Stockpot made") from None
        with unit_of_work(services(context).factory) as session:
            location = who.owns(session.get(ExternalLocation, location_id))
            set_active(location, active)
            name = location.name
        state = "active" if active else "inactive"
        respond(
            **message(f"{name} is {state}", []), response_type="ephemeral", replace_original=False
        )

    return listener


def register(app: App) -> None:
    app.action(ActionId.TRANSFER_POST)(post_transfer)
    app.action(ActionId.LOCATION_ACTIVATE)(_set_active(True))
    app.action(ActionId.LOCATION_DEACTIVATE)(_set_active(False))
    app.action(ActionId.LIGHTSPEED_AUTHORIZE)(lambda ack: ack())
