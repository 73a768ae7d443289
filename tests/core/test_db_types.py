"""Quantities stay exact and times stay aware on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, exc, func, insert, select, tuple_

from stockpot.core.db import CopyBlock, copy_blocks, send_together, utcnow
from stockpot.core.models import Company, Ingredient, LedgerMovement, MovementType, StorageUnit
from stockpot.core.units import Unit


def _setup(session):
    company = Company(name="C")
    session.add(company)
    session.flush()
    unit = StorageUnit(company_id=company.id, name="Kitchen")
    ingredient = Ingredient(company_id=company.id, name="Salt", base_unit=Unit.G)
    session.add_all([unit, ingredient])
    session.flush()
    return company, unit, ingredient


def _movement(company, unit, ingredient, quantity):
    return LedgerMovement(
        company_id=company.id,
        storage_unit_id=unit.id,
        ingredient_id=ingredient.id,
        type=MovementType.ADJUSTMENT,
        quantity=quantity,
        business_date=date(2026, 1, 1),
    )


def test_a_thousand_tenths_sum_to_exactly_one_hundred(database):
    with database.session() as session, session.begin():
        company, unit, ingredient = _setup(session)
        session.add_all(_movement(company, unit, ingredient, Decimal("0.1")) for _ in range(1000))
    with database.session() as session:
        total = session.scalar(select(func.sum(LedgerMovement.quantity)))
    assert total == Decimal(100)
    assert isinstance(total, Decimal)


@pytest.mark.parametrize(
    "value",
    ["0.000000001", "-123456789.123456789", "999999999.999999999", "0", "-0.5"],
)
def test_quantities_round_trip_to_nine_places(database, value):
    with database.session() as session, session.begin():
        company, unit, ingredient = _setup(session)
        session.add(_movement(company, unit, ingredient, Decimal(value)))
    with database.session() as session:
        assert session.scalar(select(LedgerMovement.quantity)) == Decimal(value)


def test_more_than_nine_places_round_half_even(database):
    with database.session() as session, session.begin():
        company, unit, ingredient = _setup(session)
        session.add(_movement(company, unit, ingredient, Decimal("0.0000000005")))
        session.add(_movement(company, unit, ingredient, Decimal("0.0000000015")))
    with database.session() as session:
        stored = session.scalars(select(LedgerMovement.quantity).order_by(LedgerMovement.id)).all()
    assert stored == [Decimal("0"), Decimal("0.000000002")]


def test_times_come_back_aware_in_utc(database):
    written = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    with database.session() as session, session.begin():
        session.add(Company(name="C", created_at=written))
    with database.session() as session:
        read = session.scalar(select(Company.created_at))
    assert read == written
    assert read.tzinfo is not None and read.utcoffset() == timedelta(0)
    assert read == datetime(2026, 3, 28, 23, 30, tzinfo=UTC)


def test_naive_times_are_refused(database):
    with database.session() as session, pytest.raises(Exception, match="naive datetime"):
        session.add(Company(name="C", created_at=datetime(2026, 1, 1)))  # noqa: DTZ001
        session.flush()


def test_copied_blocks_keep_every_quantity_exact(database):
    """The movements' COPY writes each row's numbers as they print: exponent forms, signs
    and the ninth decimal arrive unchanged, under each block's own shared values."""
    values = [
        Decimal("0.000000001"),
        Decimal("-123456789.123456789"),
        Decimal("1E+3"),
        Decimal("-1E-9"),
        Decimal("-0.500000000"),
    ]
    with database.session() as session, session.begin():
        company, unit, ingredient = _setup(session)
        other = Ingredient(company_id=company.id, name="Pepper", base_unit=Unit.G)
        session.add(other)
        session.flush()
        blocks = [
            CopyBlock(
                [(unit.id, ingredient.id, value) for value in values],
                (company.id, MovementType.ISSUE.value, date(2026, 1, 1), utcnow()),
            ),
            CopyBlock(
                [(unit.id, other.id, Decimal(7))],
                (company.id, MovementType.ADJUSTMENT.value, date(2026, 1, 2), utcnow()),
            ),
        ]
        copy_blocks(
            session,
            LedgerMovement.__table__,
            ("storage_unit_id", "ingredient_id", "quantity"),
            ("company_id", "type", "business_date", "created_at"),
            blocks,
        )
        ids = (ingredient.id, other.id)
    with database.session() as session:
        rows = session.execute(
            select(
                LedgerMovement.ingredient_id,
                LedgerMovement.quantity,
                LedgerMovement.type,
                LedgerMovement.business_date,
            ).order_by(LedgerMovement.id)
        ).all()
    assert [(i, q, t, d) for i, q, t, d in rows] == [
        *((ids[0], value, MovementType.ISSUE, date(2026, 1, 1)) for value in values),
        (ids[1], Decimal(7), MovementType.ADJUSTMENT, date(2026, 1, 2)),
    ]


