"""``/pos``: setup, connections, locations, storage, mapping lists, members, migrations and
the doctor."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError

from stockpot.bot.blocks.common import escape, message, plural, section
from stockpot.bot.blocks.doctor import doctor_blocks
from stockpot.bot.blocks.pos import connect_sides_modal, lightspeed_blocks, locations_blocks
from stockpot.bot.metadata import ConnectSidesMetadata
from stockpot.bot.missing_scope import missing_permission
from stockpot.core import periods, scope
from stockpot.core.access import (
    Actor,
    NotAllowed,
    bind_channel,
    company_for,
    set_role,
)
from stockpot.core.clock_time import parse_clock_time
from stockpot.core.db import unit_of_work
from stockpot.core.doctor import diagnose
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.jobs.specs import Notify
from stockpot.core.locations import overview
from stockpot.core.migration import DEFAULT_DAYS, days_of, plan, typed_days
from stockpot.core.models import (
    Company,
    ExternalLocation,
    Provider,
    Role,
)
from stockpot.core.pos import connections
from stockpot.core.reports import send_reports_to
from stockpot.core.scope import CompanyScope
from stockpot.core.storage import (
    archive_storage_unit,
    create_storage_unit,
    rename_storage_unit,
    storage_units,
)
from stockpot.core.words import quoted
from stockpot.core.workspaces import redeem_link_code, set_up_workspace
from stockpot.handlers.context import Services, post, unpostable
from stockpot.handlers.mapping import mappings_list, unmapped_list
from stockpot.handlers.pending import joined, queue_or_join
from stockpot.handlers.slash import Invocation, UsageError, company_locations, parse_day

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def pos_setup(inv: Invocation) -> None:
    name = " ".join(inv.args).strip()
    if not name:
        raise UsageError("give the company's name: `/pos setup Trattoria Esempio`")
    with inv.services.factory() as session:
        linked = company_for(session, inv.team_id, None)
    if linked is None and not _installer(inv):
        who = "only the person who installed Stockpot, or a workspace admin or owner, can set it up"
        try:
            user = inv.client.users_info(user=inv.user_id)["user"]
        except SlackApiError as error:
            refused = missing_permission(error)
            if refused is not None:
                raise refused from None
            # Slack could not say who pressed (user_not_found for some guests): no admin then.
            said = error.response.get("error", "an error")
            raise NotAllowed(
                f"Slack did not say whether you are a workspace admin ({said}); {who}"
            ) from None
        if not (user.get("is_admin") or user.get("is_owner")):
            raise NotAllowed(f"{who} for this workspace")
    with unit_of_work(inv.services.factory) as session:
        set_up_workspace(
            session,
            inv.team_id,
            inv.user_id,
            name,
            may_link_existing=inv.services.installations is None,
        )
    inv.reply(f"This workspace now works for {escape(name)}, and you are its first admin.")


def pos_link(inv: Invocation) -> None:
    """``/pos link <code>``: link this workspace to the company the operator's code is for."""
    if len(inv.args) != 1:
        raise UsageError(
            "give the code the operator printed with `stockpot slack link <company>`: "
            "`/pos link ABCD-EFGH-JKLM`"
        )
    with unit_of_work(inv.services.factory) as session:
        company = redeem_link_code(session, inv.team_id, inv.user_id, inv.args[0])
    inv.reply(f"This workspace now works for {escape(company)}, and you are an admin of it.")


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
        rows, units = overview(session, who.company_id)
    blocks = locations_blocks(who.company, rows, admin=who.is_admin, units=units)
    inv.reply(f"Locations of {escape(who.company)}", blocks)


