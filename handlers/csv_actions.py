"""The buttons of a CSV preview (Import, Cancel) and of an import's outcome (Undo).

Admins only, on their own company's connections and imports; the import (or undo) is a job.
Each button is spent when pressed: the message it is on says what started, and the job's
result then replaces that message (the preview becomes "Importing…", then the import's
outcome with **Undo import**, then the undo's outcome), so a file's thread holds one
message per file and no button that could act twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.blocks.common import escape, local_time, message
from stockpot.bot.ids import ActionId, BlockId
from stockpot.bot.metadata import CsvFileValue
from stockpot.core.access import slack_user
from stockpot.core.company_clock import company_zone
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.jobs.specs import Notify
from stockpot.core.models import Connection, CsvImport, ImportStatus
from stockpot.handlers.context import (
    button_admin,
    button_id,
    channel_of,
    notify,
    picked_date,
    reading,
    services,
)
from stockpot.handlers.offers import already_started, in_place, offered_in, spend
from stockpot.handlers.pending import joined


def _value(body: dict[str, Any]) -> CsvFileValue:
    try:
        return CsvFileValue.model_validate_json(str(body["actions"][0].get("value") or ""))
    except ValidationError:
        raise ValidationFailed("that button is not one Stockpot made") from None


def _picked_date(body: dict[str, Any]) -> date | None:
    """The date chosen in the preview's date picker, if the preview had one."""
    values = (body.get("state") or {}).get("values") or {}
    picked = (values.get(BlockId.CSV_DATE) or {}).get(ActionId.CSV_DATE)
    return picked_date(picked if isinstance(picked, dict) else {})


def _preview(context: BoltContext, body: dict[str, Any]) -> Notify:
    """Where an import started from a preview reports: into the preview's message."""
    return offered_in(notify(context, channel_of(body)), body)


def _started(context: BoltContext, body: dict[str, Any]) -> bool:
    """Whether this preview's Import was pressed before (a stale copy of it is pressed)."""
    return already_started(services(context).factory, "csv-import", _preview(context, body))


def import_file(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    who = button_admin(context, body)
    value = _value(body)
    svc = services(context)
    with reading(context, who) as rows:
        rows.get(Connection, value.connection_id)
    if _started(context, body):
        # A stale copy of a spent Import: the message itself shows the import's outcome.
        respond(
            text="This file was already imported from this preview; its message shows the "
            "result (a file shared again gets a new preview).",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    when = _picked_date(body) or value.default_date
    # The preview shows "Importing…" first, then the job replaces it with the result.
    spend(
        respond,
        body,
        f"Importing, started by <@{who.user_id}>…",
        ActionId.CSV_CANCEL,
        ActionId.CSV_DATE,
    )
    here = _preview(context, body)
    queued = svc.jobs.enqueue(
        specs.csv_import(
            who.company_id,
            value.connection_id,
            value.file_id,
            default_date=when,
            valid_only=value.valid_only,
            force=value.force,
            thread_ts=value.thread_ts,
            triggered_by=who.audit,
            notify=here,
        )
    )
    note = joined(svc, queued, here, "import of this file")
    if note is not None:  # imported from another preview of it: that one shows the result
        spend(respond, body, note, ActionId.CSV_CANCEL, ActionId.CSV_DATE)


def cancel(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    if _started(context, body):
        respond(
            text="This file's import has started; its message shows the result, and "
            "*Undo import* there takes it back.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
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
        record = rows.get(CsvImport, import_id)
        undone = record.status is ImportStatus.UNDONE
        name, when, by = record.file_name, record.undone_at, record.undone_by
        zone = company_zone(rows.session, rows.company()) if undone and when else None
    if undone:
        # A stale copy of a spent Undo import: never undone twice.
        user = slack_user(by)
        by_whom = f" by <@{user}>" if user else ""
        respond(
            text=f"The import of {escape(name)} is already undone{by_whom}"
            + (f" at {local_time(when, zone)}" if when and zone else "")
            + "; nothing was done.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    thread = (body.get("message") or {}).get("thread_ts")
    ts = spend(respond, body, f"Undoing the import of {escape(name)}, started by <@{who.user_id}>…")
    here = in_place(notify(context, channel), ts)
    queued = svc.jobs.enqueue(
        specs.csv_undo(
            who.company_id, import_id, thread_ts=thread, triggered_by=who.audit, notify=here
        )
    )
    note = joined(svc, queued, here, f"undo of {escape(name)}")
    if note is not None:  # undone from another message, which shows the result
        spend(respond, body, note)


def register(app: App) -> None:
    app.action(ActionId.CSV_IMPORT)(import_file)
    app.action(ActionId.CSV_CANCEL)(cancel)
    app.action(ActionId.CSV_UNDO)(undo)
    app.action(ActionId.CSV_DATE)(lambda ack: ack())
