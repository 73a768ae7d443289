"""Slash commands ``/pos``, ``/transfer`` and ``/ledger``.

Each acknowledges at once, then parses its text; reads answer privately right away, long work
(syncs, fetching a day) goes to the work queue and reports in the channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.blocks.common import message
from bot.blocks.doctor import doctor_blocks
from bot.blocks.ledger import TOTALS_SHOWN, balances_blocks, totals_blocks, totals_csv
from bot.blocks.mapping import mappings_blocks, unmapped_blocks
from bot.blocks.pos import LocationRow, connect_sides_modal, lightspeed_blocks, locations_blocks
from bot.blocks.transfer import failure_blocks, report_blocks
from bot.blocks.usage import help_blocks
from bot.metadata import ConnectSidesMetadata, TransferValue
from bot.progress import ProgressMessage
from bot.text import render
from core import ledger
from core.access import Actor, NotAllowed, bind_channel, company_for, link_workspace, set_role
from core.db import unit_of_work
from core.doctor import diagnose
from core.errors import StockpotError, UnauthorizedCompanyAccess, ValidationFailed
from core.locations import set_automatic
from core.mapping import list_mappings
from core.migration import DEFAULT_DAYS, migrate
from core.models import (
    Company,
    Connection,
    ExternalLocation,
    Member,
    Provider,
    Role,
    RunKind,
    StorageUnit,
    WorkspaceCompany,
)
from core.pos import connections
from core.storage import create_storage_unit, storage_units
from core.transfer.log import last_run, runs_of_day
from core.unmapped import coverage, unmapped
from handlers.context import Services, actor, post, services

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


class UsageError(StockpotError):
    code = "usage"


@dataclass
class Invocation:
    command: str
    args: list[str]
    team_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    context: BoltContext
    client: WebClient
    respond: Respond

    @property
    def services(self) -> Services:
        return services(self.context)

    def actor(self) -> Actor:
        return actor(self.context, self.channel_id)

    def reply(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """A private answer to the person who typed the command."""
        self.respond(**message(text, blocks or []), response_type="ephemeral")


Subcommand = Callable[[Invocation], None]


def _run(table: dict[str, Subcommand], default: Subcommand | None) -> Callable[..., None]:
    def listener(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        words = command.get("text", "").split()
        invocation = Invocation(
            command=command["command"],
            args=words[1:],
            team_id=command["team_id"],
            user_id=command["user_id"],
            channel_id=command["channel_id"],
            trigger_id=command.get("trigger_id", ""),
            context=context,
            client=client,
            respond=respond,
        )
        name = words[0].lower() if words else "help"
        handler = table.get(name)
        if handler is None and default is not None:
            invocation.args = words
            handler = default
        if handler is None or name == "help":
            problem = None if name == "help" else f"`{command['command']} {name}` is not a command."
            invocation.reply(f"{command['command']} help", help_blocks(command["command"], problem))
            return
        try:
            handler(invocation)
        except UsageError as error:
            invocation.reply(str(error), help_blocks(command["command"], str(error)))

    return listener


# --- /pos ----------------------------------------------------------------------------------


def pos_setup(inv: Invocation) -> None:
    name = " ".join(inv.args).strip()
    if not name:
        raise UsageError("give the company's name: `/pos setup Trattoria Esempio`")
    with inv.services.factory() as session:
        linked = company_for(session, inv.team_id, None)
    if linked is not None:
        inv.actor().require_admin()
    elif not _installer(inv):
        user = inv.client.users_info(user=inv.user_id)["user"]
        if not (user.get("is_admin") or user.get("is_owner")):
            raise NotAllowed(
                "only the person who installed Stockpot, or a workspace admin or owner, can set "
                "it up for this workspace"
            )
    with unit_of_work(inv.services.factory) as session:
        company = session.scalar(select(Company).where(Company.name == name))
        if company is None:
            company = Company(name=name)
            session.add(company)
            session.flush()
        else:
            elsewhere = session.scalar(
                select(WorkspaceCompany.team_id).where(
                    WorkspaceCompany.company_id == company.id,
                    WorkspaceCompany.team_id != inv.team_id,
                )
            )
            if elsewhere is not None:
                raise UnauthorizedCompanyAccess(
                    f"{name} belongs to another workspace; its admins can link this one"
                )
        link_workspace(session, inv.team_id, company, inv.user_id)
    inv.reply(f"This workspace now works for {name}, and you are its first admin.")


def _installer(inv: Invocation) -> bool:
    """Whether the requester installed the app into this workspace (multi-workspace mode)."""
    store = inv.services.installations
    if store is None:
        return False
    installation = store.find_installation(enterprise_id=None, team_id=inv.team_id)
    return installation is not None and installation.user_id == inv.user_id


def pos_locations(inv: Invocation) -> None:
    who = inv.actor()
    with inv.services.factory() as session:
        units = dict(
            session.execute(
                select(StorageUnit.id, StorageUnit.name).where(
                    StorageUnit.company_id == who.company_id
                )
            )
            .tuples()
            .all()
        )
        rows = [
            LocationRow(
                id=location.id,
                name=location.name,
                connection=location.connection.label,
                storage_unit=units.get(location.storage_unit_id or 0),
                active=location.active,
                automatic_transfer=location.automatic_transfer.value,
                storage_unit_id=location.storage_unit_id,
            )
            for location in session.scalars(
                select(ExternalLocation)
                .where(ExternalLocation.company_id == who.company_id)
                .order_by(ExternalLocation.name)
            )
        ]
    blocks = locations_blocks(
        who.company, rows, admin=who.is_admin, units=sorted(units.items(), key=lambda u: u[1])
    )
    inv.reply(f"Locations of {who.company}", blocks)


def pos_connect(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    provider = inv.args[0].lower() if inv.args else ""
    if provider == "sides":
        with inv.services.factory() as session:
            existing = session.scalar(
                select(Connection).where(
                    Connection.company_id == who.company_id, Connection.provider == Provider.SIDES
                )
            )
            connection_id = existing.id if existing else None
        metadata = ConnectSidesMetadata(
            channel_id=inv.channel_id, company_id=who.company_id, connection_id=connection_id
        )
        view = connect_sides_modal(metadata.dump(), updating=connection_id is not None)
        inv.client.views_open(trigger_id=inv.trigger_id, view=view)
    elif provider == "lightspeed":
        with inv.services.factory() as session:
            existing = session.scalar(
                select(Connection).where(
                    Connection.company_id == who.company_id,
                    Connection.provider == Provider.LIGHTSPEED,
                )
            )
        url = connections.start_lightspeed(
            inv.services.factory,
            inv.services.settings,
            company_id=who.company_id,
            started_by=f"slack:{inv.team_id}:{inv.user_id}",
            notify=(inv.channel_id, inv.user_id),
            reauthorize=existing is not None,
        )
        inv.reply("Connect Lightspeed", lightspeed_blocks(url))
    else:
        raise UsageError("connect what? `/pos connect sides` or `/pos connect lightspeed`")


def _pos_connections(who: Actor, inv: Invocation) -> list[tuple[int, str]]:
    with inv.services.factory() as session:
        found = [
            (c.id, c.label)
            for c in session.scalars(
                select(Connection)
                .where(Connection.company_id == who.company_id, Connection.provider != Provider.CSV)
                .order_by(Connection.id)
            )
        ]
    if not found:
        raise ValidationFailed(
            f"{who.company} has no POS connection: `/pos connect sides` or "
            "`/pos connect lightspeed`"
        )
    return found


def pos_test(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    found = _pos_connections(who, inv)
    inv.reply(f"Testing {len(found)} connection(s)…")

    def work() -> None:
        lines = []
        for connection_id, label in found:
            try:
                result = connections.test_connection(
                    inv.services.factory, inv.services.settings, connection_id
                )
                lines.append(f":white_check_mark: {label}: {result}")
            except StockpotError as error:
                lines.append(f":x: {label}: {error}")
        inv.reply("\n".join(lines))

    inv.services.work.submit(work)


def pos_sync(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    found = _pos_connections(who, inv)
    inv.reply(f"Syncing {len(found)} connection(s); progress and summary follow in this channel.")

    def work() -> None:
        title = f"Sync for {who.company}"
        progress = ProgressMessage(inv.client, inv.channel_id, f"{title}: starting…")
        lines = []
        for connection_id, label in found:
            factory, settings = inv.services.factory, inv.services.settings
            try:
                progress.update(f"{title}: {label}, locations…")
                located = connections.sync_locations(factory, settings, connection_id)
                progress.update(f"{title}: {label}, items…")
                items = connections.sync_items(factory, settings, connection_id)
                lines.append(f"*{label}*: locations {located}; items {items}")
            except StockpotError as error:
                lines.append(f"*{label}*: :x: {error}")
        progress.finish(f"{title}, done\n" + "\n".join(lines))

    inv.services.work.submit(work)


def pos_members(inv: Invocation) -> None:
    who = inv.actor()
    if not inv.args:
        with inv.services.factory() as session:
            members = session.scalars(
                select(Member).where(
                    Member.company_id == who.company_id, Member.team_id == inv.team_id
                )
            ).all()
            listing = "\n".join(f"<@{m.user_id}>: {m.role.value}" for m in members)
        inv.reply(f"Members of {who.company}:\n{listing or 'none'}")
        return
    who.require_admin()
    action = inv.args[0].lower()
    mention = MENTION.match(inv.args[1]) if len(inv.args) > 1 else None
    if action not in ("add", "remove") or mention is None:
        raise UsageError(
            "`/pos members add @someone admin|viewer` or `/pos members remove @someone`"
        )
    user_id = mention.group(1)
    role = None
    if action == "add":
        wanted = inv.args[2].lower() if len(inv.args) > 2 else "viewer"
        if wanted not in (Role.ADMIN.value, Role.VIEWER.value):
            raise UsageError(f"the role is admin or viewer, not '{wanted}'")
        role = Role(wanted)
    if user_id == inv.user_id and role is not Role.ADMIN:
        raise ValidationFailed("you cannot remove your own admin role; ask another admin")
    with unit_of_work(inv.services.factory) as session:
        set_role(session, who.company_id, inv.team_id, user_id, role)
    inv.reply(
        f"<@{user_id}> is {'now ' + role.value if role else 'no longer a member'} of {who.company}."
    )


def pos_storage(inv: Invocation) -> None:
    who = inv.actor()
    if inv.args and inv.args[0].lower() == "add":
        who.require_admin()
        name, sep, address = " ".join(inv.args[1:]).partition("|")
        if not sep:
            raise UsageError("`/pos storage add <name> | <address>`")
        with unit_of_work(inv.services.factory) as session:
            unit = create_storage_unit(session, who.company_id, name, address)
            created = unit.name
        inv.reply(f"Storage unit {created} created; link locations to it with `/pos locations`.")
        return
    with inv.services.factory() as session:
        rows = storage_units(session, who.company_id)
    lines = [
        f"*{r.name}* · {r.address} · {r.locations} location(s)"
        + (" · archived" if r.archived else "")
        for r in rows
    ]
    inv.reply(
        "\n".join([f"Storage units of {who.company}", *lines])
        if lines
        else "No storage units yet: `/pos storage add <name> | <address>`"
    )


def pos_mappings(inv: Invocation) -> None:
    who = inv.actor()
    with inv.services.factory() as session:
        company = session.get_one(Company, who.company_id)
        rows = list_mappings(session, company)
        share = coverage(session, who.company_id)
    blocks = mappings_blocks(who.company, rows, share, admin=who.is_admin)
    inv.reply(f"Mappings of {who.company}", blocks)


def pos_doctor(inv: Invocation) -> None:
    who = inv.actor()
    name = " ".join(inv.args).strip() or None
    inv.reply("Running the checks…")

    def work() -> None:
        checks = diagnose(inv.services.factory, inv.services.settings, who, name)
        inv.reply(f"Checks for {who.company}", doctor_blocks(who.company, checks))

    inv.services.work.submit(work)


def pos_bind(inv: Invocation) -> None:
    """Make this channel speak for the company (CSV files shared here are read for it)."""
    who = inv.actor()
    who.require_admin()
    with unit_of_work(inv.services.factory) as session:
        bind_channel(session, inv.team_id, inv.channel_id, who.company_id)
    inv.reply(f"This channel now works for {who.company}.")


def pos_unmapped(inv: Invocation) -> None:
    who = inv.actor()
    with inv.services.factory() as session:
        rows = unmapped(session, who.company_id)
    inv.reply(
        f"Unmapped items of {who.company}", unmapped_blocks(who.company, rows, admin=who.is_admin)
    )


# --- /transfer -----------------------------------------------------------------------------


def _parse_day(text: str) -> date:
    today = date.today()  # noqa: DTZ011 - the requester's "yesterday" is close enough to ours
    if text == "yesterday":
        return today - timedelta(days=1)
    if text == "today":
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"'{text}' is not a date: use YYYY-MM-DD, `yesterday` or `today`"
        ) from None


def transfer_day(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    args = [a for a in inv.args if a != "--now"]
    now = len(args) != len(inv.args)
    if not args:
        raise UsageError("which day? `/transfer yesterday` or `/transfer 2026-11-27 Main room`")
    day = _parse_day(args[0].lower())
    name = " ".join(args[1:])
    with inv.services.factory() as session:
        query = select(ExternalLocation).where(ExternalLocation.company_id == who.company_id)
        if name:
            query = query.where(ExternalLocation.name == name)
        else:
            query = query.where(ExternalLocation.active.is_(True))
        targets = [
            (location.id, location.name)
            for location in session.scalars(query.order_by(ExternalLocation.name))
            if location.connection.provider is not Provider.CSV
        ]
    if not targets:
        raise ValidationFailed(
            f"no location '{name}' with a POS in {who.company}"
            if name
            else f"{who.company} has no active POS location; see `/pos locations`"
        )
    verb = "Posting" if now else "Previewing"
    inv.reply(f"{verb} {day} for {', '.join(n for _, n in targets)}; the result follows here.")
    for location_id, location_name in targets:
        inv.services.work.submit(
            run_transfer_job,
            inv.services,
            inv.client,
            inv.channel_id,
            location_id,
            location_name,
            day,
            not now,
            f"slack:{inv.user_id}",
        )


def run_transfer_job(
    svc: Services,
    client: WebClient,
    channel: str,
    location_id: int,
    location_name: str,
    day: date,
    preview: bool,
    triggered_by: str,
) -> None:
    """Fetch and transfer (or preview) one day, and report it in the channel."""
    try:
        report = connections.transfer_day(
            svc.factory,
            svc.settings,
            location_id,
            day,
            kind=RunKind.MANUAL,
            triggered_by=triggered_by,
            dry_run=preview,
        )
    except StockpotError as error:
        post(
            client,
            channel,
            message(
                f"Not transferred: {location_name}",
                failure_blocks(location_name, str(day), str(error)),
            ),
        )
        return
    value = TransferValue(location_id=location_id, business_date=day).dump() if preview else None
    post(
        client,
        channel,
        message(f"Transfer of {location_name}, {day}", report_blocks(report, post_value=value)),
    )


def _company_locations(inv: Invocation, who: Actor, name: str) -> list[ExternalLocation]:
    query = (
        select(ExternalLocation)
        .where(ExternalLocation.company_id == who.company_id)
        .options(selectinload(ExternalLocation.connection))
    )
    if name and name != "all":
        query = query.where(ExternalLocation.name == name)
    with inv.services.factory() as session:
        found = list(session.scalars(query.order_by(ExternalLocation.name)))
    if not found:
        raise ValidationFailed(f"no location '{name}' in {who.company}; see `/pos locations`")
    return found


def _set_automatic(active: bool) -> Subcommand:
    def run(inv: Invocation) -> None:
        who = inv.actor()
        who.require_admin()
        name = " ".join(inv.args)
        if not name:
            verb = "resume" if active else "pause"
            raise UsageError(f"which location? `/transfer {verb} <location>` or `all`")
        ids = [location.id for location in _company_locations(inv, who, name)]
        with unit_of_work(inv.services.factory) as session:
            for location_id in ids:
                set_automatic(session.get_one(ExternalLocation, location_id), active)
        state = "resumed" if active else "paused (setup and history are kept)"
        inv.reply(f"Automatic transfers {state} for {len(ids)} location(s).")

    return run


def transfer_status(inv: Invocation) -> None:
    who = inv.actor()
    lines = []
    with inv.services.factory() as session:
        for location in session.scalars(
            select(ExternalLocation)
            .where(ExternalLocation.company_id == who.company_id)
            .order_by(ExternalLocation.name)
        ):
            last = last_run(session, location.id)
            latest = f"last run {last.business_date} {last.status.value}" if last else "no run yet"
            state = "active" if location.active else "inactive"
            lines.append(
                f"*{location.name}*: {state}, automatic {location.automatic_transfer.value}, "
                f"{latest}"
            )
    inv.reply("\n".join([f"Transfers of {who.company}", *lines]))


def transfer_log(inv: Invocation) -> None:
    who = inv.actor()
    if len(inv.args) < 2:
        raise UsageError("`/transfer log <location> <date>`")
    day = _parse_day(inv.args[-1].lower())
    name = " ".join(inv.args[:-1])
    with inv.services.factory() as session:
        location = session.scalar(
            select(ExternalLocation).where(
                ExternalLocation.company_id == who.company_id, ExternalLocation.name == name
            )
        )
        if location is None:
            raise ValidationFailed(f"no location '{name}' in {who.company}")
        runs = runs_of_day(session, location, day)
        lines = [
            f"run {r.id} · {r.kind.value} · {r.status.value}"
            + (f" · {r.outcome.value}" if r.outcome else "")
            + (f" · {r.stats.get('movements', 0)} movements" if r.stats else "")
            + (f" · {r.errors[0]}" if r.errors else "")
            for r in runs
        ]
    inv.reply(
        "\n".join([f"Transfer log of {name}, {day}:", *lines])
        if lines
        else f"No run of {name} for {day} yet."
    )


# --- /ledger -------------------------------------------------------------------------------


def ledger_balances(inv: Invocation) -> None:
    who = inv.actor()
    unit = " ".join(inv.args).strip() or None
    with inv.services.factory() as session:
        rows = ledger.balances(session, session.get_one(Company, who.company_id))
    if unit:
        rows = [row for row in rows if row.storage_unit == unit]
    inv.reply(f"Stock of {who.company}", balances_blocks(who.company, rows, unit))


def _period(text: str) -> tuple[date, date]:
    start, sep, end = text.partition("..")
    first = _parse_day(start)
    last = _parse_day(end) if sep else first
    if last < first:
        raise UsageError(f"the period {text} ends before it starts")
    return first, last


def ledger_movements(inv: Invocation) -> None:
    who = inv.actor()
    if not inv.args:
        raise UsageError(
            "which days? `/ledger yesterday` or `/ledger 2026-11-01..2026-11-27 Kitchen`"
        )
    first, last = _period(inv.args[0].lower())
    unit = " ".join(inv.args[1:]).strip() or None
    with inv.services.factory() as session:
        rows = ledger.movement_totals(
            session, session.get_one(Company, who.company_id), first, last, unit
        )
    period = str(first) if first == last else f"{first} to {last}"
    inv.reply(f"Movements of {who.company}", totals_blocks(who.company, period, rows, unit))
    if len(rows) > TOTALS_SHOWN:
        inv.client.files_upload_v2(
            channel=inv.channel_id,
            content=totals_csv(rows),
            filename=f"movements-{first}-{last}.csv",
            title=f"Movements of {who.company}, {period}",
        )


def register(app: App) -> None:
    app.command("/pos")(
        _run(
            {
                "setup": pos_setup,
                "locations": pos_locations,
                "connect": pos_connect,
                "test": pos_test,
                "sync": pos_sync,
                "members": pos_members,
                "unmapped": pos_unmapped,
                "bind": pos_bind,
                "storage": pos_storage,
                "mappings": pos_mappings,
                "doctor": pos_doctor,
                "migrate": pos_migrate,
            },
            None,
        )
    )
    app.command("/transfer")(
        _run(
            {
                "log": transfer_log,
                "pause": _set_automatic(False),
                "resume": _set_automatic(True),
                "status": transfer_status,
            },
            transfer_day,
        )
    )
    app.command("/ledger")(_run({"balances": ledger_balances}, ledger_movements))


def pos_migrate(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    days = DEFAULT_DAYS
    words = list(inv.args)
    if words and words[-1].isdigit():
        days = int(words.pop())
    name = " ".join(words)
    if not name:
        raise UsageError("`/pos migrate <location> [days]` (90 days unless you say)")
    found = _company_locations(inv, who, name)
    if len(found) != 1:
        raise UsageError("migrate one location at a time: `/pos migrate <location> [days]`")
    start_migration(inv.services, inv.client, inv.channel_id, who.user_id, found[0], days)
    inv.reply(f"Migrating {days} days of {name}; progress is in the channel.")


def start_migration(
    svc: Services,
    client: WebClient,
    channel: str,
    user_id: str,
    location: ExternalLocation,
    days: int = DEFAULT_DAYS,
) -> None:
    """Post the progress message and queue the migration (from the command or the button)."""
    if location.connection.provider is Provider.CSV:
        raise ValidationFailed(f"'{location.name}' is a CSV location: its history comes from files")
    progress = ProgressMessage(client, channel, f"Migrating {location.name}: 0/{days} days…")
    svc.work.submit(_migration_job, svc, progress, user_id, location.id, location.name, days)


def _migration_job(
    svc: Services,
    progress: ProgressMessage,
    user_id: str,
    location_id: int,
    name: str,
    days: int,
) -> None:
    try:
        result = migrate(
            svc.factory,
            svc.settings,
            location_id,
            days,
            triggered_by=f"slack:{user_id}",
            on_progress=lambda p: progress.update(f"Migrating {name}: {p.done}/{days} days…"),
        )
    except StockpotError as error:
        progress.finish(f"Migration of {name} not started: {error}")
        return
    progress.finish(render("migration_summary.txt", name=name, days=days, result=result))
