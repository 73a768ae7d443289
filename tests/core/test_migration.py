"""A 90-day migration against the SIDES sandbox: the same ledger as 90 manual transfers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from stockpot.core.db import unit_of_work
from stockpot.core.migration import migrate, plan
from stockpot.core.models import (
    ExternalLocation,
    LedgerMovement,
    RunKind,
    TransferDay,
    TransferRun,
)
from stockpot.core.pos import connections
from tests.pos import map_golden


def ledger_by_day(database) -> dict:
    with database.session() as session:
        rows = session.execute(
            select(
                LedgerMovement.business_date,
                LedgerMovement.ingredient_id,
                func.sum(LedgerMovement.quantity),
            ).group_by(LedgerMovement.business_date, LedgerMovement.ingredient_id)
        ).all()
    return {(day, ingredient): quantity for day, ingredient, quantity in rows if quantity}


def forget_transfers(database) -> None:
    with unit_of_work(database.factory) as session:
        session.execute(delete(LedgerMovement))
        session.execute(delete(TransferDay))
        session.execute(delete(TransferRun))


def test_a_90_day_migration_equals_90_manual_transfers(connected, settings):
    map_golden(connected)
    with connected.session() as session:
        progress = plan(session, session.get_one(ExternalLocation, connected.location_id), 90)
    checkpoints = []
    done = migrate(
        connected.factory,
        settings,
        connected.location_id,
        progress,
        checkpoint=lambda: checkpoints.append(1),
    )
    assert (done.done, done.failed, len(checkpoints)) == (90, [], 90)
    migrated = ledger_by_day(connected)
    assert len({day for day, _ in migrated}) > 60, "most days sold something mapped"
    with connected.session() as session:
        kinds = set(session.scalars(select(TransferRun.kind)))
    assert kinds == {RunKind.MIGRATION}

    forget_transfers(connected)
    for n in range(90):
        connections.transfer_day(
            connected.factory,
            settings,
            connected.location_id,
            progress.first + timedelta(days=n),
            kind=RunKind.MANUAL,
        )
    assert ledger_by_day(connected) == migrated


def test_a_migration_resumes_where_it_stopped_and_reruns_are_unchanged(connected, settings):
    map_golden(connected)
    with connected.session() as session:
        progress = plan(session, session.get_one(ExternalLocation, connected.location_id), 5)
    progress.done = 3
    first = migrate(connected.factory, settings, connected.location_id, progress)
    assert (first.done, first.posted + first.unchanged) == (5, 2)
    with connected.session() as session:
        days = sorted(session.scalars(select(TransferRun.business_date)))
    assert days == [progress.first + timedelta(days=3), progress.first + timedelta(days=4)]
    with connected.session() as session:
        again = plan(session, session.get_one(ExternalLocation, connected.location_id), 5)
    rerun = migrate(connected.factory, settings, connected.location_id, again)
    assert rerun.unchanged == 2 and rerun.done == 5
