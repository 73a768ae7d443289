"""``stockpot pos``: connect a POS, test it, sync locations and items, set up locations."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import click

from stockpot.bot.cli.support import (
    emit_json,
    session_factory,
    session_scope,
    table,
)
from stockpot.core.access import Actor
from stockpot.core.db import unit_of_work
from stockpot.core.doctor import diagnose
from stockpot.core.locations import link_storage_unit, overview, set_active
from stockpot.core.lookup import company_by_name, connection_by_label, location_by_name
from stockpot.core.models import Role
from stockpot.core.pos import connections
from stockpot.core.settings import get_settings


@click.group()
def pos() -> None:
    """POS connections and their locations."""


@pos.command("connect-sides")
@click.option("--company", required=True)
@click.option("--username", required=True)
@click.password_option(
    "--password",
    envvar="SIDES_PASSWORD",
    confirmation_prompt=False,
    help="prompted for (hidden) unless SIDES_PASSWORD is set",
)
@click.option("--name", default="SIDES", show_default=True)
def connect_sides(company: str, username: str, password: str, name: str) -> None:
    """Test SIDES credentials and save the connection (nothing is saved if they fail)."""
    factory = session_factory()
    with session_scope() as session:
        company_id = company_by_name(session, company).id
    info = connections.connect_sides(
        factory,
        get_settings(),
        company_id=company_id,
        username=username,
        password=password,
        name=name,
    )
    click.echo(f"connected {info.label} for '{info.company}'; next: stockpot pos sync")


@pos.command("update-sides")
@click.option("--company", required=True)
@click.option("--connection", "label", default="sides:SIDES", show_default=True)
@click.option("--username", required=True)
@click.password_option("--password", envvar="SIDES_PASSWORD", confirmation_prompt=False)
def update_sides(company: str, label: str, username: str, password: str) -> None:
    """Replace SIDES credentials (tested first); stores, links and mappings are kept."""
    factory = session_factory()
    with session_scope() as session:
        connection_id = connection_by_label(session, company_by_name(session, company), label).id
    info = connections.update_sides_credentials(
        factory, get_settings(), connection_id, username=username, password=password
    )
    click.echo(f"{info.label} now signs in as {username}")


@pos.command("connect-lightspeed")
@click.option("--company", required=True)
@click.option("--reauthorize", is_flag=True, help="renew the existing connection's access")
def connect_lightspeed(company: str, reauthorize: bool) -> None:
    """Print the Lightspeed page to authorize Stockpot on (valid 10 minutes)."""
    factory = session_factory()
    with session_scope() as session:
        company_id = company_by_name(session, company).id
    url = connections.start_lightspeed(
        factory, get_settings(), company_id=company_id, started_by="cli", reauthorize=reauthorize
    )
    click.echo("Open this address, sign in to Lightspeed and allow access:\n")
    click.echo(url)
    click.echo(
        "\nLightspeed then sends you to the redirect address (a page there may say it was not "
        "started in that browser); copy that address and run: "
        "stockpot pos finish-lightspeed 'ADDRESS'"
    )


@pos.command("finish-lightspeed")
@click.argument("redirected_url")
def finish_lightspeed(redirected_url: str) -> None:
    """Complete a Lightspeed connection from the address Lightspeed redirected to."""
    query = parse_qs(urlsplit(redirected_url).query)
    if "error" in query:
        raise click.ClickException(f"Lightspeed answered: {query['error'][0]}")
    state, code = query.get("state", [""])[0], query.get("code", [""])[0]
    if not code:
        raise click.UsageError("that address has no 'code' parameter; copy the whole address")
    info = connections.complete_lightspeed(
        session_factory(), get_settings(), state=state, code=code, cookie=None
    )
    reads = info.account or "Lightspeed did not say which business"
    click.echo(f"connected {info.label} for '{info.company}' ({reads}); next: stockpot pos sync")


def _connection_id(company: str, label: str) -> int:
    with session_scope() as session:
        return connection_by_label(session, company_by_name(session, company), label).id


@pos.command("test")
@click.option("--company", required=True)
@click.option("--connection", "label", required=True, help="provider:name, e.g. sides:SIDES")
def test(company: str, label: str) -> None:
    """Check that the POS answers and accepts the stored credentials."""
    click.echo(
        connections.test_connection(
            session_factory(), get_settings(), _connection_id(company, label)
        )
    )


@pos.command("sync")
@click.option("--company", required=True)
@click.option(
    "--connection", "label", required=True, help="provider:name, e.g. lightspeed:Lightspeed"
)
@click.option("--items/--no-items", default=True, show_default=True, help="also refresh items")
def sync(company: str, label: str, items: bool) -> None:
    """Refresh the locations (and items) cached from the POS."""
    factory, settings = session_factory(), get_settings()
    connection_id = _connection_id(company, label)
    click.echo(f"locations: {connections.sync_locations(factory, settings, connection_id)}")
    if items:
        click.echo(f"items: {connections.sync_items(factory, settings, connection_id)}")


@pos.command("pace")
@click.option("--company", required=True)
@click.option("--connection", "label", required=True, help="provider:name, e.g. sides:SIDES")
@click.option(
    "--requests-per-second",
    "per_second",
    type=click.FloatRange(min=0, min_open=True, max=1000),
    help="this connection's own pace",
)
@click.option("--default", "to_default", is_flag=True, help="back to the setting or the POS's")
def pace(company: str, label: str, per_second: float | None, to_default: bool) -> None:
    """How many requests a second each process sends to this POS connection."""
    if (per_second is None) == (not to_default):
        raise click.UsageError("give --requests-per-second N or --default")
    policy = connections.set_pace(
        session_factory(), get_settings(), _connection_id(company, label), per_second
    )
    click.echo(f"{label} is paced at {policy.per_second:g} requests a second per process")


@pos.command("locations")
@click.option("--company", required=True)
@click.option("--json", "as_json", is_flag=True)
def locations(company: str, as_json: bool) -> None:
    """The company's POS locations, their storage unit and state."""
    with session_scope() as session:
        found, _ = overview(session, company_by_name(session, company).id)
    rows = [
        {
            "location": row.name,
            "connection": row.connection,
            "external_id": row.external_id,
            "timezone": row.timezone,
            "business_day_start": row.business_day_start.strftime("%H:%M"),
            "storage_unit": row.storage_unit,
            "active": row.active,
            "automatic_transfer": row.automatic_transfer,
        }
        for row in found
    ]
    if as_json:
        emit_json(rows)
        return
    table(
        [
            [
                r["location"],
                r["connection"],
                r["timezone"],
                r["business_day_start"],
                r["storage_unit"] or "-",
                "active" if r["active"] else "inactive",
            ]
            for r in rows
        ],
        ["LOCATION", "CONNECTION", "TIMEZONE", "DAY STARTS", "STORAGE UNIT", "STATE"],
    )


