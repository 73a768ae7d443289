"""Mapping from Slack: the Map, Edit, Ignore, Remove and Un-ignore buttons, the search behind
the mapping modal, its submission, the pages of ``/pos mappings``, and rerunning the days a
mapping change affects (every live day that sold the item)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from pydantic import ValidationError as PydanticError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.blocks.common import Block, escape, message, plural
from stockpot.bot.blocks.mapping import (
    PAGE_SIZE,
    ROWS_SHOWN,
    changed_blocks,
    changed_meanwhile,
    kept_blocks,
    map_modal,
    mapped_blocks,
    mappings_blocks,
    target_options,
    unmapped_blocks,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import MapItemMetadata, MappingRowValue, MappingsPageValue
from stockpot.bot.private import tell_privately
from stockpot.bot.responses import Answer
from stockpot.bot.slack_files import allowed_host
from stockpot.core.access import Actor
from stockpot.core.db import SessionFactory
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.mapping import (
    IgnoreChoice,
    IngredientChoice,
    RecipeChoice,
    changed_since,
    mapping_page,
    mapping_state,
    remove_mapping,
    set_mapping,
)
from stockpot.core.models import PosItem
from stockpot.core.quantities import parse_quantity_text
from stockpot.core.unmapped import (
    Target,
    coverage,
    current_target,
    days_with_item,
    latest_day,
    offered_days,
    suggestions,
    target_named,
    targets,
    unmapped,
)
from stockpot.handlers.answers import ack_first
from stockpot.handlers.context import (
    actor,
    button_admin,
    button_id,
    changing,
    channel_of,
    form_actor,
    form_input,
    notify,
    reading,
    services,
)
from stockpot.handlers.offers import spend

log = logging.getLogger(__name__)


def unmapped_list(factory: SessionFactory, who: Actor) -> tuple[str, list[Block]]:
    """``/pos unmapped``: the working list, most sold first (redrawn in place after Ignore)."""
    with factory() as session:
        rows = unmapped(session, who.company_id)
        offered_days(session, rows[:ROWS_SHOWN])
        transferred = bool(rows) or latest_day(session, who.company_id) is not None
    blocks = unmapped_blocks(who.company, rows, admin=who.is_admin, transferred=transferred)
    return f"Unmapped items of {escape(who.company)}", blocks


def mappings_list(
    factory: SessionFactory, who: Actor, text: str = "", page: int = 1
) -> tuple[str, list[Block]]:
    """A page of ``/pos mappings [text]`` (redrawn in place after Remove or Un-ignore)."""
    with factory() as session:
        found = mapping_page(session, who.company_id, text, page, PAGE_SIZE)
        share = coverage(session, who.company_id)
    blocks = mappings_blocks(who.company, found, share, text, admin=who.is_admin)
    return f"Mappings of {escape(who.company)}", blocks


def open_map(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    channel = channel_of(body)
    who = button_admin(context, body)
    with reading(context, who) as rows:
        item = rows.get(PosItem, button_id(body))
        current = current_target(rows.session, item)
        suggested = [] if current else suggestions(rows.session, who.company_id, item.name)
        listed = ":" in str(body["actions"][0].get("value") or "")  # /pos mappings' Edit
        metadata = MapItemMetadata(
            pos_item_id=item.id,
            channel_id=channel,
            company_id=who.company_id,
            list_url=body.get("response_url"),
            list_page=_page_of(body).shown() if listed else None,
            seen=mapping_state(item.mapping),
        )
        view = map_modal(metadata.dump(), item.name, current, suggested)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def ignore(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    with changing(context, who) as rows:
        item = rows.get(PosItem, button_id(body))
        # Pressed on a copy of the list from before someone mapped the item: ignoring it
        # would throw that mapping away unseen.
        kept = current_target(rows.session, item)
        if kept is None:
            set_mapping(rows.session, item, IgnoreChoice(), by=who.audit)
        name, days = item.name, len(days_with_item(rows.session, item))
    # The list shows the item gone (no Ignore left to press); what was done, with its
    # Reprocess offer, is a message of its own.
    respond(**message(*unmapped_list(services(context).factory, who)), replace_original=True)
    if kept is not None:
        _kept(respond, name, kept, ignored=False)
        return
    text = f"{escape(name)} is ignored: sold, but never taken from stock."
    respond(
        **message(text, changed_blocks(text, days, str(item.id))),
        response_type="ephemeral",
        replace_original=False,
    )


def unmap(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Remove a mapping, or un-ignore an ignored item: either way it is unmapped again."""
    ack()
    who = button_admin(context, body)
    page = _page_of(body)
    with changing(context, who) as rows:
        item = rows.get(PosItem, button_id(body))
        was_ignored = item.mapping is not None and item.mapping.ignored
        # Pressed on a copy of the list from before someone changed the mapping: removing
        # it would throw that change away unseen.
        stale = changed_since(item.mapping, page.seen)
        now = current_target(rows.session, item) if stale else None
        if not stale and not remove_mapping(rows.session, item):
            raise ValidationFailed(f"{item.name} is not mapped; nothing changed")
        name, days = item.name, len(days_with_item(rows.session, item))
    respond(
        **message(*mappings_list(services(context).factory, who, page.text, page.page)),
        replace_original=True,
    )
    if stale:
        _kept(respond, name, now, ignored=was_ignored)
        return
    done = "is no longer ignored" if was_ignored else "is no longer mapped"
    text = f"{escape(name)} {done}: it is on the unmapped list again (`/pos unmapped`)."
    respond(
        **message(text, changed_blocks(text, days, str(item.id))),
        response_type="ephemeral",
        replace_original=False,
    )


