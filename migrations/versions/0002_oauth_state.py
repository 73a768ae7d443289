"""Pending OAuth authorizations (Lightspeed): signed, single-use, expiring states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column(
            "provider",
            sa.Enum("lightspeed", "sides", "csv", name="provider", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("connection_name", sa.String(length=200), nullable=False),
        sa.Column("reauthorize", sa.Boolean(), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("expires_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("used_at", stockpot.core.db.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_oauth_state_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_state")),
        sa.UniqueConstraint("nonce", name=op.f("uq_oauth_state_nonce")),
    )
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_state_company_id"), ["company_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_state_company_id"))

    op.drop_table("oauth_state")
