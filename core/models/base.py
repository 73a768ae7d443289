"""Declarative base shared by every table, with the constraint names Alembic needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from stockpot.core.db import Quantity, UtcDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer, "sqlite")
"""64-bit ids on PostgreSQL; on SQLite only INTEGER PRIMARY KEY auto-increments."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), Decimal: Quantity()}  # noqa: RUF012


def enum_column(enum: type[StrEnum], **kwargs: Any) -> Any:
    """An enum stored as its string value (portable, readable, no native PG type to migrate)."""
    return mapped_column(
        Enum(
            enum,
            native_enum=False,
            length=32,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        **kwargs,
    )


def company_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)


def created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow)
