"""The buttons of a CSV preview (Import, Cancel) and of an import's outcome (Undo).

Admins only, on their own company's connections and imports; the import itself runs on the
work queue and reports in the file's thread.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.common import escape, message, section
from bot.blocks.csv import imported_blocks, undone_blocks
from bot.errors import user_message
from bot.ids import ActionId, BlockId
from bot.metadata import CsvFileValue
from core.csv_import.importer import import_csv, undo_import
from core.errors import ValidationFailed
from core.models import Connection, CsvImport
from handlers.context import Services, actor, button_id, channel_of, services
from handlers.files import fetch


def _value(body: dict[str, Any]) -> CsvFileValue:
    try:
        return CsvFileValue.model_validate_json(str(body["actions"][0].get("value") or ""))
    except ValidationError:
        raise ValidationFailed("that button is not one Stockpot made") from None


def _picked_date(body: dict[str, Any]) -> date | None:
    """The date chosen in the preview's date picker, if the preview had one."""
    values = (body.get("state") or {}).get("values") or {}
    picked = (values.get(BlockId.CSV_DATE) or {}).get(ActionId.CSV_DATE) or {}
    text = picked.get("selected_date")
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        raise ValidationFailed("that date is not one the date picker gives") from None


def import_job(
    svc: Services,
    client: WebClient,
    channel: str,
    value: CsvFileValue,
    default_date: date | None,
    user: str,
) -> None:
    try:
        name, data = fetch(svc, client, value.file_id)
        result = import_csv(
            svc.factory,
            value.connection_id,
            io.BytesIO(data),
            file_name=name,
            max_bytes=svc.settings.slack_file_max_bytes,
            default_date=default_date,
            valid_only=value.valid_only,
            force=value.force,
            triggered_by=f"slack:{user}",
        )
        text, blocks = f"Imported {name}", imported_blocks(result)
    except Exception as error:
        text = "CSV import refused"
        blocks = [section(escape(user_message(error)))]
    client.chat_postMessage(channel=channel, thread_ts=value.thread_ts, **message(text, blocks))


def import_file(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = actor(context, channel)
    who.require_admin()
    value = _value(body)
    svc = services(context)
    with svc.factory() as session:
        who.owns(session.get(Connection, value.connection_id))
    when = _picked_date(body) or value.default_date
    respond(
        **message(f"Importing, started by <@{who.user_id}>…", []),
        replace_original=True,
    )
    svc.work.submit(import_job, svc, client, channel, value, when, who.user_id)


def cancel(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = actor(context, channel_of(body))
    who.require_admin()
    respond(
        **message(f"Cancelled by <@{who.user_id}>; nothing was imported.", []),
        replace_original=True,
    )


def undo_job(
    svc: Services, client: WebClient, channel: str, thread: str | None, import_id: int, user: str
) -> None:
    try:
        result = undo_import(svc.factory, import_id, triggered_by=f"slack:{user}")
        text, blocks = f"Import {import_id} undone", undone_blocks(result)
    except Exception as error:
        text, blocks = "Undo refused", [section(escape(user_message(error)))]
    client.chat_postMessage(channel=channel, thread_ts=thread, **message(text, blocks))


def undo(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = actor(context, channel)
    who.require_admin()
    import_id = button_id(body)
    svc = services(context)
    with svc.factory() as session:
        who.owns(session.get(CsvImport, import_id))
    thread = (body.get("message") or {}).get("thread_ts")
    svc.work.submit(undo_job, svc, client, channel, thread, import_id, who.user_id)


def register(app: App) -> None:
    app.action(ActionId.CSV_IMPORT)(import_file)
    app.action(ActionId.CSV_CANCEL)(cancel)
    app.action(ActionId.CSV_UNDO)(undo)
    app.action(ActionId.CSV_DATE)(lambda ack: ack())
