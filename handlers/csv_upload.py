"""``/pos csv``: a modal with a file input; its file gets the same preview as a file shared
in the channel."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from stockpot.bot.blocks.common import escape
from stockpot.bot.blocks.csv import upload_modal
from stockpot.bot.blocks.csv_profile import SELECT_KEYS, TEXT_KEYS, profile_modal
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.ids import CsvProfileField as F
from stockpot.bot.metadata import CsvProfileMetadata, CsvUploadMetadata
from stockpot.bot.private import tell_privately
from stockpot.core.access import Actor
from stockpot.core.catalog.profile_form import save_profile
from stockpot.core.csv_import.importer import profiles
from stockpot.core.errors import InvalidDocument, Problem, ValidationFailed
from stockpot.core.ids import parse_id
from stockpot.core.jobs import specs
from stockpot.core.lookup import name_problem
from stockpot.core.models import Connection
from stockpot.handlers.context import (
    form_actor,
    form_input,
    notify,
    picked_date,
    post,
    reading,
    services,
)
from stockpot.handlers.pending import joined
from stockpot.handlers.slash import Invocation


def pos_csv(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    if inv.args and inv.args[0].lower() == "profile":
        open_profile(inv, who, " ".join(inv.args[1:]).strip())
        return
    found = [
        (p.connection_id, p.shown)
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
    files = form_input(view, BlockId.CSV_FILE, ActionId.CSV_FILE).get("files") or []
    if not files:
        ack(response_action="errors", errors={BlockId.CSV_FILE: "Choose the export to import"})
        return
    chosen = form_input(view, BlockId.CSV_PROFILE, ActionId.CSV_PROFILE).get("selected_option")
    chosen = chosen if isinstance(chosen, dict) else {}
    connection_id = parse_id(str(chosen.get("value") or ""))
    if connection_id is None:
        raise ValidationFailed("that choice is not one Stockpot offered")
    svc = services(context)
    with reading(context, who) as rows:
        rows.get(Connection, connection_id)
    when = picked_date(form_input(view, BlockId.CSV_DATE, ActionId.CSV_DATE))
    ack()
    file = files[0]
    name, here = str(file.get("name") or file.get("id")), notify(context, metadata.channel_id)
    queued = svc.jobs.enqueue(
        specs.csv_preview(
            who.company_id,
            str(file.get("id")),
            name,
            thread_ts=None,
            connection_id=connection_id,
            default_date=when,
            notify=here,
        )
    )
    note = joined(svc, queued, here, f"preview of {escape(name)}")
    if note is not None:  # the modal is closed: the note goes where the preview will
        tell_privately(client, metadata.channel_id, who.user_id, text=note)


def open_profile(inv: Invocation, who: Actor, name: str) -> None:
    """``/pos csv profile [name]``: edit that profile, or create one."""
    problem = name_problem(name)
    if problem is not None:  # no profile has such a name; a new one could not take it
        raise ValidationFailed(problem)
    with inv.reading(who) as rows:
        connection = rows.csv_profile(name) if name else None
        units = rows.storage_unit_names()
        current = dict(connection.settings or {}) if connection else {}
    metadata = CsvProfileMetadata(
        channel_id=inv.channel_id,
        company_id=who.company_id,
        connection_id=connection.id if connection else None,
    )
    view = profile_modal(metadata.dump(), current, units, name)
    inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def _form_settings(view: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str] | None]:
    def text(key: str) -> str:
        return str(form_input(view, key, key).get("value") or "").strip()

    def chosen(key: str) -> str:
        option = form_input(view, key, key).get("selected_option")
        return str(option.get("value") or "") if isinstance(option, dict) else ""

    rule: dict[str, str] = {
        "type": "column_values_to_pos_codes",
        "source_column": text(F.SOURCE_COLUMN),
    }
    for key in (F.QUANTITY_SOURCE_COLUMN, F.DATE_SOURCE_COLUMN):
        if text(key):
            rule[key] = text(key)
    settings: dict[str, Any] = {"rules": [rule]}
    for key in SELECT_KEYS:
        if chosen(key):
            settings[key] = chosen(key)
    if text(F.DATE_FORMATS):
        settings["date_formats"] = [f.strip() for f in text(F.DATE_FORMATS).split(",") if f]
    for key in (F.CODE_SEPARATOR, F.LOCATION_COLUMN, F.DEFAULT_QUANTITY):
        if text(key):
            settings[key] = text(key)
    location = None
    if text(F.LOCATION_NAME):
        location = {
            "name": text(F.LOCATION_NAME),
            "storage_unit": chosen(F.LOCATION_STORAGE_UNIT),
            "timezone": text(F.LOCATION_TIMEZONE) or "UTC",
        }
    return text(F.NAME), settings, location


def _block_of(problem: Problem) -> str:
    """The form input a catalog problem is about (``csv_connections[0].rules[0].x`` → x)."""
    words = [w for w in re.split(r"[\[\].]+", problem.place) if w and not w.isdigit()]
    last = words[-1] if words else "name"
    if "locations" in words:
        return {"storage_unit": F.LOCATION_STORAGE_UNIT, "timezone": F.LOCATION_TIMEZONE}.get(
            last, F.LOCATION_NAME
        )
    if last in TEXT_KEYS or last in SELECT_KEYS:
        return last
    return F.SOURCE_COLUMN if last in ("rules", "type") else F.NAME


def submit_profile(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who, metadata = form_actor(context, view, CsvProfileMetadata)
    name, settings, location = _form_settings(view)
    if metadata.connection_id is not None:
        with reading(context, who) as rows:
            editing = rows.get(Connection, metadata.connection_id)
            if editing.name != name:
                message = f"renaming is not supported; keep '{editing.name}' or create anew"
                ack(response_action="errors", errors={F.NAME: message[:150]})
                return
    try:
        save_profile(services(context).factory, who.company, name, settings, location)
    except InvalidDocument as error:
        errors: dict[str, str] = {}
        for problem in error.problems:
            errors.setdefault(_block_of(problem), problem.message[:150])
        ack(response_action="errors", errors=errors)
        return
    ack()
    post(
        client,
        metadata.channel_id,
        {"text": f"<@{who.user_id}> saved the CSV profile {escape(name)}."},
    )


def register(app: App) -> None:
    app.view(CallbackId.CSV_UPLOAD)(submit_upload)
    app.view(CallbackId.CSV_PROFILE_FORM)(submit_profile)
