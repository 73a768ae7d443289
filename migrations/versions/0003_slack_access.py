"""Slack access: workspaces linked to companies, bound channels, members and roles.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_channel_binding_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_binding")),
        sa.UniqueConstraint(
            "team_id", "channel_id", name=op.f("uq_channel_binding_team_id_channel_id")
        ),
    )
    with op.batch_alter_table("channel_binding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_binding_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "viewer", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_member_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint(
            "company_id", "team_id", "user_id", name=op.f("uq_member_company_id_team_id_user_id")
        ),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_company_id"), ["company_id"], unique=False)

    op.create_table(
        "workspace_company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_workspace_company_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_company")),
        sa.UniqueConstraint(
            "team_id", "company_id", name=op.f("uq_workspace_company_team_id_company_id")
        ),
    )
    with op.batch_alter_table("workspace_company", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workspace_company_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_workspace_company_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workspace_company", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspace_company_team_id"))
        batch_op.drop_index(batch_op.f("ix_workspace_company_company_id"))

    op.drop_table("workspace_company")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_company_id"))

    op.drop_table("member")
    with op.batch_alter_table("channel_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_binding_company_id"))

    op.drop_table("channel_binding")
