"""Stock postings: counts, receipts, waste, moves and their corrections.

A posting is one act of a person (a count sheet, a delivery note, a waste entry, a move):
who posted it, when, for which business date, and the movements it put in the ledger
(``ledger_movement.posting_id``). Postings, like movements, are never updated or deleted; a
correction is a new posting that ``reverses`` another and posts the negation of its movements.
A count also keeps what was counted (``stock_count_line``): the adjustment it posts is derived,
the counted quantity is the fact.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.models.base import Base, BigId, company_fk, created_at, enum_column


class StockKind(StrEnum):
    COUNT = "count"
    RECEIPT = "receipt"
    WASTE = "waste"
    MOVE = "move"
    CORRECTION = "correction"


class StockPosting(Base):
    """One posting of stock movements by a person (or a script), attributed to them."""

    __tablename__ = "stock_posting"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int] = company_fk()
    kind: Mapped[StockKind] = enum_column(StockKind)
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_unit.id", ondelete="RESTRICT"))
    to_storage_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("storage_unit.id", ondelete="RESTRICT"), doc="a move's destination"
    )
    business_date: Mapped[date]
    posted_by: Mapped[str] = mapped_column(
        String(200), doc="who posted it: a Slack user (slack:U…) or an operator (cli:name)"
    )
    supplier: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("stock_posting.id", ondelete="RESTRICT"), unique=True
    )
    created_at: Mapped[datetime] = created_at()


class StockCountLine(Base):
    """What a count found of one ingredient in one storage unit, in its base unit.

    A count line is live while its posting is not reversed; at most one live line per
    (storage unit, ingredient, business date) (checked when posting, under the unit's lock).
    """

    __tablename__ = "stock_count_line"
    __table_args__ = (
        Index(
            "ix_stock_count_line_key",
            "company_id",
            "storage_unit_id",
            "ingredient_id",
            "business_date",
        ),
        Index("ix_stock_count_line_company_date", "company_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    posting_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("stock_posting.id", ondelete="RESTRICT"), index=True
    )
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_unit.id", ondelete="RESTRICT"))
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredient.id", ondelete="RESTRICT"))
    business_date: Mapped[date]
    counted: Mapped[Decimal]
