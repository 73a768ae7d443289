"""Pending OAuth authorizations remember the Slack channel and user to tell the result.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("notify_user", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.drop_column("notify_user")
        batch_op.drop_column("notify_channel")
