"""CSV files shared in a bound channel: once per file, a threaded preview with Import /
Cancel. Reading the file runs on the work queue, never on Slack's listener thread."""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select

from stockpot.bot.blocks.common import escape, message, section
from stockpot.bot.blocks.csv import preview_blocks
from stockpot.bot.errors import user_message
from stockpot.bot.metadata import CsvFileValue
from stockpot.bot.slack_files import fetch_csv, is_csv
from stockpot.core.csv_import.dialect import UnreadableFile
from stockpot.core.csv_import.importer import Preview, preview_csv, profiles
from stockpot.core.db import insert_ignoring_conflicts, unit_of_work, utcnow
from stockpot.core.errors import ValidationFailed
from stockpot.core.models import ChannelBinding, SlackFileEvent
from stockpot.handlers.context import Services, services

log = logging.getLogger(__name__)


def _first_time(context: BoltContext, file_id: str, channel_id: str) -> bool:
    """Record the file; ``False`` when Slack already delivered it (a retry). The unique key
    decides, so two deliveries racing each other cannot both win."""
    team_id = context.team_id or ""
    with unit_of_work(services(context).factory) as session:
        inserted = insert_ignoring_conflicts(
            session,
            SlackFileEvent.__table__,
            [{"team_id": team_id, "file_id": file_id, "channel_id": channel_id}],
            index_elements=["team_id", "file_id"],
        )
    return inserted == 1


def choose_profile(
    svc: Services,
    company_id: int,
    name: str,
    data: bytes,
    default_date: date,
    connection_id: int | None = None,
) -> tuple[str, Preview, CsvFileValue, bool]:
    """The first of the company's CSV profiles whose columns the file has (or the one
    chosen), and its preview. A profile without a date column offers ``default_date``."""
    candidates = [
        p
        for p in profiles(svc.factory, company_id)
        if p.profile.rules and connection_id in (None, p.connection_id)
    ]
    if not candidates:
        raise ValidationFailed(
            "this company has no CSV connection with a rule yet: declare one in the catalog's "
            "csv_connections (see the README, File formats) and share the file again"
        )
    refusals: list[str] = []
    for candidate in candidates:
        needs_date = candidate.profile.needs_date
        when = default_date if needs_date else None
        try:
            preview = preview_csv(
                svc.factory,
                candidate.connection_id,
                io.BytesIO(data),
                file_name=name,
                max_bytes=svc.settings.slack_file_max_bytes,
                default_date=when,
            )
        except UnreadableFile as error:
            refusals.append(f"{candidate.label}: {error}")
            continue
        value = CsvFileValue(file_id="", connection_id=candidate.connection_id, default_date=when)
        return candidate.label, preview, value, needs_date
    if len(refusals) == 1:
        raise UnreadableFile(refusals[0])
    raise UnreadableFile("no CSV profile reads this file:\n" + "\n".join(refusals))


def preview_job(
    svc: Services,
    client: WebClient,
    channel: str,
    company_id: int,
    file_id: str,
    name: str,
    thread: str,
    connection_id: int | None = None,
    default_date: date | None = None,
) -> None:
    """Read the file and post its preview (in ``thread`` when it has one)."""
    try:
        name, data = fetch_csv(svc.settings, client, file_id)
        when = default_date or utcnow().date() - timedelta(days=1)
        label, preview, value, needs_date = choose_profile(
            svc, company_id, name, data, when, connection_id
        )
        value = value.model_copy(update={"file_id": file_id, "thread_ts": thread or None})
        blocks = preview_blocks(name, label, preview, value, needs_date=needs_date)
        text = f"CSV {name}: {preview.scan.rows} rows read"
    except Exception as error:  # the thread is where the person looks for the outcome
        blocks = [section(escape(user_message(error)))]
        text = f"CSV {name} not read"
    client.chat_postMessage(channel=channel, thread_ts=thread or None, **message(text, blocks))


def file_shared(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    file_id, channel_id = event.get("file_id", ""), event.get("channel_id", "")
    svc = services(context)
    with svc.factory() as session:
        bound = session.scalar(
            select(ChannelBinding.company_id).where(
                ChannelBinding.team_id == (context.team_id or ""),
                ChannelBinding.channel_id == channel_id,
            )
        )
    if bound is None or not _first_time(context, file_id, channel_id):
        return
    info = client.files_info(file=file_id)["file"]
    if not is_csv(info):
        return
    thread = (info.get("shares", {}).get("public", {}).get(channel_id) or [{}])[0].get("ts")
    name = str(info.get("name") or file_id)
    svc.work.submit(preview_job, svc, client, channel_id, bound, file_id, name, thread or "")


def register(app: App) -> None:
    app.event("file_shared")(file_shared)
