"""CSV files shared in a bound channel: once per file, a threaded preview with Import /
Cancel. A till export is read by a job for the worker, never by the web process; a count
sheet (``count-<unit>.csv``, a few KB, held to ``slack_files.COUNT_FILE_LIMIT``) is read on
the web process's work pool."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from stockpot.bot.slack_files import FileRefused, file_info, is_csv
from stockpot.core.csv_import.shared import bound_company, first_share
from stockpot.core.jobs import specs
from stockpot.core.stock.files import count_file
from stockpot.handlers.context import notify, services
from stockpot.handlers.stock_files import preview_count

log = logging.getLogger(__name__)


def file_shared(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    file_id, channel_id = event.get("file_id", ""), event.get("channel_id", "")
    svc = services(context)
    team_id = context.team_id or ""
    with svc.factory() as session:
        bound = bound_company(session, team_id, channel_id)
    if bound is None or not first_share(svc.factory, team_id, file_id, channel_id):
        return
    try:
        info = file_info(client, file_id)
    except FileRefused as gone:  # deleted right after it was shared: nothing to preview
        log.info("not previewed: %s", gone)
        return
    if not is_csv(info):
        return
    thread = (info.get("shares", {}).get("public", {}).get(channel_id) or [{}])[0].get("ts")
    name = str(info.get("name") or file_id)
    counted = count_file(name)
    if counted is not None:  # a count sheet (count-<unit>.csv), not a till export
        user = str(event.get("user_id") or context.user_id or "")
        args = (context, client, bound, file_id, counted, channel_id, thread or None, user)
        svc.work.submit(preview_count, *args)
        return
    svc.jobs.enqueue(
        specs.csv_preview(
            bound,
            file_id,
            name,
            thread_ts=thread or None,
            connection_id=None,
            default_date=None,
            notify=notify(context, channel_id),
        )
    )


def register(app: App) -> None:
    app.event("file_shared")(file_shared)
