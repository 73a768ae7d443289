"""Writing stock movements: balances just before a moment, live counts, the absorption rule,
and reversals. Used by the stock services and by the transfer runner (a POS day rerun).

Locking (PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``): a count takes its
storage unit's row ``FOR UPDATE`` before it reads a balance; every other writer takes the
storage units it wrote ``FOR SHARE`` before it looks for the counts that must absorb it. Either
the count waits and then reads balances that include the other write, or the other writer
waits and then sees the count and posts the absorbing adjustment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, insert, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from stockpot.core.db import Parameters, UtcDateTime, send_together, utcnow
from stockpot.core.models import (
    LedgerMovement,
    MovementType,
    StockCountLine,
    StockPosting,
    StorageUnit,
)

Key = tuple[int, int]
"""(storage unit id, ingredient id)."""
DatedKey = tuple[int, int, date]


_CORRECTION = aliased(StockPosting)
"""Made once: ``aliased`` costs about 0.35 ms, and every transfer asks for live counts."""


def live_count_lines() -> Any:
    """The condition on ``StockCountLine`` that its count has not been reversed."""
    return ~exists(select(1).where(_CORRECTION.reverses_id == StockCountLine.posting_id))


def _units_locked(exclusive: bool, ids: Any) -> Any:
    return (
        select(StorageUnit.id)
        .where(StorageUnit.id.in_(ids))
        .order_by(StorageUnit.id)
        .with_for_update(read=not exclusive)
    )


UNITS_LOCKED = {
    exclusive: _units_locked(exclusive, bindparam("units", expanding=True))
    for exclusive in (False, True)
}
"""Built once: every transfer locks its units, and building the statement (coercing each id,
then its cache key) cost more than the round trip."""


def lock_units(session: Session, unit_ids: Iterable[int], *, exclusive: bool) -> list[int]:
    """Take the storage units' rows in id order (no deadlock between two writers); returns
    the ids of those that exist."""
    ids = sorted(set(unit_ids))
    if not ids:
        return []
    return list(session.scalars(UNITS_LOCKED[exclusive], {"units": ids}))


def balances_at(
    session: Session, company_id: int, unit_id: int, ingredient_ids: Iterable[int], day: date
) -> dict[int, Decimal]:
    """Balance per ingredient of a storage unit at the close of ``day`` (movements dated
    ``day`` or earlier), in base units; ingredients with no movement are absent."""
    ids = list(set(ingredient_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(LedgerMovement.ingredient_id, func.sum(LedgerMovement.quantity))
        .where(
            LedgerMovement.company_id == company_id,
            LedgerMovement.storage_unit_id == unit_id,
            LedgerMovement.ingredient_id.in_(ids),
            LedgerMovement.business_date <= day,
        )
        .group_by(LedgerMovement.ingredient_id)
    )
    return {ingredient: quantity for ingredient, quantity in rows}


def balances_now(session: Session, company_id: int, keys: Iterable[Key]) -> dict[Key, Decimal]:
    """Balance of each (storage unit, ingredient) in ``keys`` after every movement, whatever
    its date (what ``/ledger balances`` shows), in base units; keys with no movement are
    absent."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            LedgerMovement.storage_unit_id,
            LedgerMovement.ingredient_id,
            func.sum(LedgerMovement.quantity),
        )
        .where(
            LedgerMovement.company_id == company_id,
            LedgerMovement.storage_unit_id.in_(sorted({unit for unit, _ in wanted})),
            LedgerMovement.ingredient_id.in_(sorted({ingredient for _, ingredient in wanted})),
        )
        .group_by(LedgerMovement.storage_unit_id, LedgerMovement.ingredient_id)
    ).tuples()
    return {
        (unit, ingredient): quantity
        for unit, ingredient, quantity in rows
        if (unit, ingredient) in wanted
    }


