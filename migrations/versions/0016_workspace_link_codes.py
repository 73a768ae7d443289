"""Workspace link codes: an operator's one-time code links a workspace to an existing company.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_link_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("used_at", stockpot.core.db.UtcDateTime(), nullable=True),
        sa.Column("used_by_team", sa.String(length=32), nullable=True),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_workspace_link_code_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_link_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_workspace_link_code_code_hash")),
    )
    op.create_index(
        op.f("ix_workspace_link_code_company_id"), "workspace_link_code", ["company_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_workspace_link_code_company_id"), table_name="workspace_link_code")
    op.drop_table("workspace_link_code")
