"""``/stock`` (count, receive, waste, move, correct, template) and ``/ledger variance``.

Only admins post; viewers read. Every posting is announced in the channel with who posted
it; a count that closes a period (its storage unit was counted before) queues the period's
variance report (``bot.jobs.variance``), posted here with a chart of the largest variances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.amounts import human
from stockpot.bot.blocks.common import Block, escape, message
from stockpot.bot.blocks.common import context as context_block
from stockpot.bot.blocks.stock import (
    SheetRow,
    count_modal,
    posted_blocks,
    sheet_pages,
    stock_form_modal,
    variance_blocks,
    variance_modal,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import StockCountMetadata, StockFormMetadata, VarianceValue
from stockpot.core import company_clock
from stockpot.core.access import Actor
from stockpot.core.db import SessionFactory
from stockpot.core.errors import InvalidDocument, ValidationFailed
from stockpot.core.ids import parse_id
from stockpot.core.lookup import not_found
from stockpot.core.models import Ingredient, StockKind, StorageUnit
from stockpot.core.quantities import parse_quantity_text
from stockpot.core.stock import files, variance
from stockpot.core.stock.ledger import LiveCount, live_counts
from stockpot.core.stock.services import (
    DATE_PLACE,
    HAPPENED,
    NOTES,
    LineInput,
    StockRequest,
    StockResult,
    correct,
    post_stock,
)
from stockpot.core.storage import archived_refusal
from stockpot.core.words import quoted
from stockpot.handlers.context import (
    actor,
    channel_of,
    effect_key,
    form_actor,
    form_blocks,
    form_input,
    form_key,
    notify,
    picked_date,
    post,
    reading,
    services,
    unpostable,
)
from stockpot.handlers.slash import Invocation, UsageError, parse_day

log = logging.getLogger(__name__)


class Units(list[str]):
    """The storage units in use (the choices), knowing the archived ones to refuse them."""

    archived: list[str]


def _units(inv: Invocation, company_id: int) -> Units:
    with inv.services.factory() as session:
        return _named_units(*files.unit_names(session, company_id))


def _named_units(in_use: list[str], archived: list[str]) -> Units:
    units = Units(in_use)
    units.archived = archived
    return units


def _take_unit(text: str, units: list[str], usage: str) -> tuple[str, str]:
    """The storage unit the text starts with (the longest name that fits, case aside, as
    ``lookup.storage_unit_by_name`` finds units), and the rest."""
    for name in sorted(units, key=len, reverse=True):
        if _starts_with(text, name):
            return name, text[len(name) :].strip()
    for name in getattr(units, "archived", []):
        if _starts_with(text, name):
            raise ValidationFailed(archived_refusal(name))
    typed = _typed_unit(text)
    if typed:
        raise not_found("storage unit", typed, units)
    raise UsageError(f"which storage unit? {usage} (storage units: {', '.join(units) or 'none'})")


def _starts_with(text: str, name: str) -> bool:
    start = text[: len(name)]
    return start.casefold() == name.casefold() and text[len(name) : len(name) + 1] in ("", " ")


def _typed_unit(text: str) -> str:
    """What was typed where a storage unit belongs: the words before the first line
    (``Flour=2kg``), date or ``to``."""
    words: list[str] = []
    for word in text.split():
        if "=" in word or word == "to" or _is_day(word):
            break
        words.append(word)
    return " ".join(words)


def _take_day(text: str) -> tuple[str | None, str]:
    """The day the text starts with, as written (read by ``_day`` once the storage units are
    known), and the rest."""
    first, _, rest = text.partition(" ")
    if _is_day(first):
        return first, rest.strip()
    return None, text


def _day(written: str, posting_day: date) -> date:
    """The day written with a posting, ``today`` and ``yesterday`` counted from the day a
    posting given none takes (``company_clock.posting_day``): by the calendar, ``today`` typed
    at 01:58 before a 05:00 day start was the next day, a count ahead of its sales."""
    return parse_day(written, posting_day)


def _is_day(word: str) -> bool:
    """Whether ``word`` is written as a day (``today``, ``2026-11-26``), valid or not."""
    return word.lower() in ("today", "yesterday") or (len(word) == 10 and word[4:5] == "-")


def stock_count(inv: Invocation) -> None:
    """``/stock count <storage unit> [date]``: open the unit's count sheet."""
    who = inv.actor()
    who.require_admin()
    text = " ".join(inv.args)
    with inv.reading(who) as rows:
        company = rows.company()
        zone = company_clock.company_zone(rows.session, company)
        now = datetime.now(UTC)
        today = company_clock.today_on(zone, now)
        written, text = _take_day(text)
        units = _named_units(*files.unit_names(rows.session, company.id))
        name, rest = _take_unit(text, units, "`/stock count Kitchen`")
        if rest:
            written, rest = _take_day(rest)
        if rest:  # the date, or refused: a date written another way opened today's sheet
            written = rest
        unit = rows.storage_unit(name)
        day = company_clock.posting_day(
            rows.session, company, unit.id, now=now, company_today=today
        )
        if written:
            day = _day(written, day)
        ahead = company_clock.not_yet(
            rows.session,
            company,
            unit.id,
            day,
            HAPPENED[StockKind.COUNT],
            now=now,
            company_today=today,
        )
        if ahead is not None:  # refused before a sheet is filled in, not when it is sent
            raise ValidationFailed(ahead)
        groups = files.sheet(rows.session, company, unit.id)
        counts = live_counts(rows.session, company.id, unit.id, day)
    pages = _pages(groups, counts)
    if not pages:
        raise ValidationFailed(f"{who.company} has no active ingredient to count")
    metadata = StockCountMetadata(
        channel_id=inv.channel_id,
        company_id=who.company_id,
        storage_unit_id=unit.id,
        business_date=day,
    )
    view = count_modal(metadata.dump(), unit.name, day, pages[0], 0, len(pages), counts, zone)
    inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def _pages(groups: dict[str, list[Ingredient]], counts: list[LiveCount]) -> list[list[Block]]:
    """A count sheet's pages (none: nothing to count), each ingredient a live count of the
    day counted showing what was counted."""
    units = _base_units(groups)
    counted = {
        ingredient: f"{human(quantity, units.get(ingredient, ''))} (count {count.posting_id})"
        for count in counts
        for ingredient, quantity in count.counted.items()
    }
    rows = {
        group: [SheetRow(i.id, i.name, i.base_unit.value, counted.get(i.id)) for i in members]
        for group, members in groups.items()
    }
    return sheet_pages(rows) if rows else []


