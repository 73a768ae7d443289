"""The buttons of a CSV preview (Import, Cancel) and of an import's outcome (Undo).

Admins only, on their own company's connections and imports; the import (or undo) is a job,
which reports in the file's thread.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.blocks.common import message
from stockpot.bot.ids import ActionId, BlockId
from stockpot.bot.metadata import CsvFileValue
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.models import Connection, CsvImport
from stockpot.handlers.context import button_admin, button_id, channel_of, notify, reading, services


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


def import_file(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = button_admin(context, body)
    value = _value(body)
    svc = services(context)
    with reading(context, who) as rows:
        rows.get(Connection, value.connection_id)
    when = _picked_date(body) or value.default_date
    svc.jobs.enqueue(
        specs.csv_import(
            who.company_id,
            value.connection_id,
            value.file_id,
            default_date=when,
            valid_only=value.valid_only,
            force=value.force,
            thread_ts=value.thread_ts,
            triggered_by=who.audit,
            notify=notify(context, channel),
        )
    )
    respond(
        **message(f"Importing, started by <@{who.user_id}>…", []),
        replace_original=True,
    )


def cancel(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    respond(
        **message(f"Cancelled by <@{who.user_id}>; nothing was imported.", []),
        replace_original=True,
    )


def undo(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = button_admin(context, body)
    import_id = button_id(body)
    svc = services(context)
    with reading(context, who) as rows:
        rows.get(CsvImport, import_id)
    thread = (body.get("message") or {}).get("thread_ts")
    svc.jobs.enqueue(
        specs.csv_undo(
            who.company_id,
            import_id,
            thread_ts=thread,
            triggered_by=who.audit,
            notify=notify(context, channel),
        )
    )


def register(app: App) -> None:
    app.action(ActionId.CSV_IMPORT)(import_file)
    app.action(ActionId.CSV_CANCEL)(cancel)
    app.action(ActionId.CSV_UNDO)(undo)
    app.action(ActionId.CSV_DATE)(lambda ack: ack())
