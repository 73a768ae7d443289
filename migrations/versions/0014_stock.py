"""Stock postings (counts, receipts, waste, moves, corrections), count lines, costs.

Movements gain the posting that posted them and, for adjustments, the count they belong to
(see ``stockpot.core.stock``); receipts keep their cost per base unit; ingredients get a cost
per base unit and companies a currency (``EUR`` for the existing ones).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stock_posting",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "count",
                "receipt",
                "waste",
                "move",
                "correction",
                name="stockkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("storage_unit_id", sa.Integer(), nullable=False),
        sa.Column("to_storage_unit_id", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("posted_by", sa.String(length=200), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_stock_posting_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["stock_posting.id"],
            name=op.f("fk_stock_posting_reverses_id_stock_posting"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_stock_posting_storage_unit_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_stock_posting_to_storage_unit_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_posting")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_stock_posting_reverses_id")),
    )
    with op.batch_alter_table("stock_posting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_posting_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "stock_count_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("storage_unit_id", sa.Integer(), nullable=False),
        sa.Column("ingredient_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("counted", stockpot.core.db.Quantity(precision=30, scale=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_stock_count_line_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ingredient_id"],
            ["ingredient.id"],
            name=op.f("fk_stock_count_line_ingredient_id_ingredient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["stock_posting.id"],
            name=op.f("fk_stock_count_line_posting_id_stock_posting"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_stock_count_line_storage_unit_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_count_line")),
    )
    with op.batch_alter_table("stock_count_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_count_line_company_date", ["company_id", "business_date"], unique=False
        )
        batch_op.create_index(
            "ix_stock_count_line_key",
            ["company_id", "storage_unit_id", "ingredient_id", "business_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_stock_count_line_posting_id"), ["posting_id"], unique=False
        )

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), nullable=False, server_default="EUR")
        )

    with op.batch_alter_table("ingredient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cost", stockpot.core.db.Quantity(precision=30, scale=9), nullable=True)
        )

    with op.batch_alter_table("ledger_movement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "count_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("unit_cost", stockpot.core.db.Quantity(precision=30, scale=9), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_ledger_movement_count_id"), ["count_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_movement_posting_id"), ["posting_id"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_movement_unit_date",
            ["company_id", "storage_unit_id", "business_date"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_movement_count_id_stock_posting"),
            "stock_posting",
            ["count_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_movement_posting_id_stock_posting"),
            "stock_posting",
            ["posting_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_movement", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_movement_posting_id_stock_posting"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_movement_count_id_stock_posting"), type_="foreignkey"
        )
        batch_op.drop_index("ix_ledger_movement_unit_date")
        batch_op.drop_index(batch_op.f("ix_ledger_movement_posting_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_movement_count_id"))
        batch_op.drop_column("unit_cost")
        batch_op.drop_column("count_id")
        batch_op.drop_column("posting_id")

    # Plain ALTER TABLE (SQLite 3.35+ too): rebuilding these tables would break the catalog
    # triggers of migration 0011 that name them.
    op.execute("ALTER TABLE ingredient DROP COLUMN cost")
    op.execute("ALTER TABLE company DROP COLUMN currency")

    with op.batch_alter_table("stock_count_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_count_line_posting_id"))
        batch_op.drop_index("ix_stock_count_line_key")
        batch_op.drop_index("ix_stock_count_line_company_date")

    op.drop_table("stock_count_line")
    with op.batch_alter_table("stock_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_posting_company_id"))

    op.drop_table("stock_posting")
