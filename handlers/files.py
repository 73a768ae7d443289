"""CSV files shared in a bound channel: once per file, a threaded preview.

The import itself belongs to the CSV issue; until then the reply previews and says so.
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import select

from bot.blocks.common import context as context_block
from bot.blocks.common import escape, message, section
from bot.slack_files import download
from core.db import insert_ignoring_conflicts, unit_of_work
from core.errors import StockpotError
from core.models import ChannelBinding, SlackFileEvent
from handlers.context import services

log = logging.getLogger(__name__)
PREVIEW_ROWS = 5
PREVIEW_BYTES = 64 * 1024


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


def _preview(data: bytes) -> str:
    text = data[:PREVIEW_BYTES].decode("utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))[: PREVIEW_ROWS + 1]
    shown = "\n".join(" | ".join(cell[:30] for cell in row) for row in rows)
    return f"```{escape(shown)[:2800]}```"


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
    if info.get("filetype") != "csv" and not str(info.get("name", "")).lower().endswith(".csv"):
        return
    thread = (info.get("shares", {}).get("public", {}).get(channel_id) or [{}])[0].get("ts")
    token = client.token or ""
    try:
        data = download(
            str(info.get("url_private_download") or info.get("url_private") or ""),
            token,
            hosts=svc.settings.slack_file_hosts,
            max_bytes=svc.settings.slack_file_max_bytes,
        )
        blocks = [
            section(f"*{escape(str(info.get('name')))}*: first rows as read"),
            section(_preview(data)),
            context_block(
                "Importing CSV exports is the next step of Stockpot; nothing was imported."
            ),
        ]
        text = f"CSV {info.get('name')} received"
    except StockpotError as error:
        blocks = [section(f":warning: {escape(str(error))}")]
        text = f"CSV {info.get('name')} not read"
    client.chat_postMessage(channel=channel_id, thread_ts=thread, **message(text, blocks))


def register(app: App) -> None:
    app.event("file_shared")(file_shared)
