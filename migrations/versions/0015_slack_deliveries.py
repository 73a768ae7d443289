"""Slack deliveries: each request Slack delivers is acted on once (replays do nothing).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_delivery")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_slack_delivery_team_id_key")),
    )
    op.create_index(op.f("ix_slack_delivery_created_at"), "slack_delivery", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_delivery_created_at"), table_name="slack_delivery")
    op.drop_table("slack_delivery")
