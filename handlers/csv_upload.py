"""``/pos csv``: a modal with a file input; its file gets the same preview as a file shared
in the channel."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.csv import upload_modal
from bot.ids import ActionId, BlockId, CallbackId
from bot.metadata import CsvUploadMetadata
from core.csv_import.importer import profiles
from core.errors import ValidationFailed
from core.models import Connection
from handlers.context import form_actor, services
from handlers.files import preview_job
from handlers.slash import Invocation


def pos_csv(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    found = [
        (p.connection_id, p.label)
        for p in profiles(inv.services.factory, who.company_id)
        if p.profile.rules
    ]
    if not found:
        raise ValidationFailed(
            f"{who.company} has no CSV connection with a rule yet: declare one in the "
            "catalog's csv_connections (see the README, File formats)"
        )
    metadata = CsvUploadMetadata(channel_id=inv.channel_id, company_id=who.company_id)
    inv.client.views_open(trigger_id=inv.trigger_id, view=upload_modal(metadata.dump(), found))


def submit_upload(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who, metadata = form_actor(context, view, CsvUploadMetadata)
    values = view["state"]["values"]
    files = (values.get(BlockId.CSV_FILE) or {}).get(ActionId.CSV_FILE, {}).get("files") or []
    if not files:
        ack(response_action="errors", errors={BlockId.CSV_FILE: "Choose the export to import"})
        return
    chosen = values[BlockId.CSV_PROFILE][ActionId.CSV_PROFILE].get("selected_option") or {}
    raw_id = str(chosen.get("value") or "")
    if not raw_id.isdigit():
        raise ValidationFailed("that choice is not one Stockpot offered")
    svc = services(context)
    with svc.factory() as session:
        who.owns(session.get(Connection, int(raw_id)))
    picked = (values.get(BlockId.CSV_DATE) or {}).get(ActionId.CSV_DATE, {}).get("selected_date")
    try:
        when = date.fromisoformat(picked) if picked else None
    except (TypeError, ValueError):
        raise ValidationFailed("that date is not one the date picker gives") from None
    ack()
    file = files[0]
    svc.work.submit(
        preview_job,
        svc,
        client,
        metadata.channel_id,
        who.company_id,
        str(file.get("id")),
        str(file.get("name") or file.get("id")),
        "",
        int(raw_id),
        when,
    )


def register(app: App) -> None:
    app.view(CallbackId.CSV_UPLOAD)(submit_upload)
