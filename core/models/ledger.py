"""The inventory ledger: signed movements in base units, never updated or deleted."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.models.base import Base, BigId, created_at, enum_column

STATEMENT_CHECKED = frozenset(
    {
        "company_id",
        "storage_unit_id",
        "ingredient_id",
        "run_id",
        "posting_id",
        "count_id",
        "reverses_id",
    }
)
"""References of a movement that PostgreSQL checks once per statement (a trigger over the
statement's rows, migrations 0017 and 0019) instead of by per-row foreign keys: the storage
unit, ingredient, run, posting, count and reversed movement exist and belong to the
movement's company. SQLite declares them as the model does, plus a trigger for the company
rule."""


class MovementType(StrEnum):
    ISSUE = "ISSUE"
    RECEIPT = "RECEIPT"
    WASTE = "WASTE"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"
    ADJUSTMENT = "ADJUSTMENT"


class LedgerMovement(Base):
    """A change of one ingredient's stock in one storage unit.

    A correction is a new movement with ``reverses`` pointing at the one it cancels, so the
    history shows every correction and balances are plain sums.
    """

    __tablename__ = "ledger_movement"
    __table_args__ = (
        Index(
            "ix_ledger_movement_balance",
            "company_id",
            "storage_unit_id",
            "ingredient_id",
        ),
        # One index for a company's days and a storage unit's days (its unit filtered in the
        # index): every movement a transfer COPYs enters each index (migration 0021).
        Index(
            "ix_ledger_movement_company_date_unit",
            "company_id",
            "business_date",
            "storage_unit_id",
        ),
        # Sales movements (almost all rows) have neither: the indexes hold only the rows
        # that have one, so a transfer's COPY does not insert thousands of NULL entries.
        *(
            Index(
                f"ix_ledger_movement_{column}",
                column,
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("posting_id", "count_id")
        ),
        # A movement is reversed at most once. On PostgreSQL a partial unique index (no NULL
        # entry per sales movement, migration 0019); SQLite keeps its table constraint.
        UniqueConstraint("reverses_id", name="uq_ledger_movement_reverses_id").ddl_if(
            dialect="sqlite"
        ),
        Index(
            "ix_ledger_movement_reverses_id",
            "reverses_id",
            unique=True,
            postgresql_where=text("reverses_id IS NOT NULL"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_unit.id", ondelete="RESTRICT"))
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredient.id", ondelete="RESTRICT"))
    type: Mapped[MovementType] = enum_column(MovementType)
    quantity: Mapped[Decimal]
    business_date: Mapped[date]
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfer_run.id", ondelete="RESTRICT"), index=True
    )
    reverses_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_movement.id", ondelete="RESTRICT")
    )
    posting_id: Mapped[int | None] = mapped_column(
        BigId,
        ForeignKey("stock_posting.id", ondelete="RESTRICT"),
        doc="the stock posting (count, receipt, waste, move, correction) that posted it",
    )
    count_id: Mapped[int | None] = mapped_column(
        BigId,
        ForeignKey("stock_posting.id", ondelete="RESTRICT"),
        doc="for an ADJUSTMENT: the count whose adjustment it is (see core.stock)",
    )
    unit_cost: Mapped[Decimal | None] = mapped_column(
        doc="a receipt's cost per base unit, in the company's currency"
    )
    created_at: Mapped[datetime] = created_at()
    """On PostgreSQL also ``DEFAULT now()`` (migration 0022): a transfer's COPY leaves it to
    the server, which stamps every movement of the transaction with its time."""
