"""Count CSVs shared in a bound channel (named like the template, ``count-<unit>.csv``): a
preview in the file's thread with what the count would adjust, then **Post count** (admins)
or **Cancel**. Reading the file is short work off the listener thread; posting re-reads it,
so what is posted is exactly the file that was previewed."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.blocks.common import escape, message, section
from stockpot.bot.blocks.stock import count_file_blocks, problems_blocks
from stockpot.bot.errors import GONE
from stockpot.bot.ids import ActionId
from stockpot.bot.metadata import StockFileValue
from stockpot.bot.slack_files import COUNT_FILE_LIMIT, fetch_csv
from stockpot.core import company_clock
from stockpot.core.access import slack_user, slack_who
from stockpot.core.csv_import.shared import FileReader
from stockpot.core.errors import InvalidDocument, StockpotError, ValidationFailed
from stockpot.core.jobs import effects
from stockpot.core.jobs.specs import Notify, offer_key
from stockpot.core.models import StockKind
from stockpot.core.stock import files
from stockpot.core.stock.services import StockRequest, StockResult, post_stock
from stockpot.handlers.context import Services, button_admin, channel_of, notify, services
from stockpot.handlers.offers import in_place, spend
from stockpot.handlers.stock_commands import announce

log = logging.getLogger(__name__)
CANCEL = ActionId.STOCK_FILE_CANCEL


def _fetch(svc: Services, client: WebClient, file_id: str, reader: FileReader) -> tuple[str, bytes]:
    name, data = fetch_csv(
        svc.settings, client, file_id, reader=reader, factory=svc.factory, limit=COUNT_FILE_LIMIT
    )
    with data:
        return name, data.read()


def _request(
    company_id: int,
    unit: str,
    day: date,
    parsed: files.StockFile,
    who: str,
    where: Notify | None = None,
    effect_key: str | None = None,
) -> StockRequest:
    return StockRequest(
        StockKind.COUNT,
        company_id,
        unit,
        day,
        who,
        parsed.lines,
        source="file",
        notify=where,
        effect_key=effect_key,
    )


def preview_count(
    context: BoltContext,
    client: WebClient,
    company_id: int,
    file_id: str,
    target: tuple[str, str | None],
    channel: str,
    thread: str | None,
    user_id: str,
) -> None:
    """Short work: read the shared file, check it whole, and post the preview."""
    svc = services(context)
    name = file_id
    try:
        reader = FileReader(context.team_id or "", user_id, company_id)
        name, data = _fetch(svc, client, file_id, reader)
        unit, written = target
        posting_day = company_clock.unit_posting_day(svc.factory, company_id, unit)
        day = files.count_day(name, unit, written, posting_day) or posting_day
        parsed = files.read_shared_csv(data, source=name)
        request = _request(company_id, unit, day, parsed, slack_who(user_id))
        preview = post_stock(svc.factory, request, dry_run=True)
    except InvalidDocument as error:
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            **message(
                f"Count file {escape(name)} has errors",
                problems_blocks(name, [str(p) for p in error.problems]),
            ),
        )
        return
    except StockpotError as error:
        client.chat_postMessage(
            channel=channel, thread_ts=thread, text=f":warning: {escape(str(error))}"
        )
        return
    value = StockFileValue(
        file_id=file_id, storage_unit=preview.storage_unit, business_date=preview.business_date
    ).dump()
    client.chat_postMessage(
        channel=channel,
        thread_ts=thread,
        **message(
            f"Count file {escape(name)}", count_file_blocks(name, preview, value, parsed.skipped)
        ),
    )


def _value(body: dict[str, Any]) -> StockFileValue:
    try:
        return StockFileValue.model_validate_json(str(body["actions"][0].get("value") or ""))
    except ValueError:
        raise ValidationFailed("that button is not one Stockpot made") from None


def post_count(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    who = button_admin(context, body)
    svc = services(context)
    value = _value(body)
    channel = channel_of(body)
    reader = FileReader(who.team_id, who.user_id, who.company_id)
    name, data = _fetch(svc, client, value.file_id, reader)
    parsed = files.read_shared_csv(data, source=name)
    where = notify(context, channel)
    # Spent first, as every offer is (handlers.offers): nobody posts the same file twice.
    ts = spend(respond, body, f"Posting the count, started by <@{who.user_id}>…", CANCEL)
    request = _request(
        who.company_id,
        value.storage_unit,
        value.business_date,
        parsed,
        who.audit,
        where,
        # One posting per preview: a stale copy of it pressed gets that posting back.
        _posting_key(where, ts),
    )
    try:
        result: StockResult = post_stock(svc.factory, request)
    except StockpotError:
        # Nothing was posted: the preview comes back as it was, its buttons with it.
        shown = body.get("message") or {}
        respond(text=shown.get("text", ""), blocks=shown.get("blocks"), replace_original=True)
        raise
    # A preview deleted meanwhile shows nothing of this: the announcement below says it.
    respond(
        **message(
            f"Count file {escape(name)} posted",
            [
                section(
                    f"*Count file {escape(name)}*: posted as count {result.posting_id} "
                    f"by <@{slack_user(result.posted_by) or who.user_id}>."
                )
            ],
        ),
        replace_original=True,
    )
    if result.again:
        respond(
            text=f"Count file {escape(name)} was already posted from this preview as count "
            f"{result.posting_id}; nothing was posted again.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    announce(client, channel, result, who.user_id)


def _posting_key(where: Notify, ts: str | None) -> str | None:
    """The idempotency key of the one posting a preview (message ``ts``) makes."""
    return offer_key("count-file-post", in_place(where, ts))


def cancel(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    who = button_admin(context, body)
    ts = str((body.get("message") or {}).get("ts") or "") or None
    key = _posting_key(notify(context, channel_of(body)), ts)
    with services(context).factory() as session:
        earlier = effects.done(session, key, who.company_id) if key else None
    if earlier:
        # A stale copy of the preview: its count was posted, and its message says so.
        posting = earlier.get("posting_id")
        respond(
            text=f"Count {posting} was posted from this preview; nothing was cancelled "
            f"(`/stock correct {posting}` takes it back).",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    cancelled = f"Count file not posted: <@{who.user_id}> cancelled it."
    if not _replace_preview(client, body, {"text": cancelled, "blocks": []}):
        respond(
            text="That count file's preview was deleted: nothing was posted from it, so there "
            "is nothing to cancel. Share the file again to preview it anew.",
            response_type="ephemeral",
            replace_original=False,
        )


def _replace_preview(client: WebClient, body: dict[str, Any], shown: dict[str, Any]) -> bool:
    """Replace the clicked preview with ``shown``; ``False`` when it is gone (deleted in
    Slack since it was clicked: ``chat.update`` answers ``message_not_found``)."""
    try:
        client.chat_update(channel=channel_of(body), ts=body["message"]["ts"], **shown)
    except SlackApiError as error:
        if error.response.get("error") not in GONE:
            raise
        log.info("count file preview %s is gone: %s", body["message"]["ts"], error)
        return False
    return True


def register(app: App) -> None:
    app.action(ActionId.STOCK_FILE_POST)(post_count)
    app.action(ActionId.STOCK_FILE_CANCEL)(cancel)
