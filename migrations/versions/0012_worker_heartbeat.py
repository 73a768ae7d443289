"""Worker heartbeats: which worker processes are alive, for /readyz and operators.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("started_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("beat_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeat")),
    )
    op.create_index(op.f("ix_worker_heartbeat_beat_at"), "worker_heartbeat", ["beat_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_worker_heartbeat_beat_at"), table_name="worker_heartbeat")
    op.drop_table("worker_heartbeat")
