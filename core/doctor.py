"""``/pos doctor``: the product's troubleshooting checklists, run for real, each check with
what to do when it fails."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.access import Actor
from stockpot.core.errors import StockpotError
from stockpot.core.models import Connection, ExternalLocation, Provider, RunStatus, StorageUnit
from stockpot.core.pos import connections
from stockpot.core.settings import Settings
from stockpot.core.transfer.log import last_run
from stockpot.core.unmapped import unmapped


@dataclass(frozen=True)
class Check:
    subject: str
    name: str
    ok: bool
    detail: str
    """What was found, or how to fix it."""


def diagnose(
    factory: sessionmaker[Session], settings: Settings, who: Actor, location: str | None = None
) -> list[Check]:
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
            select(Connection).where(
                Connection.company_id == who.company_id, Connection.provider != Provider.CSV
            )
        ).all()
        targets = [(c.id, c.label) for c in linked]
    if not targets:
        checks.append(
            Check(
                who.company, "POS connected", False, "connect one: `/pos connect sides|lightspeed`"
            )
        )
    for connection_id, label in targets:
        try:
            found = connections.test_connection(factory, settings, connection_id)
            checks.append(Check(label, "credentials valid, POS reachable", True, found))
        except StockpotError as error:
            checks.append(Check(label, "credentials valid, POS reachable", False, str(error)))
    with factory() as session:
        checks.extend(_location_checks(session, who, location))
    return checks


def _location_checks(session: Session, who: Actor, name: str | None) -> list[Check]:
    query = select(ExternalLocation).where(ExternalLocation.company_id == who.company_id)
    if name:
        query = query.where(ExternalLocation.name == name)
    found = session.scalars(query.order_by(ExternalLocation.name)).all()
    if name and not found:
        return [Check(name, "location synced", False, "not found: run `/pos sync`, check the name")]
    open_items = {row.key: row for row in unmapped(session, who.company_id)}
    checks: list[Check] = []
    for location in found:
        unit = (
            session.get(StorageUnit, location.storage_unit_id) if location.storage_unit_id else None
        )
        checks.append(Check(location.name, "location synced", True, location.connection.label))
        checks.append(
            Check(
                location.name,
                "storage unit linked",
                unit is not None,
                unit.name if unit else "choose one in `/pos locations`",
            )
        )
        if unit is not None:
            same = unit.company_id == location.company_id
            checks.append(
                Check(
                    location.name,
                    "storage unit of the same company",
                    same,
                    "yes" if same else "link a storage unit of this company",
                )
            )
        checks.append(
            Check(
                location.name,
                "active",
                location.active,
                "yes" if location.active else "activate it in `/pos locations`",
            )
        )
        unmapped_here = [
            row for row in open_items.values() if any(lid == location.id for lid, _ in row.days)
        ]
        checks.append(
            Check(
                location.name,
                "items mapped",
                not unmapped_here,
                "every item sold is mapped"
                if not unmapped_here
                else f"{len(unmapped_here)} item(s) sold unmapped: `/pos unmapped`",
            )
        )
        last = last_run(session, location.id)
        if last is None:
            checks.append(
                Check(
                    location.name,
                    "last transfer succeeded",
                    False,
                    "no transfer yet: `/transfer yesterday`",
                )
            )
        else:
            ok = last.status is not RunStatus.FAILED
            detail = (
                f"{last.business_date}: {last.outcome.value if last.outcome else last.status.value}"
                if ok
                else f"{last.business_date} failed: {(last.errors or ['?'])[0]}"
            )
            checks.append(Check(location.name, "last transfer succeeded", ok, detail))
    return checks
