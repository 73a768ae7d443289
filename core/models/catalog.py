"""Companies and what they stock: storage units, ingredients, recipes."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stockpot.core.db import SCALE
from stockpot.core.models.base import Base, company_fk, created_at, enum_column
from stockpot.core.units import Unit


class Company(Base):
    """The tenant: every other row belongs to exactly one company."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    report_team_id: Mapped[str | None] = mapped_column(String(32))
    report_channel_id: Mapped[str | None] = mapped_column(
        String(32), doc="where the daily report and alerts go; none until someone sets it"
    )
    currency: Mapped[str] = mapped_column(
        String(3), default="EUR", doc="ISO 4217 code of every cost and value of the company"
    )
    report_time: Mapped[time] = mapped_column(default=time(8, 0))
    report_timezone: Mapped[str | None] = mapped_column(
        String(64), doc="the report's clock; the first location's timezone when not set"
    )
    catalog_token: Mapped[str | None] = mapped_column(
        String(32),
        default=lambda: secrets.token_hex(16),
        doc="a new random value with every write that can change a transfer's snapshot (set "
        "by database triggers, see migration 0011): transfers cache their catalog under it",
    )
    created_at: Mapped[datetime] = created_at()


class StorageUnit(Base):
    """A physical place stock is kept; balances are per storage unit and ingredient."""

    __tablename__ = "storage_unit"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()


class Ingredient(Base):
    """A stocked item. All of its stock and movements are in ``base_unit``."""

    __tablename__ = "ingredient"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    name: Mapped[str] = mapped_column(String(200))
    base_unit: Mapped[Unit] = enum_column(Unit)
    active: Mapped[bool] = mapped_column(default=True)
    cost: Mapped[Decimal | None] = mapped_column(
        doc="cost per base unit in the company's currency: from the catalog, then the latest "
        "receipt with a unit cost (core.stock.costs)"
    )
    created_at: Mapped[datetime] = created_at()

    measures: Mapped[list[IngredientMeasure]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="IngredientMeasure.unit"
    )


class IngredientMeasure(Base):
    """One base unit of the ingredient is ``amount`` of ``unit`` (a bottle measures 0.75 l)."""

    __tablename__ = "ingredient_measure"
    __table_args__ = (
        UniqueConstraint("ingredient_id", "unit"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredient.id", ondelete="CASCADE"))
    unit: Mapped[Unit] = enum_column(Unit)
    amount: Mapped[Decimal]


class Recipe(Base):
    """A dish or prep: its lines make ``portions`` portions."""

    __tablename__ = "recipe"
    __table_args__ = (
        UniqueConstraint("company_id", "name"),
        CheckConstraint("portions > 0", name="portions_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    name: Mapped[str] = mapped_column(String(200))
    portions: Mapped[Decimal] = mapped_column(default=Decimal(1))
    default_issue_storage_id: Mapped[int | None] = mapped_column(
        ForeignKey("storage_unit.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at()

    lines: Mapped[list[RecipeLine]] = relationship(
        cascade="all, delete-orphan",
        order_by="RecipeLine.position",
        foreign_keys="RecipeLine.recipe_id",
        lazy="selectin",
    )


class RecipeLine(Base):
    """Either an ingredient (quantity in ``unit``) or a sub-recipe (quantity in its portions)."""

    __tablename__ = "recipe_line"
    __table_args__ = (
        UniqueConstraint("recipe_id", "position"),
        CheckConstraint(
            "(ingredient_id IS NULL) <> (sub_recipe_id IS NULL)", name="ingredient_xor_recipe"
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("trim_fraction >= 0", name="trim_fraction_not_negative"),
        # Below 1: SQLite keeps quantities as integers of 10⁻⁹ units (see core.db.Quantity).
        CheckConstraint("trim_fraction < 1", name="trim_fraction_below_one").ddl_if(
            dialect="postgresql"
        ),
        CheckConstraint(f"trim_fraction < {10**SCALE}", name="trim_fraction_below_one").ddl_if(
            dialect="sqlite"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    ingredient_id: Mapped[int | None] = mapped_column(
        ForeignKey("ingredient.id", ondelete="RESTRICT"), index=True
    )
    sub_recipe_id: Mapped[int | None] = mapped_column(
        ForeignKey("recipe.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[Decimal]
    unit: Mapped[Unit | None] = enum_column(Unit, nullable=True)
    trim: Mapped[Decimal] = mapped_column("trim_fraction", default=Decimal(0))
    issue_storage_id: Mapped[int | None] = mapped_column(
        ForeignKey("storage_unit.id", ondelete="RESTRICT")
    )