def _kept(
    respond: Respond, name: str, now: tuple[Target, Decimal] | None, *, ignored: bool
) -> None:
    """The answer to a button pressed on a list drawn before the mapping changed."""
    respond(
        **message(
            f"{escape(name)} was changed meanwhile; nothing changed",
            kept_blocks(name, now, ignored),
        ),
        response_type="ephemeral",
        replace_original=False,
    )


def turn_page(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Previous/Next of ``/pos mappings``: the same message shows the other page."""
    ack()
    raw = str(body["actions"][0].get("value") or "")
    try:
        value = MappingsPageValue.model_validate_json(raw)
    except PydanticError:
        raise ValidationFailed("that button is not one Stockpot made") from None
    who = actor(context, channel_of(body))
    listed = mappings_list(services(context).factory, who, value.text, value.page)
    respond(**message(*listed), replace_original=True)


def _page_of(body: dict[str, Any]) -> MappingRowValue:
    """The search and page a Remove or Un-ignore button was shown on, and the mapping it was
    drawn for (``<item>:<MappingRowValue>``)."""
    _, _, raw = str(body["actions"][0].get("value") or "").partition(":")
    if not raw:
        return MappingRowValue(page=1)
    try:
        return MappingRowValue.model_validate_json(raw)
    except PydanticError:
        raise ValidationFailed("that button is not one Stockpot made") from None


def search(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Options for the external select; must answer within Slack's 3 seconds. With nothing
    typed yet, names close to the item's come first, labelled as suggestions."""
    text = str(body.get("value") or "")
    modal = _modal_of(body)
    # The catalog of the company the modal was opened for: its channel's (a workspace may
    # serve several companies), and nothing when the metadata names another company.
    who = actor(context, modal.channel_id if modal else None)
    if modal is not None and modal.company_id != who.company_id:
        ack(option_groups=[])
        return
    with reading(context, who) as rows:
        found = targets(rows.session, who.company_id, text)
        item_id = modal.pos_item_id if modal and not text.strip() else None
        item = rows.find(PosItem, item_id)
        suggested = suggestions(rows.session, who.company_id, item.name) if item else []
    ack(option_groups=target_options(found, suggested))


def _modal_of(body: dict[str, Any]) -> MapItemMetadata | None:
    """What the mapping modal is open for (its metadata), if the modal is Stockpot's."""
    raw = str((body.get("view") or {}).get("private_metadata") or "")
    try:
        return MapItemMetadata.model_validate_json(raw)
    except PydanticError:
        return None


def _factor(text: str, unit: str) -> Decimal:
    factor = parse_quantity_text(text, unit)
    if factor <= 0:
        raise ValueError("the quantity must be greater than 0")
    return factor


def submit_map(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    who, metadata = form_actor(context, view, MapItemMetadata)
    chosen = form_input(view, BlockId.MAP_TARGET, ActionId.MAP_TARGET).get("selected_option")
    selected = chosen if isinstance(chosen, dict) else {}
    typed = str(form_input(view, BlockId.MAP_FACTOR, ActionId.MAP_FACTOR).get("value") or "")
    with changing(context, who) as rows:
        target = target_named(rows.session, who.company_id, str(selected.get("value", "")))
        try:
            factor = _factor(typed, target.unit if target is not None else "")
        except ValueError as error:
            ack(response_action="errors", errors={BlockId.MAP_FACTOR: str(error)})
            return
        if target is None:
            ack(
                response_action="errors",
                errors={BlockId.MAP_TARGET: "choose an ingredient or a recipe of your company"},
            )
            return
        choice = (
            IngredientChoice(target.id, factor)
            if target.kind == "ingredient"
            else RecipeChoice(target.id, factor)
        )
        item = rows.get(PosItem, metadata.pos_item_id)
        if changed_since(item.mapping, metadata.seen):
            now = current_target(rows.session, item)
            ignored = item.mapping is not None and item.mapping.ignored
            ack(
                response_action="errors",
                errors={BlockId.MAP_TARGET: changed_meanwhile(item.name, now, ignored)},
            )
            return
        changed = current_target(rows.session, item) != (target, factor)
        set_mapping(rows.session, item, choice, by=who.audit)
        days = len(days_with_item(rows.session, item))
        name = item.name
    ack()
    tell_privately(
        client,
        metadata.channel_id,
        who.user_id,
        **message(
            f"{escape(name)} is mapped",
            mapped_blocks(
                name,
                target,
                factor,
                days,
                str(metadata.pos_item_id),
                changed=changed,
            ),
        ),
    )
    if changed:
        _redraw(context, who, metadata)


def _redraw(context: BoltContext, who: Actor, metadata: MapItemMetadata) -> None:
    """The list whose Map or Edit opened the modal shows the saved mapping (no stale Map on
    an item just mapped), through its ``response_url`` (lists are answers only you see)."""
    if not metadata.list_url:
        return
    svc = services(context)
    if not allowed_host(metadata.list_url, svc.settings.slack.response_hosts):
        # The modal's metadata comes back through the user's client: a URL off Slack's
        # hosts is never called (the gate checks the request's own response_url the same way).
        log.warning("a map form named a list URL off SLACK_RESPONSE_HOSTS; not redrawn")
        return
    factory = svc.factory
    page = metadata.list_page
    listed = (
        unmapped_list(factory, who)
        if page is None
        else mappings_list(factory, who, page.text, page.page)
    )
    Answer(response_url=metadata.list_url)(**message(*listed), replace_original=True)


def reprocess(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    channel = channel_of(body)
    who = button_admin(context, body)
    svc = services(context)
    with reading(context, who) as rows:
        item = rows.get(PosItem, button_id(body))
        days = days_with_item(rows.session, item)
        name = item.name
    if not days:
        respond(
            **message(f"No transferred day sold {escape(name)}: nothing to reprocess.", []),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    # The offer is spent: it becomes what was started (the progress follows in the channel).
    spend(
        respond,
        body,
        f"Reprocessing {plural(len(days), 'day')} for {escape(name)}, oldest "
        "first; one message in the channel shows the progress and the summary.",
    )
    svc.jobs.enqueue(
        specs.reprocess(
            who.company_id,
            list(days),
            what=name,
            triggered_by=who.audit,
            notify=notify(context, channel),
        )
    )


def register(app: App) -> None:
    app.action(ActionId.MAP_OPEN)(ack_first(open_map))
    app.action(ActionId.ITEM_IGNORE)(ignore)
    app.action(ActionId.REPROCESS)(reprocess)
    app.action(ActionId.MAPPING_REMOVE)(unmap)
    app.action(ActionId.ITEM_UNIGNORE)(unmap)
    app.action(ActionId.MAPPINGS_PAGE)(turn_page)
    app.options(ActionId.MAP_TARGET)(search)
    app.view(CallbackId.MAP_ITEM)(submit_map)
