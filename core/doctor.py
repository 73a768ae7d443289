"""``/pos doctor``: the product's troubleshooting checklists, run for real, each check with
what to do when it fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.access import Actor
from stockpot.core.company_clock import company_zone
from stockpot.core.errors import StockpotError
from stockpot.core.lookup import not_found
from stockpot.core.migration import migration_running
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    PosItem,
    RunStatus,
    StorageUnit,
    TransferDay,
    TransferRun,
)
from stockpot.core.pos import connections
from stockpot.core.settings import Settings
from stockpot.core.storage import archived_refusal
from stockpot.core.transfer.log import last_run, latest_day_run
from stockpot.core.unmapped import WINDOW_DAYS, unmapped
from stockpot.core.words import grouped, local_time, plural


@dataclass(frozen=True)
class Check:
    subject: str
    name: str
    ok: bool
    detail: str
    """What was found, or how to fix it."""


def diagnose(
    factory: sessionmaker[Session],
    settings: Settings,
    who: Actor,
    location: str | None = None,
    day: date | None = None,
) -> list[Check]:
    """Every check, for the company or one location, and for ``day`` when given. A check
    that has nothing to look at (no transfer yet) says so instead of passing."""
    checks = [
        Check(
            who.company,
            "admin rights",
            who.is_admin,
            "you can change the setup"
            if who.is_admin
            else "you can read only; an admin adds you with `/pos members add @you admin`",
        )
    ]
    with factory() as session:
        linked = session.scalars(
            select(Connection)
            .where(Connection.company_id == who.company_id)
            .order_by(Connection.id)
        ).all()
        targets = [(c.id, c.shown) for c in linked if not c.provider.from_files]
        files = [c.shown for c in linked if c.provider.from_files]
        synced = {c.id: connections.items_synced_at(c) for c in linked if not c.provider.from_files}
        zone = company_zone(session, session.get_one(Company, who.company_id))
        items = {
            connection_id: (count, from_sales)
            for connection_id, count, from_sales in session.execute(
                select(
                    PosItem.connection_id,
                    func.count(PosItem.id),
                    func.count(PosItem.first_seen_in_sales_at),
                )
                .where(PosItem.company_id == who.company_id)
                .group_by(PosItem.connection_id)
            )
        }
    if not targets and not files:
        checks.append(
            Check(
                who.company,
                "sales source connected",
                False,
                "connect a POS (`/pos connect sides|lightspeed`) or set up CSV imports "
                "(`/pos csv profile`)",
            )
        )
    for label in files:
        checks.append(
            Check(label, "sales source", True, "CSV imports: no POS login to test, no sync")
        )
    for connection_id, label in targets:
        try:
            found = connections.test_connection(factory, settings, connection_id)
            checks.append(Check(label, "credentials valid, POS reachable", True, found))
        except StockpotError as error:
            checks.append(Check(label, "credentials valid, POS reachable", False, str(error)))
        last = synced[connection_id]
        known, from_sales = items.get(connection_id, (0, 0))
        checks.append(
            Check(
                label,
                "items synced",
                last is not None,
                f"last synced {local_time(last, zone)}, {_known(known, from_sales)}"
                if last is not None
                else f"never synced ({plural(from_sales, 'item')} seen in sales): `/pos sync`",
            )
        )
    with factory() as session:
        checks.extend(_location_checks(session, who, location, day))
    return checks


def _known(known: int, from_sales: int) -> str:
    """What "items known" counts: a sync's "172 new" next to the doctor's "176 known" read as
    a miscount; the 4 were first seen in sales, not in the POS's item list."""
    if not from_sales:
        return f"{plural(known, 'item')} known"
    return (
        f"{plural(known, 'item')} known ({grouped(known - from_sales)} from the POS's item "
        f"list, {grouped(from_sales)} first seen in its sales)"
    )


def _location_checks(
    session: Session, who: Actor, name: str | None, day: date | None
) -> list[Check]:
    every = session.scalars(
        select(ExternalLocation)
        .where(ExternalLocation.company_id == who.company_id)
        .order_by(ExternalLocation.name)
    ).all()
    found = [loc for loc in every if name is None or loc.name.casefold() == name.casefold()]
    if name and not found:
        error = not_found("location", name, [loc.name for loc in every])
        return [Check(name, "location known", False, f"{error} (`/pos sync` refreshes the list)")]
    open_items = {row.key: row for row in unmapped(session, who.company_id)}
    checks: list[Check] = []
    for location in found:
        checks.extend(_one_location(session, location, open_items, day))
    return checks