def _live_lines_of(company_id: int, unit_id: int, day: date) -> tuple[Any, ...]:
    """The conditions on ``StockCountLine`` for the live count lines of a unit on a day."""
    return (
        StockCountLine.company_id == company_id,
        StockCountLine.storage_unit_id == unit_id,
        StockCountLine.business_date == day,
        live_count_lines(),
    )


def counted_on(
    session: Session, company_id: int, unit_id: int, ingredient_ids: Iterable[int], day: date
) -> dict[int, int]:
    """Ingredients of the unit that a live count already counted on ``day``: their count."""
    ids = list(set(ingredient_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(StockCountLine.ingredient_id, StockCountLine.posting_id).where(
            *_live_lines_of(company_id, unit_id, day), StockCountLine.ingredient_id.in_(ids)
        )
    )
    return dict(rows.tuples().all())


@dataclass(frozen=True)
class LiveCount:
    """A live count of a storage unit on a day: who posted it, when, and what it counted
    (ingredient id to the quantity counted, in its base unit)."""

    posting_id: int
    posted_by: str
    posted_at: datetime
    counted: dict[int, Decimal]


def live_counts(session: Session, company_id: int, unit_id: int, day: date) -> list[LiveCount]:
    """The live counts of the unit on ``day``, first posted first: a count sheet shows them
    before anyone fills it in (each ingredient is counted at most once a day; ``counted_on``
    refuses a second)."""
    rows = session.execute(
        select(
            StockCountLine.posting_id,
            StockPosting.posted_by,
            StockPosting.created_at,
            StockCountLine.ingredient_id,
            StockCountLine.counted,
        )
        .join(StockPosting, StockPosting.id == StockCountLine.posting_id)
        .where(*_live_lines_of(company_id, unit_id, day))
        .order_by(StockCountLine.posting_id, StockCountLine.ingredient_id)
    )
    counts: dict[int, LiveCount] = {}
    for posting_id, posted_by, posted_at, ingredient_id, counted in rows.tuples():
        count = counts.setdefault(posting_id, LiveCount(posting_id, posted_by, posted_at, {}))
        count.counted[ingredient_id] = counted
    return list(counts.values())


def insert_movements(session: Session, rows: list[dict[str, Any]]) -> None:
    """One executemany for a posting's movements (no per-row ORM flush)."""
    if rows:
        now = utcnow()
        session.execute(insert(LedgerMovement), [{"created_at": now, **row} for row in rows])


def absorb(
    session: Session,
    company_id: int,
    deltas: Mapping[DatedKey, Decimal],
    *,
    posting_id: int | None = None,
    except_count: int | None = None,
) -> list[tuple[int, int, int, Decimal]]:
    """Hand every change posted at or before a live count to the first such count of its
    storage unit and ingredient, as an ``ADJUSTMENT`` of the opposite amount dated the count's
    date. Returns what was absorbed: (count id, storage unit id, ingredient id, adjustment).

    ``deltas`` is the net change per (storage unit, ingredient, business date) just posted;
    ``except_count`` is a count being posted or reversed (it does not absorb itself)."""
    changed = {key: amount for key, amount in deltas.items() if amount != 0}
    lock_units(session, (unit for unit, _, _ in changed), exclusive=False)
    if not changed:
        return []
    pairs = sorted({(unit, ingredient) for unit, ingredient, _ in changed})
    earliest = min(day for _, _, day in changed)
    query = (
        select(
            StockCountLine.storage_unit_id,
            StockCountLine.ingredient_id,
            StockCountLine.business_date,
            StockCountLine.posting_id,
        )
        .where(
            StockCountLine.company_id == company_id,
            StockCountLine.business_date >= earliest,
            live_count_lines(),
        )
        .order_by(StockCountLine.business_date)
    )
    if len(pairs) <= 500:
        query = query.where(
            tuple_(StockCountLine.storage_unit_id, StockCountLine.ingredient_id).in_(pairs)
        )
    if except_count is not None:
        query = query.where(StockCountLine.posting_id != except_count)
    later: dict[Key, list[tuple[date, int]]] = {}
    for unit, ingredient, day, count_id in session.execute(query):
        later.setdefault((unit, ingredient), []).append((day, count_id))
    absorbed: dict[tuple[int, int, int, date], Decimal] = {}
    for (unit, ingredient, day), amount in changed.items():
        count = next((c for c in later.get((unit, ingredient), ()) if c[0] >= day), None)
        if count is None:
            continue
        key = (count[1], unit, ingredient, count[0])
        absorbed[key] = absorbed.get(key, Decimal(0)) - amount
    insert_movements(
        session,
        [
            {
                "company_id": company_id,
                "storage_unit_id": unit,
                "ingredient_id": ingredient,
                "type": MovementType.ADJUSTMENT,
                "quantity": amount,
                "business_date": day,
                "posting_id": posting_id,
                "count_id": count_id,
            }
            for (count_id, unit, ingredient, day), amount in absorbed.items()
            if amount != 0
        ],
    )
    return [
        (count_id, unit, ingredient, amount)
        for (count_id, unit, ingredient, _), amount in absorbed.items()
        if amount != 0
    ]


LATER_COUNT = (
    select(StockCountLine.posting_id)
    .where(
        StockCountLine.company_id.in_(bindparam("companies", expanding=True)),
        StockCountLine.storage_unit_id.in_(bindparam("units", expanding=True)),
        StockCountLine.business_date >= bindparam("day"),
        live_count_lines(),
    )
    .limit(1)
)
"""A live count among ``units`` dated ``day`` or later (built once, as ``UNITS_LOCKED``)."""


def absorb_runs(
    session: Session,
    runs: Sequence[tuple[int, int, date]],
    written: Iterable[int] | None = None,
    *,
    alongside: Sequence[tuple[Any, Parameters]] = (),
) -> None:
    """After transfer runs posted (each its reversal of the live run and its new movements,
    all under its id), for each (company id, run id, business date) in order: the net change
    of each key goes to the first live count at or after it.

    A day with no live count at or after it (almost every POS day: counts come after) costs
    two statements: the storage units the runs wrote are locked (the protocol above), then
    one look for a later count among them. Only when there is one are the runs' changes read
    (one query for every run of a batch) and absorbed. ``written``: the units the runs wrote,
    when the caller knows them (a transfer that reversed nothing: its movements' units),
    instead of reading them from the runs' movements; then the lock and the look go in one
    round trip (``send_together``), after the caller's statements ``alongside``, whose rows
    are not read."""
    if not runs:
        return
    run_ids = [run_id for _, run_id, _ in runs]
    companies = sorted({company_id for company_id, _, _ in runs})
    earliest = min(day for _, _, day in runs)
    if written is None:
        send_together(session, alongside)
        movement = LedgerMovement.__table__
        written_by_runs = (
            select(movement.c.storage_unit_id).where(movement.c.run_id.in_(run_ids))
        ).scalar_subquery()
        units = list(session.scalars(_units_locked(False, written_by_runs)))
        later_count = session.scalar(
            LATER_COUNT, {"companies": companies, "units": units, "day": earliest}
        )
    else:
        # A unit that does not exist has no counts: the look may name every unit written.
        units = sorted(set(written))
        if not units:  # nothing written: no count can absorb it
            send_together(session, alongside)
            return
        *_, later = send_together(
            session,
            [
                *alongside,
                (UNITS_LOCKED[False], {"units": units}),
                (LATER_COUNT, {"companies": companies, "units": units, "day": earliest}),
            ],
        )
        later_count = later[0][0] if later else None
    if later_count is None:
        return
    rows = session.execute(
        select(
            LedgerMovement.run_id,
            LedgerMovement.storage_unit_id,
            LedgerMovement.ingredient_id,
            LedgerMovement.business_date,
            func.sum(LedgerMovement.quantity),
        )
        .where(LedgerMovement.run_id.in_(run_ids))
        .group_by(
            LedgerMovement.run_id,
            LedgerMovement.storage_unit_id,
            LedgerMovement.ingredient_id,
            LedgerMovement.business_date,
        )
    ).tuples()
    company_of = {run_id: company_id for company_id, run_id, _ in runs}
    deltas: dict[int, dict[DatedKey, Decimal]] = {}
    for run_id, unit, ingredient, day, amount in rows:
        # Absorption is per dated key, so one company's runs are absorbed together: one
        # lock and one count query for a whole batch of days.
        changes = deltas.setdefault(company_of[run_id], {})
        changes[(unit, ingredient, day)] = changes.get((unit, ingredient, day), 0) + amount
    for company_id, changes in deltas.items():
        absorb(session, company_id, changes)


def reversal(condition: Any, owner: str, owner_id: Any, now: Any = None) -> Any:
    """The one reversal statement: ``INSERT … SELECT`` of the negation of every movement
    matching ``condition`` that is not itself a reversal and not yet reversed, each pointing
    at the movement it reverses (``reverses_id``), in id order, under ``owner`` (``run_id``
    for a transfer rerun, ``posting_id`` for a stock correction) = ``owner_id`` (a value or
    an SQL expression of the reversed movement). Used by stock corrections and transfer
    reruns alike."""
    movement = LedgerMovement.__table__
    reversed_already = aliased(LedgerMovement)
    owner_value = owner_id if isinstance(owner_id, ColumnElement) else literal(owner_id)
    return insert(movement).from_select(
        [
            "company_id",
            "storage_unit_id",
            "ingredient_id",
            "type",
            "quantity",
            "business_date",
            owner,
            "count_id",
            "reverses_id",
            "created_at",
        ],
        select(
            movement.c.company_id,
            movement.c.storage_unit_id,
            movement.c.ingredient_id,
            movement.c.type,
            -movement.c.quantity,
            movement.c.business_date,
            owner_value,
            movement.c.count_id,
            movement.c.id,
            literal(now or utcnow(), UtcDateTime()),
        )
        .where(condition, *_not_reversed(movement, reversed_already))
        .order_by(movement.c.id),
    )


def _not_reversed(movement: Any, reversed_already: Any) -> tuple[Any, ...]:
    return (
        movement.c.reverses_id.is_(None),
        ~exists(select(1).where(reversed_already.reverses_id == movement.c.id)),
    )


def reverse_movements(
    session: Session, correction: StockPosting, condition: Any
) -> dict[DatedKey, Decimal]:
    """Post the negation of the movements matching ``condition`` (and not yet reversed) under
    ``correction``; returns the net change per dated key."""
    movement = LedgerMovement.__table__
    reversed_already = aliased(LedgerMovement)
    deltas: dict[DatedKey, Decimal] = {}
    targets = session.execute(
        select(
            movement.c.storage_unit_id,
            movement.c.ingredient_id,
            movement.c.business_date,
            func.sum(movement.c.quantity),
        )
        .where(condition, *_not_reversed(movement, reversed_already))
        .group_by(movement.c.storage_unit_id, movement.c.ingredient_id, movement.c.business_date)
    ).tuples()
    for unit, ingredient, day, amount in targets:
        deltas[(unit, ingredient, day)] = -amount
    session.execute(reversal(condition, "posting_id", correction.id))
    return deltas


def own_movements(posting_id: int) -> Any:
    """A non-count posting's own movements (not the adjustments it caused on later counts)."""
    movement = LedgerMovement.__table__
    return and_(movement.c.posting_id == posting_id, movement.c.count_id.is_(None))


def count_movements(count_id: int) -> Any:
    """Every adjustment of a count: its own and those it absorbed."""
    return LedgerMovement.__table__.c.count_id == count_id