def _base_units(groups: dict[str, list[Ingredient]]) -> dict[int, str]:
    """Each ingredient of a count sheet with the unit it is counted in (its base unit)."""
    return {i.id: i.base_unit.value for members in groups.values() for i in members}


def submit_count(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    who, metadata = form_actor(context, view, StockCountMetadata)
    svc = services(context)
    filled: list[tuple[str, int, str]] = []
    for block_id in form_blocks(view):
        if not block_id.startswith(BlockId.STOCK_INGREDIENT_PREFIX):
            continue
        raw = str(form_input(view, block_id, ActionId.STOCK_QUANTITY).get("value") or "").strip()
        if not raw:
            continue  # empty inputs are not counted
        ingredient_id = parse_id(block_id.removeprefix(BlockId.STOCK_INGREDIENT_PREFIX))
        if ingredient_id is None:
            raise ValidationFailed("this form is not one Stockpot made")
        filled.append((block_id, ingredient_id, raw))
    with reading(context, who) as rows:
        session, company = rows.session, rows.company()
        unit = rows.get(StorageUnit, metadata.storage_unit_id)
        assert unit is not None
        names = files.ingredient_names(session, company.id, [i for _, i, _ in filled])
        groups = files.sheet(session, company, unit.id)
    counted_in = _base_units(groups)
    counted: list[tuple[str, int, Decimal]] = []
    errors: dict[str, str] = {}
    for block_id, ingredient_id, raw in filled:
        try:
            counted.append(
                (block_id, ingredient_id, parse_quantity_text(raw, counted_in.get(ingredient_id)))
            )
        except ValueError as error:
            errors[block_id] = str(error)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    pages = _pages(groups, [])
    following = metadata.page + 1
    result = None
    if counted:
        request = StockRequest(
            StockKind.COUNT,
            who.company_id,
            unit.name,
            metadata.business_date,
            who.audit,
            [
                LineInput(names.get(i, str(i)), q, line=n)
                for n, (_, i, q) in enumerate(counted, start=1)
            ],
            source="count sheet",
            notify=notify(context, metadata.channel_id),
            effect_key=form_key(context, view, "count", metadata.page),
        )
        try:
            result = post_stock(svc.factory, request)
        except InvalidDocument as error:
            ack(
                response_action="errors",
                errors={counted[(p.line or 1) - 1][0]: p.message[:150] for p in error.problems},
            )
            return
    elif following >= len(pages):
        first = next((b for b in view.get("blocks") or [] if b.get("type") == "input"), None)
        if first is not None:
            ack(
                response_action="errors",
                errors={first["block_id"]: "Fill in at least one counted quantity"},
            )
            return
    if following < len(pages):
        # The sheet as it opened (what it lists), with the day's counts now: this page's too.
        with reading(context, who) as rows:
            counts = live_counts(rows.session, who.company_id, unit.id, metadata.business_date)
            zone = company_clock.company_zone(rows.session, rows.company())
        pages = _pages(groups, counts)
        next_metadata = metadata.model_copy(update={"page": following})
        ack(
            response_action="update",
            view=count_modal(
                next_metadata.dump(),
                unit.name,
                metadata.business_date,
                pages[following],
                following,
                len(pages),
                counts,
                zone,
            ),
        )
    else:
        ack()
    if result is not None and not result.again:
        announce(client, metadata.channel_id, result, who.user_id)


def announce(
    client: WebClient,
    channel: str,
    result: StockResult,
    user_id: str,
    instead: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Say a posting in the channel it was asked in. Where Slack lets the bot post nothing
    there (``UNPOSTABLE``) the posting is done all the same, so it is said to the one who
    made it: ``instead`` (a command's own answer), else a message from the app. It raised,
    and "Something went wrong" had them post it again."""
    said = message(
        f"{result.kind.value} {result.posting_id} posted by <@{user_id}>",
        posted_blocks(result, user_id),
    )
    try:
        post(client, channel, said)
    except SlackApiError as error:
        code = unpostable(error)
        if code is None:
            raise
        log.warning(
            "posting %s not shown in its channel: Slack answered %s", result.posting_id, code
        )
        note = context_block(
            f":information_source: Not shown in <#{channel}>: Slack lets me post nothing there "
            f"(`{code}`). Invite me with `/invite @Stockpot`, or post from a channel I am in."
        )
        told = {**said, "blocks": [*said["blocks"], note]}
        if instead is not None:
            instead(told)
        else:
            post(client, user_id, told)


def stock_flow(kind: StockKind) -> Any:
    """``/stock receive|waste|move [date] <unit> [to <unit>] [date] [lines]``: lines posted at
    once, or the modal when none are given (its date picker on the date typed, if one was)."""
    usage = {
        StockKind.RECEIPT: "`/stock receive Kitchen Flour=25kg@0.9, Basil=200g`",
        StockKind.WASTE: "`/stock waste Kitchen Basil=20g`",
        StockKind.MOVE: "`/stock move Kitchen to Bar House red=2`",
    }[kind]

    def handle(inv: Invocation) -> None:
        who = inv.actor()
        who.require_admin()
        units = _units(inv, who.company_id)
        written, text = _take_day(" ".join(inv.args))
        unit, rest = _take_unit(text, units, usage)
        to_unit = None
        if kind is StockKind.MOVE:
            if not rest.startswith("to "):
                raise UsageError(f"where to? {usage}")
            to_unit, rest = _take_unit(rest[3:].strip(), units, usage)
        if written is None:  # after the unit, as in `/stock count Kitchen 2026-11-26`
            written, rest = _take_day(rest)
        day = None
        if written is not None:
            day = _day(written, _posting_day(inv.services.factory, who.company_id, unit, to_unit))
        if not rest:
            metadata = StockFormMetadata(
                channel_id=inv.channel_id,
                company_id=who.company_id,
                kind=kind,
                storage_unit=unit,
                to_storage_unit=to_unit,
            )
            view = stock_form_modal(metadata.dump(), kind.value, unit, to_unit, day)
            inv.client.views_open(trigger_id=inv.trigger_id, view=view)
            return
        try:
            parsed = files.read_arguments(files.split_lines(rest))
            result = _post(
                inv.services.factory,
                who,
                kind,
                unit,
                to_unit,
                day,
                parsed.lines,
                who.audit,
                None,
                effect_key(inv.context, "stock"),
            )
        except InvalidDocument as error:
            raise ValidationFailed(error.retold("nothing was posted")) from None
        announce(inv.client, inv.channel_id, result, who.user_id, inv.answer)

    return handle


def _post(
    factory: SessionFactory,
    who: Actor,
    kind: StockKind,
    unit: str,
    to_unit: str | None,
    day: date | None,
    lines: list[LineInput],
    posted_by: str,
    note: str | None,
    effect_key: str | None = None,
) -> StockResult:
    day = day or _posting_day(factory, who.company_id, unit, to_unit)
    request = StockRequest(
        kind,
        who.company_id,
        unit,
        day,
        posted_by,
        lines,
        to_storage_unit=to_unit,
        supplier=note if kind is StockKind.RECEIPT else None,
        reason=note if kind is not StockKind.RECEIPT else None,
        source="your lines",
        effect_key=effect_key,
    )
    return post_stock(factory, request)


def _posting_day(factory: SessionFactory, company_id: int, unit: str, to_unit: str | None) -> date:
    """``company_clock.unit_posting_day`` of a posting's storage unit (a move's two)."""
    units = (unit,) if to_unit is None else (unit, to_unit)
    return company_clock.unit_posting_day(factory, company_id, *units)


def submit_form(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who, metadata = form_actor(context, view, StockFormMetadata)
    text = str(form_input(view, BlockId.STOCK_LINES, ActionId.STOCK_LINES).get("value") or "")
    note = str(form_input(view, BlockId.STOCK_NOTE, ActionId.STOCK_NOTE).get("value") or "").strip()
    try:
        day = picked_date(form_input(view, BlockId.STOCK_DATE, ActionId.STOCK_DATE))
        parsed = files.read_arguments([line for line in text.splitlines() if line.strip()])
        result = _post(
            services(context).factory,
            who,
            metadata.kind,
            metadata.storage_unit,
            metadata.to_storage_unit,
            day,
            parsed.lines,
            who.audit,
            note or None,
            form_key(context, view, "stock"),
        )
    except InvalidDocument as error:
        ack(response_action="errors", errors=_form_errors(error))
        return
    ack()
    if not result.again:  # said when it was posted
        announce(client, metadata.channel_id, result, who.user_id)


def _form_errors(error: InvalidDocument) -> dict[str, str]:
    """A refused form's problems under their inputs: the date's under the date picker, the
    note's under the note, the rest under the lines."""
    under: dict[str, list[str]] = {}
    for problem in error.problems:
        if problem.place == DATE_PLACE:
            under.setdefault(BlockId.STOCK_DATE, []).append(str(problem.message))
        elif problem.place in NOTES:
            under.setdefault(BlockId.STOCK_NOTE, []).append(str(problem.message))
        else:
            under.setdefault(BlockId.STOCK_LINES, []).append(str(problem))
    return {block: "; ".join(found)[:150] for block, found in under.items()}


def stock_correct(inv: Invocation) -> None:
    """``/stock correct <posting id>``: reverse a posting."""
    who = inv.actor()
    who.require_admin()
    posting = parse_id(inv.args[0]) if inv.args else None
    if posting is None:
        raise UsageError("which posting? `/stock correct 42` (its number is in its message)")
    reason = " ".join(inv.args[1:]) or None
    result = correct(
        inv.services.factory,
        who.company_id,
        posting,
        who.audit,
        reason,
        effect_key=effect_key(inv.context, "correct"),
    )
    announce(inv.client, inv.channel_id, result, who.user_id, inv.answer)


def stock_template(inv: Invocation) -> None:
    """``/stock template <storage unit>``: the unit's count CSV, to fill in and upload."""
    who = inv.actor()
    name, more = _take_unit(
        " ".join(inv.args), _units(inv, who.company_id), "`/stock template Kitchen`"
    )
    if more:
        usage = f"`/stock template {name}` ({quoted(more)} is more)"
        try:
            day = date.fromisoformat(more).isoformat()
        except ValueError:
            raise UsageError(usage) from None
        # The sheet is the same any day: a count's day is in the filled file's name.
        raise UsageError(
            f"{usage}: the sheet is the same any day; to count {day}, upload it filled in as "
            f"{files.count_file_name(name, day)}"
        )
    with inv.reading(who) as rows:
        unit = rows.storage_unit(name)
        content = files.template(files.sheet(rows.session, rows.company(), unit.id))
    filename = files.count_file_name(unit.name)
    inv.client.files_upload_v2(
        channel=inv.channel_id,
        content=content,
        filename=filename,
        title=f"Count sheet of {unit.name}: fill in the quantity column, then upload it here",
    )
    inv.reply(f"The count sheet of {escape(unit.name)} is in the channel as {escape(filename)}.")


def ledger_variance(inv: Invocation) -> None:
    """``/ledger variance [storage unit] [period]``: readable by viewers."""
    who = inv.actor()
    text = " ".join(inv.args)
    with inv.reading(who) as rows:
        session, company = rows.session, rows.company()
        if text:
            unit, period = _take_unit(
                text, _units(inv, who.company_id), "`/ledger variance Kitchen last`"
            )
            reports = [variance.variance(session, company, unit, period or None)]
        else:
            reports = variance.last_periods(session, company)
    if not reports:
        inv.reply(
            "No storage unit has been counted twice yet: a variance runs from one count to the "
            "next (`/stock count <storage unit>`)."
        )
        return
    blocks = [block for report in reports[:3] for block in variance_blocks(report)]
    inv.reply(f"Variance of {escape(who.company)}", blocks)


def show_variance(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A variance's **Show all**: every line of that period, in a modal (viewers too)."""
    ack()
    try:
        value = VarianceValue.model_validate_json(str(body["actions"][0].get("value") or ""))
    except ValueError:
        raise ValidationFailed("that button is not one Stockpot made") from None
    who = actor(context, channel_of(body))
    with reading(context, who) as rows:
        unit = rows.storage_unit(value.storage_unit)
        report = variance.period_variance(
            rows.session, rows.company(), unit, value.opening, value.closing
        )
    client.views_open(trigger_id=body["trigger_id"], view=variance_modal(report))


def register(app: App) -> None:
    app.action(ActionId.VARIANCE_ALL)(show_variance)
    app.view(CallbackId.STOCK_COUNT)(submit_count)
    app.view(CallbackId.STOCK_FORM)(submit_form)