def _one_location(
    session: Session, location: ExternalLocation, open_items: dict, day: date | None
) -> list[Check]:
    csv = location.connection.provider.from_files
    subject = location.name
    unit = session.get(StorageUnit, location.storage_unit_id) if location.storage_unit_id else None
    checks = [
        Check(
            subject,
            "location known",
            True,
            location.connection.shown + (", declared by the CSV profile" if csv else ""),
        ),
        Check(
            subject,
            "storage unit linked",
            unit is not None,
            unit.name
            if unit
            else "set it in the CSV profile (`/pos csv profile`)"
            if csv
            else "choose one in `/pos locations`",
        ),
    ]
    if unit is not None:
        same = unit.company_id == location.company_id
        checks.append(
            Check(
                subject,
                "storage unit of the same company",
                same,
                "yes" if same else "link a storage unit of this company",
            )
        )
        if unit.archived_at is not None:
            checks.append(Check(subject, "storage unit in use", False, archived_refusal(unit.name)))
    if not csv:
        checks.append(
            Check(
                subject,
                "active",
                location.active,
                "yes" if location.active else "activate it in `/pos locations`",
            )
        )
    migrating = migration_running(session, location.id)
    checks.append(
        Check(
            subject,
            "no migration running",
            not migrating,
            "a migration of its history is running: wait for its summary before activating "
            "or rerunning days"
            if migrating
            else "none",
        )
    )
    transferred = session.scalar(
        select(func.count())
        .select_from(TransferDay)
        .where(TransferDay.location_id == location.id, TransferDay.live_run_id.is_not(None))
    )
    first_step = (
        "upload a till export into a bound channel (`/pos csv`)"
        if csv
        else f"`/transfer yesterday {location.name}`"
    )
    if not transferred:
        checks.append(
            Check(
                subject,
                "items mapped",
                False,
                f"no transfers yet, so no sold item was checked: {first_step}",
            )
        )
    else:
        unmapped_here = [
            row for row in open_items.values() if any(lid == location.id for lid, _ in row.days)
        ]
        checks.append(
            Check(
                subject,
                "items mapped",
                not unmapped_here,
                f"every item sold in its {plural(transferred, 'transferred day')} is mapped"
                if not unmapped_here
                else f"{plural(len(unmapped_here), 'item')} sold here unmapped in the last "
                f"{WINDOW_DAYS} days: `/pos unmapped`",
            )
        )
    last = last_run(session, location.id)
    if last is None:
        checks.append(
            Check(subject, "last transfer succeeded", False, f"no transfer yet: {first_step}")
        )
    else:
        ok = last.status is not RunStatus.FAILED
        detail = (
            f"{last.business_date}: {_state(last)}"
            if ok
            else f"{last.business_date} failed: {(last.errors or ['?'])[0]}"
        )
        # The newest run may be a back-dated day or a preview; alone, its date reads as
        # "nothing transferred since then". Say the latest day the ledger holds as well,
        # and fail the check when that day's run failed (a rerun of an older day after it
        # showed a green "latest day …: failed").
        latest = latest_day_run(session, location.id)
        if ok and latest is not None and latest.business_date != last.business_date:
            ok = latest.status is not RunStatus.FAILED
            shown = (
                f"{latest.business_date}: {_state(latest)}"
                if ok
                else f"{latest.business_date} failed: {(latest.errors or ['?'])[0]}"
            )
            detail = f"latest day {shown} · last run {detail}"
        checks.append(Check(subject, "last transfer succeeded", ok, detail))
    if day is not None:
        checks.extend(_day_checks(session, location, day, csv))
    return checks


def _state(run: TransferRun) -> str:
    return run.outcome.value if run.outcome else run.status.value


def _day_checks(session: Session, location: ExternalLocation, day: date, csv: bool) -> list[Check]:
    """A chosen day: transferred or not, by which run, what stayed unmapped, a failure."""
    subject = f"{location.name}, {day}"
    live = session.scalar(
        select(TransferRun)
        .join(TransferDay, TransferDay.live_run_id == TransferRun.id)
        .where(TransferDay.location_id == location.id, TransferDay.business_date == day)
    )
    newest = session.scalar(
        select(TransferRun)
        .where(TransferRun.location_id == location.id, TransferRun.business_date == day)
        .order_by(TransferRun.id.desc())
        .limit(1)
    )
    checks: list[Check] = []
    if newest is not None and newest.status is RunStatus.FAILED:
        checks.append(
            Check(subject, "latest run succeeded", False, (newest.errors or ["no reason kept"])[0])
        )
    if live is None:
        again = (
            "upload that day's export (`/pos csv`)" if csv else f"`/transfer {day} {location.name}`"
        )
        checks.append(Check(subject, "transferred", False, f"not in the ledger: {again}"))
        return checks
    stats = live.stats or {}
    checks.append(
        Check(
            subject,
            "transferred",
            True,
            f"{live.kind.value} run: {plural(stats.get('lines', 0), 'line')}, "
            f"{plural(stats.get('movements', 0), 'movement')} · `/transfer log "
            f"{location.name} {day}` lists the day's runs",
        )
    )
    missing = live.unmapped or []
    names = ", ".join(str(entry.get("name")) for entry in missing[:5])
    checks.append(
        Check(
            subject,
            "items mapped that day",
            not missing,
            "every item sold that day is mapped"
            if not missing
            else f"{len(missing)} unmapped ({names}{', …' if len(missing) > 5 else ''}): map "
            "them in `/pos unmapped`, then Reprocess",
        )
    )
    return checks