@pos.command("link")
@click.option("--location", required=True)
@click.option("--company")
@click.option("--storage-unit", required=True)
def link(location: str, company: str | None, storage_unit: str) -> None:
    """Take a location's sales from this storage unit."""
    with unit_of_work(session_factory()) as session:
        found = location_by_name(session, location, company)
        link_storage_unit(session, found, storage_unit)
    click.echo(f"'{location}' sales are taken from '{storage_unit}'")


@pos.command("activate")
@click.option("--location", required=True)
@click.option("--company")
@click.option("--off", "deactivate", is_flag=True, help="deactivate instead")
def activate(location: str, company: str | None, deactivate: bool) -> None:
    """Activate a linked location (or deactivate it with --off)."""
    with unit_of_work(session_factory()) as session:
        set_active(session, location_by_name(session, location, company), not deactivate)
    click.echo(f"'{location}' is {'inactive' if deactivate else 'active'}")


@pos.command("doctor")
@click.option("--company", required=True)
@click.option("--location", help="only this location")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="also check this day")
@click.option("--json", "as_json", is_flag=True)
def doctor(company: str, location: str | None, day: Any, as_json: bool) -> None:
    """The troubleshooting checks of `/pos doctor`; exits 1 when one fails."""
    factory = session_factory()
    with factory() as session:
        owner = company_by_name(session, company)
        operator = Actor("", "cli", owner.id, owner.name, Role.ADMIN)
    checks = diagnose(factory, get_settings(), operator, location, day.date() if day else None)
    if as_json:
        emit_json([check.__dict__ for check in checks])
    else:
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            click.echo(f"{mark} {check.subject}: {check.name} — {check.detail}")
    if not all(check.ok for check in checks):
        raise SystemExit(1)


def register(main: click.Group) -> None:
    main.add_command(pos)
