"""A movement's storage unit, ingredient, run, posting, count and reversed movement exist and
belong to its company, on both databases: PostgreSQL checks them once per statement (a
trigger over the statement's rows, migrations 0017 and 0019), SQLite with its foreign keys and
a per-row trigger. Inserted one by one or by COPY (the transfer's path), a bad reference is
refused and nothing is written; a parent with movements cannot be deleted, and a movement is
reversed at most once."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import CopyBlock, copy_blocks, copy_rows, utcnow
from stockpot.core.models import (
    Ingredient,
    LedgerMovement,
    MovementType,
    RunKind,
    RunStatus,
    StockKind,
    StockPosting,
    StorageUnit,
    TransferRun,
)
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import (
    MOVEMENT_COLUMNS,
    MOVEMENT_NUMBERS,
    MOVEMENT_SHARED,
    run_transfer,
)
from tests.catalogs import ids, setup_trattoria
from tests.core.stock.test_locking import waiting_for_a_lock

DAY = date(2026, 11, 2)
OTHER = """
company: Other Bistro
storage_units: [{name: Back}]
ingredients: [{name: Salt, base_unit: kg}]
"""


@pytest.fixture
def posted(database):
    """The trattoria with one posted POS day (a run with movements), and a second company."""
    setup_trattoria(database)
    import_catalog(database.factory, OTHER, source="other.yaml")
    with database.session() as session:
        database.ids = ids(session)
        database.other = ids(session, "Other Bistro")
    line = SaleLine("S", "L1", "300", "Espresso", Decimal(3))
    report = run_transfer(
        database.factory, database.ids["location:Main room"], DAY, [line], RawInput("t", "x")
    )
    database.run_id = report.run_id
    with database.session() as session:
        database.movement_id = session.scalar(
            select(func.min(LedgerMovement.id)).where(LedgerMovement.run_id == report.run_id)
        )
        database.posting_id = _posting(session, database.ids)
        database.other_posting_id = _posting(session, database.other, unit="unit:Back")
        session.commit()
    return database


def _posting(session, ids, unit="unit:Kitchen") -> int:
    posting = StockPosting(
        company_id=ids["company"],
        kind=StockKind.WASTE,
        storage_unit_id=ids[unit],
        business_date=DAY,
        posted_by="cli:test",
    )
    session.add(posting)
    session.flush()
    return posting.id


def _movement(database, **changes):
    row = {
        "company_id": database.ids["company"],
        "storage_unit_id": database.ids["unit:Kitchen"],
        "ingredient_id": database.ids["ingredient:Espresso beans"],
        "type": MovementType.ISSUE.value,
        "quantity": Decimal("-0.1"),
        "business_date": DAY,
        "run_id": database.run_id,
        "created_at": utcnow(),
    }
    return {**row, **changes}


def _count(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(LedgerMovement))


def _bad(database, name):
    """Each bad reference: a missing row, and a row of another company."""
    missing = 987_654
    return {
        "missing storage unit": {"storage_unit_id": missing},
        "missing ingredient": {"ingredient_id": missing},
        "missing run": {"run_id": missing},
        "another company's storage unit": {"storage_unit_id": database.other["unit:Back"]},
        "another company's ingredient": {"ingredient_id": database.other["ingredient:Salt"]},
        "filed under another company": {"company_id": database.other["company"]},
        "missing posting": {"run_id": None, "posting_id": missing},
        "missing count": {"run_id": None, "count_id": missing},
        "missing reversed movement": {"reverses_id": missing},
        "another company's posting": {"run_id": None, "posting_id": database.other_posting_id},
        "another company's count": {"run_id": None, "count_id": database.other_posting_id},
    }[name]


BAD = [
    "missing storage unit",
    "missing ingredient",
    "missing run",
    "another company's storage unit",
    "another company's ingredient",
    "filed under another company",
    "missing posting",
    "missing count",
    "missing reversed movement",
    "another company's posting",
    "another company's count",
]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("path", ["insert", "copy"])
def test_a_movement_with_a_bad_reference_is_refused(posted, bad, path):
    before = _count(posted)
    good = _movement(posted)
    wrong = _movement(posted, **_bad(posted, bad))
    # COPY goes to the driver's connection: its error is the driver's own IntegrityError.
    with pytest.raises((IntegrityError, psycopg.IntegrityError)), posted.factory.begin() as session:
        if path == "copy":
            columns = [*MOVEMENT_COLUMNS, *(c for c in wrong if c not in MOVEMENT_COLUMNS)]
            copy_rows(
                session,
                LedgerMovement.__table__,
                columns,
                [tuple(row.get(column) for column in columns) for row in (good, wrong)],
            )
        else:
            session.execute(insert(LedgerMovement), [good, wrong])
    assert _count(posted) == before


def test_a_movement_is_reversed_at_most_once(posted):
    reversal = _movement(posted, quantity=Decimal("0.1"), reverses_id=posted.movement_id)
    with posted.factory.begin() as session:
        session.execute(insert(LedgerMovement), [reversal])
    before = _count(posted)
    with pytest.raises(IntegrityError), posted.factory.begin() as session:
        session.execute(insert(LedgerMovement), [reversal])
    assert _count(posted) == before


def test_good_movements_go_in_by_every_path(posted):
    before = _count(posted)
    row = _movement(posted)
    with posted.factory.begin() as session:
        copy_rows(
            session,
            LedgerMovement.__table__,
            MOVEMENT_COLUMNS,
            [tuple(row[column] for column in MOVEMENT_COLUMNS)],
        )
        copy_blocks(
            session,
            LedgerMovement.__table__,
            MOVEMENT_NUMBERS,
            MOVEMENT_SHARED,
            [
                CopyBlock(
                    [tuple(row[column] for column in MOVEMENT_NUMBERS)],
                    tuple(row[column] for column in MOVEMENT_SHARED),
                )
            ],
        )
        session.execute(insert(LedgerMovement), [row])
    assert _count(posted) == before + 3


@pytest.mark.parametrize(
    ("model", "key"),
    [
        (Ingredient, "ingredient:Espresso beans"),
        (StorageUnit, "unit:Kitchen"),
        (TransferRun, None),
    ],
)
def test_a_parent_with_movements_cannot_be_deleted(posted, model, key):
    parent_id = posted.run_id if key is None else posted.ids[key]
    before = _count(posted)
    with pytest.raises(IntegrityError), posted.factory.begin() as session:
        session.execute(delete(model).where(model.id == parent_id))
    assert _count(posted) == before


def test_a_posting_with_movements_cannot_be_deleted(posted):
    row = _movement(posted, run_id=None, posting_id=posted.posting_id)
    with posted.factory.begin() as session:
        session.execute(insert(LedgerMovement), [row])
    with pytest.raises(IntegrityError), posted.factory.begin() as session:
        session.execute(delete(StockPosting).where(StockPosting.id == posted.posting_id))
    with posted.session() as session:
        assert session.get(StockPosting, posted.posting_id) is not None


def test_a_reversed_movement_cannot_be_deleted_while_its_reversal_stays(posted):
    reversal = _movement(posted, quantity=Decimal("0.1"), reverses_id=posted.movement_id)
    with posted.factory.begin() as session:
        session.execute(insert(LedgerMovement), [reversal])
    before = _count(posted)
    with pytest.raises(IntegrityError), posted.factory.begin() as session:
        session.execute(delete(LedgerMovement).where(LedgerMovement.id == posted.movement_id))
    assert _count(posted) == before


def test_a_run_without_movements_can_be_deleted(posted):
    with posted.factory.begin() as session:
        run = TransferRun(
            company_id=posted.ids["company"],
            location_id=posted.ids["location:Main room"],
            business_date=DAY,
            kind=RunKind.MANUAL,
            status=RunStatus.FAILED,
        )
        session.add(run)
        session.flush()
        run_id = run.id
    with posted.factory.begin() as session:
        session.execute(delete(TransferRun).where(TransferRun.id == run_id))
        assert session.get(TransferRun, run_id) is None


def test_a_parent_never_moves_to_another_company(posted):
    with pytest.raises(IntegrityError), posted.factory.begin() as session:
        session.get(Ingredient, posted.ids["ingredient:Espresso beans"]).company_id = posted.other[
            "company"
        ]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("first", ["writer", "deleter"])
def test_a_delete_racing_a_movement_writer_never_leaves_an_orphan(posted, first):
    """The check is per statement, not a row lock on the parent: a delete takes the ledger
    in SHARE mode, so it waits for an uncommitted writer and then sees its movement (or the
    writer waits for the delete and then finds the ingredient gone)."""
    with posted.factory.begin() as session:
        spare = Ingredient(company_id=posted.ids["company"], name="Spare", base_unit="kg")
        session.add(spare)
        session.flush()
        spare_id = spare.id
    outcome: dict[str, BaseException | None] = {}

    def second() -> None:
        try:
            with posted.factory.begin() as session:
                if first == "writer":
                    session.execute(delete(Ingredient).where(Ingredient.id == spare_id))
                else:
                    session.execute(
                        insert(LedgerMovement), [_movement(posted, ingredient_id=spare_id)]
                    )
            outcome["error"] = None
        except BaseException as error:
            outcome["error"] = error

    with posted.factory.begin() as session:
        if first == "writer":
            session.execute(insert(LedgerMovement), [_movement(posted, ingredient_id=spare_id)])
        else:
            session.execute(delete(Ingredient).where(Ingredient.id == spare_id))
        worker = threading.Thread(target=second)
        worker.start()
        for _ in range(10_000):  # until the second one waits for the first one's lock
            if waiting_for_a_lock(posted) or "error" in outcome:
                break
        assert "error" not in outcome, "the second transaction did not wait for the first"
    worker.join()
    assert isinstance(outcome["error"], IntegrityError)
    with posted.session() as session:
        orphans = session.scalar(
            select(func.count())
            .select_from(LedgerMovement)
            .where(
                LedgerMovement.ingredient_id == spare_id,
                ~select(Ingredient.id).where(Ingredient.id == spare_id).exists(),
            )
        )
    assert orphans == 0
