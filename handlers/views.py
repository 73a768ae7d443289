"""Modal submissions: connecting SIDES, with wrong credentials shown inside the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from stockpot.bot.blocks.common import escape
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import ConnectSidesMetadata
from stockpot.core.errors import IntegrationExists
from stockpot.core.models import Connection
from stockpot.core.pos import connections
from stockpot.core.pos.errors import PosError, PosTooSlow
from stockpot.core.words import clip
from stockpot.handlers.context import (
    form_actor,
    form_input,
    form_key,
    post,
    reading,
    services,
)


def _value(view: dict[str, Any], block: str, action: str) -> str:
    return str(form_input(view, block, action).get("value") or "").strip()


def connect_sides(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    who, metadata = form_actor(context, view, ConnectSidesMetadata)
    svc = services(context)
    username = _value(view, BlockId.SIDES_USERNAME, ActionId.SIDES_USERNAME)
    password = _value(view, BlockId.SIDES_PASSWORD, ActionId.SIDES_PASSWORD)
    # The check is answered in the ack: it must be over in time for Slack's 3 s; and a form
    # sent again after a late ack (same view) answers what its first submission made.
    within, once = svc.settings.form_check_seconds, form_key(context, view, "sides")
    try:
        if metadata.connection_id is not None:
            with reading(context, who) as rows:
                rows.get(Connection, metadata.connection_id)
            info = connections.update_sides_credentials(
                svc.factory,
                svc.settings,
                metadata.connection_id,
                username=username,
                password=password,
                within=within,
                once=once,
            )
        else:
            info = connections.connect_sides(
                svc.factory,
                svc.settings,
                company_id=who.company_id,
                username=username,
                password=password,
                within=within,
                once=once,
            )
    except (IntegrationExists, connections.OtherSidesStores) as error:
        ack(response_action="errors", errors={BlockId.SIDES_USERNAME: clip(str(error), 150)})
        return
    except PosTooSlow as error:
        said = f"{error}, so nothing was saved: press Submit to try again"
        ack(response_action="errors", errors={BlockId.SIDES_PASSWORD: clip(said, 150)})
        return
    except PosError as error:
        ack(response_action="errors", errors={BlockId.SIDES_PASSWORD: clip(str(error), 150)})
        return
    ack()
    if info.again:  # said when its first submission made it
        return
    post(
        client,
        metadata.channel_id,
        {
            "text": f"<@{who.user_id}> "
            + ("updated the sign-in of" if metadata.connection_id else "connected")
            + f" {escape(info.shown)} for {escape(who.company)}. Next: `/pos sync`."
        },
    )


def register(app: App) -> None:
    app.view(CallbackId.CONNECT_SIDES)(connect_sides)
