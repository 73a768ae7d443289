"""Buttons: post a previewed day; activate, pause, resume or migrate a location; retry,
cancel or catch up jobs; reconnect a POS whose credentials stopped working."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from stockpot.bot.blocks.common import Block, escape, message, plural
from stockpot.bot.blocks.common import context as context_block
from stockpot.bot.blocks.jobs import catch_up_blocks
from stockpot.bot.blocks.pos import connect_sides_modal, lightspeed_blocks, locations_blocks
from stockpot.bot.blocks.transfer import unmapped_modal
from stockpot.bot.ids import ActionId
from stockpot.bot.metadata import CatchUpValue, ConnectSidesMetadata, TransferValue
from stockpot.core.access import Actor
from stockpot.core.errors import ValidationFailed
from stockpot.core.ids import parse_id
from stockpot.core.jobs import queue, specs
from stockpot.core.jobs.schedule import catch_up, catch_up_range
from stockpot.core.locations import link_storage_unit, overview, set_active, set_automatic
from stockpot.core.migration import DEFAULT_DAYS
from stockpot.core.models import Connection, ExternalLocation, Provider, RunKind, TransferRun
from stockpot.core.pos import connections
from stockpot.core.reports import send_reports_to
from stockpot.core.scope import CompanyScope
from stockpot.handlers.context import (
    actor,
    button_admin,
    button_id,
    changing,
    channel_of,
    notify,
    reading,
    services,
)
from stockpot.handlers.offers import already_started, offered_in, spend
from stockpot.handlers.pending import joined
from stockpot.handlers.pos_commands import start_migration

Reply = tuple[str, list[Block]]


def _value(body: dict[str, Any], model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(str(body["actions"][0].get("value", "")))
    except ValidationError:
        raise ValidationFailed("that button is not one Stockpot made; nothing was done") from None


def post_transfer(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    value: TransferValue = _value(body, TransferValue)
    svc = services(context)
    with reading(context, who) as rows:
        name = rows.location(value.location_id).name
    target = offered_in(notify(context, channel_of(body)), body)
    if already_started(svc.factory, "transfer-post", target):
        # A stale copy of a spent Post to ledger: the preview already shows the result.
        respond(
            text="This preview was already posted; its message shows the result.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    # The preview shows what was started, then becomes the result: one message.
    spend(respond, body, f"Posting {escape(name)}, {value.business_date} to the ledger…")
    queued = svc.jobs.enqueue(
        specs.transfer(
            who.company_id,
            value.location_id,
            value.business_date,
            run_kind=RunKind.MANUAL,
            triggered_by=who.audit,
            notify=target,
        )
    )
    note = joined(svc, queued, target, f"posting of {escape(name)}, {value.business_date}")
    if note is not None:  # another request's job posts the day and answers there
        spend(respond, body, note)


def show_unmapped(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A transfer summary's **Show all**: every unmapped item of that run, in a modal."""
    ack()
    who = actor(context, channel_of(body))
    with reading(context, who) as rows:
        run = rows.session.get(TransferRun, button_id(body))
        location = rows.location(run.location_id if run else None)
        assert run is not None
        view = unmapped_modal(location.name, str(run.business_date), list(run.unmapped))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _location_action(
    apply: Callable[[CompanyScope, ExternalLocation, BoltContext, dict[str, Any]], Reply],
) -> Callable[..., None]:
    """A listener for a location's button: admins only, on their own company's locations.
    The list the button is on is redrawn in place: each location's new state and buttons,
    and what was done under the location's row (no stale Activate left to press)."""

    def listener(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        who = button_admin(context, body)
        location_id = button_id(body)
        with changing(context, who) as rows:
            text, blocks = apply(rows, rows.location(location_id), context, body)
        _relist(respond, context, who, location_id, text, blocks)

    return listener


def _relist(
    respond: Respond,
    context: BoltContext,
    who: Actor,
    location_id: int,
    text: str,
    note: list[Block],
) -> None:
    """Replace the locations list a button was pressed on with the list as it is now;
    ``text`` (mrkdwn, names escaped) says what was done, under the location's row."""
    with reading(context, who) as rows:
        listed, units = overview(rows.session, who.company_id)
    done = note or [context_block(f":white_check_mark: {text}")]
    blocks = locations_blocks(
        who.company, listed, admin=who.is_admin, units=units, notes={location_id: done}
    )
    respond(**message(text, blocks), replace_original=True)


def _activate(active: bool) -> Callable[..., Reply]:
    def apply(
        rows: CompanyScope, location: ExternalLocation, context: BoltContext, body: dict[str, Any]
    ) -> Reply:
        name, by = escape(location.name), f"<@{rows.actor.user_id}>"
        if location.active is active:  # pressed on an older copy of the list
            state = "active" if active else "inactive"
            return f"{name} is already {state}: nothing changed.", []
        set_active(rows.session, location, active)
        if not active:
            return f"{name} deactivated by {by}: nothing more is transferred.", []
        from_csv = location.connection.provider.from_files
        text = f"{name} activated by {by}: " + (
            "its days come from the CSV files you upload."
            if from_csv
            else f"each closed business day is transferred at {location.transfer_time:%H:%M} "
            "local time."
        )
        company = rows.company()
        if company.report_channel_id is None:
            send_reports_to(company, context.team_id, channel_of(body))
            text += " The daily report and alerts will come to this channel (`/pos report`)."
        if not from_csv:
            text += f" Its history too? *Migrate {DEFAULT_DAYS} days* above (oldest first)."
        return text, []

    return apply


def _automatic(active: bool) -> Callable[..., Reply]:
    def apply(
        rows: CompanyScope, location: ExternalLocation, context: BoltContext, body: dict[str, Any]
    ) -> Reply:
        missed = set_automatic(rows.session, location, active)
        name = escape(location.name)
        if missed is not None:
            blocks = catch_up_blocks(location.name, location.company_id, location.id, missed)
            return f"Automatic transfers of {name} resumed.", blocks
        if active:
            return f"Automatic transfers of {name} are running.", []
        return f"Automatic transfers of {name} paused; setup and history are kept.", []

    return apply


def _storage(
    rows: CompanyScope, location: ExternalLocation, context: BoltContext, body: dict[str, Any]
) -> Reply:
    raw = str(body["actions"][0].get("selected_option", {}).get("value", ""))
    unit_id = parse_id(raw.partition(":")[2])
    if unit_id is None:
        raise ValidationFailed("that choice is not one Stockpot offered")
    unit = link_storage_unit(rows.session, location, unit_id)
    return f"{escape(location.name)} now takes its sales from {escape(unit.name)}.", []


def migrate_location(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    who = button_admin(context, body)
    svc = services(context)
    with reading(context, who) as rows:
        location = rows.location(button_id(body))
    text = start_migration(svc, who, notify(context, channel_of(body)), location)
    # Started, not done: the list is a snapshot, the migration's own message shows the rest.
    note = context_block(f":hourglass_flowing_sand: Started by <@{who.user_id}>: {text}")
    _relist(respond, context, who, location.id, text, [note])


RETRY_HOLD = timedelta(minutes=2)
"""How long a job Retry queued waits for its note to be said (``queue.release`` then makes
it due at once): longer than Slack may take to answer, so no worker replaces the message
with the result before the note; a listener that died in between leaves the job to run
after it."""


def retry_job(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    job_id = button_id(body)
    # Queued first, held (``RETRY_HOLD``), then said, then released. Queued first: of two
    # admins pressing Retry at once, exactly one requeue takes effect (``queue.requeued``),
    # and only that one rewrites the message, so it names whoever's retry runs; the other is
    # told it is already being tried again, and a refusal (the same work already queued)
    # leaves the message as it was. Held: no worker runs the job (and replaces this very
    # message with its result) before the message says so. Said outside the transactions,
    # which would hold the job's row (on SQLite the database) while Slack answers.
    with changing(context, who) as rows:
        job = queue.retryable(rows.session, job_id, who.company_id)
        what = job.kind.value.replace("_", " ")
        mine = not job.state.pending and queue.requeued(rows.session, job, RETRY_HOLD)
    if not mine:  # tried again already, by someone else or a second click: theirs stands
        respond(
            text=f"The {what} is already being tried again; its result follows.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    try:
        spend(
            respond,
            body,
            f"Trying the {what} again, started by <@{who.user_id}>; the result follows.",
        )
    finally:
        with changing(context, who) as rows:
            queue.release(rows.session, job_id)
        services(context).jobs.wake()


def cancel_job(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    who = button_admin(context, body)
    with changing(context, who) as rows:
        job = queue.request_cancel(rows.session, button_id(body), who.company_id)
        state = job.state
    text = "Cancelled." if state.value == "canceled" else "Stopping after the day in progress…"
    respond(text=text, response_type="ephemeral", replace_original=False)


def catch_up_days(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    value: CatchUpValue = _value(body, CatchUpValue)
    who = button_admin(context, body, value.company_id)
    svc = services(context)
    with reading(context, who) as rows:
        location = rows.location(value.location_id)
        days = catch_up_range(location, value.first, value.last)
        done = rows.transferred_days(location, value.first, value.last)
        missing = [day for day in days if day not in done]
        jobs = catch_up(location, missing, who.audit)
        name = location.name
    queued = svc.jobs.enqueue_many(jobs)
    if not queued:  # pressed again (a stale copy, a second admin): the first press's note stands
        state = (
            "already transferred"
            if not missing
            else f"already being caught up ({len(days) - len(missing)} of them transferred "
            "so far; nothing more was queued)"
        )
        respond(
            text=f"The {plural(len(days), 'day')} of {escape(name)}: {state}.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    spend(
        respond,
        body,
        f"Catching up {plural(queued, 'day')} of {escape(name)}; failures are reported here.",
    )


def reconnect(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """The fix for credentials that stopped working: SIDES asks for them again, Lightspeed
    sends the admin through its authorization."""
    ack()
    who = button_admin(context, body)
    svc = services(context)
    channel = channel_of(body)
    with reading(context, who) as rows:
        connection = rows.get(Connection, button_id(body))
        provider, connection_id = connection.provider, connection.id
    if provider is Provider.SIDES:
        metadata = ConnectSidesMetadata(
            channel_id=channel, company_id=who.company_id, connection_id=connection_id
        )
        client.views_open(
            trigger_id=body["trigger_id"], view=connect_sides_modal(metadata.dump(), updating=True)
        )
        return
    url = connections.start_lightspeed(
        svc.factory,
        svc.settings,
        company_id=who.company_id,
        started_by=who.audit,
        notify=notify(context, channel),
        reauthorize=True,
        in_browser=True,
    )
    respond(
        **message("Reconnect Lightspeed", lightspeed_blocks(url)),
        response_type="ephemeral",
        replace_original=False,
    )


def register(app: App) -> None:
    app.action(ActionId.TRANSFER_POST)(post_transfer)
    app.action(ActionId.TRANSFER_UNMAPPED)(show_unmapped)
    app.action(ActionId.LOCATION_ACTIVATE)(_location_action(_activate(True)))
    app.action(ActionId.LOCATION_DEACTIVATE)(_location_action(_activate(False)))
    app.action(ActionId.LOCATION_PAUSE)(_location_action(_automatic(False)))
    app.action(ActionId.LOCATION_RESUME)(_location_action(_automatic(True)))
    app.action(ActionId.LOCATION_STORAGE)(_location_action(_storage))
    app.action(ActionId.LOCATION_MIGRATE)(migrate_location)
    app.action(ActionId.JOB_RETRY)(retry_job)
    app.action(ActionId.JOB_CANCEL)(cancel_job)
    app.action(ActionId.CATCH_UP)(catch_up_days)
    app.action(ActionId.CONNECTION_RECONNECT)(reconnect)
    app.action(ActionId.LIGHTSPEED_AUTHORIZE)(lambda ack: ack())