def test_copy_blocks_runs_meanwhile_once_every_row_is_sent_and_before_it_returns(database):
    """The caller's ``meanwhile`` work runs while the server still inserts the rows: after
    the last row was read from the blocks, before ``copy_blocks`` returns, once."""
    read: list[int] = []
    seen: list[int] = []

    def numbers(unit_id: int, ingredient_id: int) -> Iterator[tuple[int, int, Decimal]]:
        for value in range(1, 600):  # several COPY chunks
            read.append(value)
            yield (unit_id, ingredient_id, Decimal(value))

    with database.session() as session, session.begin():
        company, unit, ingredient = _setup(session)
        copy_blocks(
            session,
            LedgerMovement.__table__,
            ("storage_unit_id", "ingredient_id", "quantity"),
            ("company_id", "type", "business_date", "created_at"),
            [
                CopyBlock(
                    numbers(unit.id, ingredient.id),
                    (company.id, MovementType.ISSUE.value, date(2026, 1, 1), utcnow()),
                )
            ],
            meanwhile=lambda: seen.append(len(read)),
        )
        assert seen == [599]
        count = session.scalar(select(func.count()).select_from(LedgerMovement))
    assert count == 599


MOVEMENT_ADDED = insert(LedgerMovement.__table__)
QUANTITIES_OF = (
    select(LedgerMovement.ingredient_id, LedgerMovement.quantity)
    .where(LedgerMovement.ingredient_id.in_(bindparam("ingredients", expanding=True)))
    .order_by(LedgerMovement.id)
)
UNITS_NAMED = select(StorageUnit.name).where(
    tuple_(StorageUnit.id, StorageUnit.company_id).in_(bindparam("keys", expanding=True))
)


def test_statements_sent_together_run_in_order_and_return_their_rows(database):
    """Each statement sees the ones before it; many rows, an empty list of rows, expanding
    ``IN`` lists of values and of tuples, and a column type's conversion (``Quantity``
    on the way in) work on both databases."""
    with database.session() as session, session.begin():
        company, unit, ingredient = _setup(session)
        row = {
            "company_id": company.id,
            "storage_unit_id": unit.id,
            "ingredient_id": ingredient.id,
            "type": MovementType.ADJUSTMENT.value,
            "business_date": date(2026, 1, 1),
            "created_at": utcnow(),
        }
        results = send_together(
            session,
            [
                (MOVEMENT_ADDED, [{**row, "quantity": Decimal("1.5")}]),
                (MOVEMENT_ADDED, []),
                (MOVEMENT_ADDED, [{**row, "quantity": Decimal("-0.000000001")}]),
                (QUANTITIES_OF, {"ingredients": [ingredient.id, ingredient.id + 1]}),
                (UNITS_NAMED, {"keys": [(unit.id, company.id), (unit.id, company.id + 1)]}),
            ],
        )
    assert results == [
        [],
        [],
        [],
        [(ingredient.id, Decimal("1.5")), (ingredient.id, Decimal("-0.000000001"))],
        [("Kitchen",)],
    ]


def test_a_statement_sent_together_that_fails_raises_what_sqlalchemy_raises(database):
    """A constraint broken in the pipeline surfaces as SQLAlchemy's error (the outage
    checks read those), and nothing of the transaction stays."""
    with database.session() as session, session.begin():
        _setup(session)
    with pytest.raises(exc.IntegrityError), database.session() as session, session.begin():
        company = session.scalar(select(Company))
        send_together(
            session,
            [
                (insert(StorageUnit.__table__), [{"company_id": company.id, "name": "Bar"}]),
                (insert(StorageUnit.__table__), [{"company_id": company.id, "name": "Bar"}]),
            ],
        )
    with database.session() as session:
        assert session.scalars(select(StorageUnit.name)).all() == ["Kitchen"]
