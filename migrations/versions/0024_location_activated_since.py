"""A location remembers the first day its activation covers, apart from the first day automatic
transfers cover (which a resume moves): the variance note's "not transferred yet" days start
there, so a pause and resume before the first transfer no longer hides the paused days.

Existing locations start from their ``automatic_since`` (the best known; one resumed before
this revision keeps its resume day).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_since", sa.Date(), nullable=True))
    op.execute("UPDATE external_location SET activated_since = automatic_since")


def downgrade() -> None:
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.drop_column("activated_since")
