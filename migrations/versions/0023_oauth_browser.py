"""A Lightspeed authorization started from Slack is bound to the browser that opened its start
link (login CSRF: a forwarded link must not connect someone else's Lightspeed), and remembers
the Slack workspace it was started from.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_team", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("opened_at", stockpot.core.db.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.drop_column("browser_hash")
        batch_op.drop_column("opened_at")
        batch_op.drop_column("notify_team")
