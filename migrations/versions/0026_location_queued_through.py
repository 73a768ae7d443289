"""A location remembers the last business date the scheduler dealt with (``queued_through``):
a scheduler down for longer than it queues on its own (``LOOKBACK_DAYS``) skipped the older
days without a word; now it knows where it stopped and offers them for catching up.

Existing locations start without one: the first tick looks from the first day their automatic
transfers cover and offers only days with no transfer queued or live.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_through", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.drop_column("queued_through")
