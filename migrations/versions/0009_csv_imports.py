"""CSV imports: each imported file, for duplicate refusal and undo.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "csv_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("imported", "undone", name="importstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("undone_at", stockpot.core.db.UtcDateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_csv_import_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_csv_import_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csv_import")),
    )
    op.create_index(
        "ix_csv_import_connection_hash", "csv_import", ["connection_id", "content_hash"]
    )
    op.create_index(op.f("ix_csv_import_company_id"), "csv_import", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_csv_import_company_id"), table_name="csv_import")
    op.drop_index("ix_csv_import_connection_hash", table_name="csv_import")
    op.drop_table("csv_import")
