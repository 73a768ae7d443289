"""Transfer runs keep a fingerprint of their input (lines + catalog), so an unchanged rerun is
recognised without reading the catalog.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfer_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfer_run", schema=None) as batch_op:
        batch_op.drop_column("input_fingerprint")