def pos_connect(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    provider = inv.args[0].lower() if inv.args else ""
    if provider == "sides":
        with inv.reading(who) as rows:
            existing = rows.connection(Provider.SIDES)
            connection_id = existing.id if existing else None
        metadata = ConnectSidesMetadata(
            channel_id=inv.channel_id, company_id=who.company_id, connection_id=connection_id
        )
        view = connect_sides_modal(metadata.dump(), updating=connection_id is not None)
        inv.client.views_open(trigger_id=inv.trigger_id, view=view)
    elif provider == "lightspeed":
        with inv.reading(who) as rows:
            existing = rows.connection(Provider.LIGHTSPEED)
        url = connections.start_lightspeed(
            inv.services.factory,
            inv.services.settings,
            company_id=who.company_id,
            started_by=who.audit,
            notify=inv.notify(),
            reauthorize=existing is not None,
            in_browser=True,
        )
        inv.reply("Connect Lightspeed", lightspeed_blocks(url))
    else:
        raise UsageError("connect what? `/pos connect sides` or `/pos connect lightspeed`")


def _pos_connections(who: Actor, inv: Invocation) -> list[tuple[int, str]]:
    with inv.reading(who) as rows:
        found = [(c.id, c.shown) for c in rows.pos_connections()]
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
    inv.reply(f"Testing {plural(len(found), 'connection')}…")

    def work() -> None:
        lines = []
        for connection_id, label in found:
            try:
                result = connections.test_connection(
                    inv.services.factory, inv.services.settings, connection_id
                )
                lines.append(f":white_check_mark: {escape(label)}: {escape(str(result))}")
            except StockpotError as error:
                lines.append(f":x: {escape(label)}: {escape(str(error))}")
        inv.reply("\n".join(lines))

    inv.services.work.submit(work)


def pos_sync(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    found = _pos_connections(who, inv)
    here = inv.notify()
    started, joins = queue_or_join(
        inv.services,
        here,
        (
            (
                specs.sync(who.company_id, connection_id, triggered_by=who.audit, notify=here),
                escape(label),
                f"sync of {escape(label)}",
            )
            for connection_id, label in found
        ),
    )
    lines = (
        [
            f"Syncing {plural(len(started), 'connection')}; progress and summary follow in "
            "this channel."
        ]
        if started
        else []
    )
    inv.reply("\n".join([*lines, *joins]))


def pos_members(inv: Invocation) -> None:
    who = inv.actor()
    if not inv.args:
        with inv.reading(who) as rows:
            members = rows.members()
            listing = "\n".join(f"<@{m.user_id}>: {m.role.value}" for m in members)
        inv.reply(f"Members of {escape(who.company)}:\n{listing or 'none'}")
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
    if role is not None:
        _refuse_non_person(inv, user_id)
    with unit_of_work(inv.services.factory) as session:
        set_role(session, who.company_id, inv.team_id, user_id, role)
    inv.reply(
        f"<@{user_id}> is {'now ' + role.value if role else 'no longer a member'} of "
        f"{escape(who.company)}."
    )


SLACKBOT = "USLACKBOT"
"""Slack's own bot, which ``users.info`` describes with ``is_bot`` false."""


def _refuse_non_person(inv: Invocation, user_id: str) -> None:
    """A role is for a person of this workspace, as ``users.info`` tells: not a bot, not a
    deactivated account, not an id Slack does not know here, not someone of another workspace
    seen in a shared channel (whose commands come from their own workspace, so the role would
    never apply). Removing stays open to any id, a deactivated member's above all."""
    named = (user_id,)
    bot = ValidationFailed("you named a bot: roles are for people", mention=named)
    if user_id == SLACKBOT:
        raise bot
    try:
        user = inv.client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        refused = missing_permission(error)
        if refused is not None:
            raise refused from None
        said = error.response.get("error", "an error")
        if said == "user_not_found":
            raise ValidationFailed(
                f"Slack knows no user `{user_id}` in this workspace: pick the person from the "
                "list Slack shows as you type @"
            ) from None
        raise ValidationFailed(
            f"Slack did not say who `{user_id}` is ({said}); nothing was changed, try again"
        ) from None
    if user.get("is_bot"):
        raise bot
    if user.get("deleted"):
        raise ValidationFailed(
            "you named an account deactivated in this Slack workspace: roles are for people "
            "who can sign in",
            mention=named,
        )
    if user.get("team_id") != inv.team_id:
        raise ValidationFailed(
            "you named someone of another Slack workspace: roles are for people of this one",
            mention=named,
        )


STORAGE_USAGE = (
    "`/pos storage add <name> | <address>`, `/pos storage rename <name> | <new name>`, "
    "`/pos storage archive <name>` or `/pos storage unarchive <name>`"
)


def _storage_change(inv: Invocation, action: str) -> bool:
    """Rename, archive or unarchive; ``False`` when the words ask for something else."""
    if action not in ("rename", "archive", "unarchive"):
        return False
    who = inv.actor()
    who.require_admin()
    text = " ".join(inv.args[1:]).strip()
    if action == "rename":
        old, sep, new = text.partition("|")
        if not sep or not old.strip() or not new.strip():
            raise UsageError("`/pos storage rename <name> | <new name>`")

        def change(rows: CompanyScope) -> dict[str, Any]:
            before, unit = rename_storage_unit(rows.session, who.company_id, old, new)
            return message(
                f"Storage unit {escape(before)} is now called {escape(unit.name)}; "
                "its history follows.",
                [],
            )
    else:
        if not text:
            raise UsageError(f"`/pos storage {action} <name>`")

        def change(rows: CompanyScope) -> dict[str, Any]:
            unit = archive_storage_unit(
                rows.session, who.company_id, text, archived=action == "archive"
            )
            name = escape(unit.name)
            return message(
                f"Storage unit {name} is archived: hidden from choices, nothing can be posted "
                "to it, its history is kept. `/pos storage unarchive` brings it back."
                if action == "archive"
                else f"Storage unit {name} is in use again.",
                [],
            )

    inv.answer_once(who, "storage", change)
    return True


def pos_storage(inv: Invocation) -> None:
    who = inv.actor()
    if inv.args and _storage_change(inv, inv.args[0].lower()):
        return
    if inv.args and inv.args[0].lower() != "add":
        raise UsageError(f"what should change? {STORAGE_USAGE}")
    if inv.args and inv.args[0].lower() == "add":
        who.require_admin()
        name, sep, address = " ".join(inv.args[1:]).partition("|")
        if not sep:
            raise UsageError("`/pos storage add <name> | <address>`")

        def create(rows: CompanyScope) -> dict[str, Any]:
            unit = create_storage_unit(rows.session, who.company_id, name, address)
            return message(
                f"Storage unit {escape(unit.name)} created; link locations to it with "
                "`/pos locations`.",
                [],
            )

        inv.answer_once(who, "storage", create)
        return
    with inv.services.factory() as session:
        rows = storage_units(session, who.company_id)
    lines = [
        f"*{escape(r.name)}* · {escape(r.address or '')} · {plural(r.locations, 'location')}"
        + (" · archived" if r.archived else "")
        for r in rows
    ]
    inv.reply(
        "\n".join([f"Storage units of {escape(who.company)}", *lines])
        if lines
        else "No storage units yet: `/pos storage add &lt;name&gt; | &lt;address&gt;`"
    )


def pos_mappings(inv: Invocation) -> None:
    """``/pos mappings [text]``: the mapped and ignored items, searched and paged."""
    inv.reply(*mappings_list(inv.services.factory, inv.actor(), " ".join(inv.args).strip()))


def doctor_args(words: list[str], today: date) -> tuple[str | None, date | None]:
    """``[location] [date]``: the last word is the day when it reads as one."""
    day = None
    if words:
        try:
            day = periods.parse_day(words[-1], today)
            words = words[:-1]
        except periods.PeriodError:
            day = None
    return " ".join(words).strip() or None, day


def pos_doctor(inv: Invocation) -> None:
    who = inv.actor()
    name, day = doctor_args(inv.args, inv.today(who))
    inv.reply("Running the checks…")

    def work() -> None:
        checks = diagnose(inv.services.factory, inv.services.settings, who, name, day)
        inv.reply(f"Checks for {escape(who.company)}", doctor_blocks(who.company, checks))

    inv.services.work.submit(work)


def pos_bind(inv: Invocation) -> None:
    """Make this channel speak for the company (CSV files shared here are read for it)."""
    who = inv.actor()
    who.require_admin()
    with unit_of_work(inv.services.factory) as session:
        bind_channel(session, inv.team_id, inv.channel_id, who.company_id)
    inv.reply(f"This channel now works for {escape(who.company)}.")


def pos_unmapped(inv: Invocation) -> None:
    inv.reply(*unmapped_list(inv.services.factory, inv.actor()))


def pos_migrate(inv: Invocation) -> None:
    who = inv.actor()
    who.require_admin()
    name, written = typed_days(list(inv.args))
    if not name:
        raise UsageError("`/pos migrate <location> [days]` (90 days unless you say)")
    found = company_locations(inv, who, name)
    if len(found) != 1:
        raise UsageError("migrate one location at a time: `/pos migrate <location> [days]`")
    inv.reply(start_migration(inv.services, who, inv.notify(), found[0], days_of(written)))


def start_migration(
    svc: Services, who: Actor, notify: Notify, location: ExternalLocation, days: int = DEFAULT_DAYS
) -> str:
    """Queue the migration (from the command or a button) and say what happens next (mrkdwn,
    the name escaped)."""
    if location.connection.provider.from_files:
        raise ValidationFailed(f"'{location.name}' is a CSV location: its history comes from files")
    with scope.reading(svc.factory, who) as rows:
        plan(rows.session, rows.location(location.id), days)
    queued = svc.jobs.enqueue(
        specs.migration(
            location.company_id,
            location.id,
            days,
            triggered_by=who.audit,
            notify=notify,
        )
    )
    name = escape(location.name)
    return joined(svc, queued, notify, f"migration of {name}") or (
        f"Migrating {days} days of {name}; progress is in the channel."
    )


def _report_clock(company: Company) -> str:
    """When the company's report goes: ``07:30 (Europe/Berlin)``."""
    zone = company.report_timezone or "the first location's timezone"
    return f"{company.report_time:%H:%M} ({escape(zone)})"


def _announce_reports(inv: Invocation, company: Company) -> None:
    """Say in the channel, for everyone in it, that the reports come there: first of all, a
    post Slack refuses (a private channel or a DM the bot is not in) refuses the setting, which
    would otherwise lose every report to a channel nobody could read them in."""
    text = (
        f"The daily report of {escape(company.name)} and its alerts come to this channel at "
        f"{_report_clock(company)}, set by <@{inv.user_id}>. `/pos report off` stops them."
    )
    try:
        post(inv.client, inv.channel_id, message(text, [section(text)]))
    except SlackApiError as error:
        code = unpostable(error)
        if code is None:
            raise
        raise ValidationFailed(
            f"I cannot post in this channel (Slack answered `{code}`), so no report could "
            "reach it: invite me with `/invite @Stockpot` and run `/pos report here` again, "
            "or run it in a channel I am in. Nothing was changed."
        ) from None


REPORT_USAGE = (
    "`/pos report here [HH:MM] [timezone]`, `/pos report off` or `/pos report now [date]`"
)
REPORT_WORDS = {"now": 2, "here": 3, "off": 1}
"""How many words each ``/pos report`` takes, its own included."""


def pos_report(inv: Invocation) -> None:
    """``/pos report``: show, set (``here [HH:MM] [timezone]``), stop (``off``) or send now."""
    who = inv.actor()
    action = inv.args[0].lower() if inv.args else ""
    most = REPORT_WORDS.get(action)
    if most is not None and len(inv.args) > most:
        # 'here 07:30 Europe/Berlin extra' set 07:30 in Berlin and dropped the rest unsaid
        raise UsageError(f"{REPORT_USAGE} ({quoted(' '.join(inv.args[most:]))} is more)")
    if action == "now":
        who.require_admin()  # the report goes to the channel, for everyone in it to read
        day = parse_day(inv.args[1].lower() if len(inv.args) > 1 else "yesterday", inv.today(who))
        here = inv.notify()
        queued = inv.services.jobs.enqueue(specs.report(who.company_id, day, notify=here))
        note = joined(inv.services, queued, here, f"report of {day}")
        inv.reply(note or f"The report of {day} follows in this channel.")
        return
    if action in ("here", "off"):
        who.require_admin()
        at = parse_clock_time(inv.args[1]) if action == "here" and len(inv.args) > 1 else None
        timezone = inv.args[2] if action == "here" and len(inv.args) > 2 else None
        with inv.changing(who) as rows:
            company = rows.company()
            if action == "off":
                send_reports_to(company, None, None)
            else:
                send_reports_to(company, inv.team_id, inv.channel_id, at, timezone)
                _announce_reports(inv, company)
                return
    elif action:
        raise UsageError(REPORT_USAGE)
    with inv.reading(who) as rows:
        company = rows.company()
        if company.report_channel_id is None:
            inv.reply(
                f"{escape(who.company)} gets no daily report: `/pos report here [HH:MM]` sends "
                "it to a channel."
            )
            return
        inv.reply(
            f"The daily report of {escape(who.company)} and its alerts go to "
            f"<#{company.report_channel_id}> at {_report_clock(company)}."
        )
