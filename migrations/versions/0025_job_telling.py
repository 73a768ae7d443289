"""A job's failure or cancellation is kept with the duty to tell it (``job.telling``), in the
same transaction: a worker killed after recording the failure and before its handler told
Slack left "Importing…" for ever; now the next worker tells it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWED = sa.text("telling IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telling", sa.JSON(none_as_null=True), nullable=True))
        batch_op.create_index(
            "ix_job_telling", ["lease_expires_at"], postgresql_where=OWED, sqlite_where=OWED
        )


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_telling")
        batch_op.drop_column("telling")
