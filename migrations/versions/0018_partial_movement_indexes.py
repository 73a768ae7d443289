"""A movement's posting and count indexes hold only the rows that have one.

Sales movements (almost every row) have neither, and each of the thousands a transfer COPYs
inserted a NULL entry into both indexes. Every query on them asks for one posting or count
(``= id``), which a partial index ``WHERE … IS NOT NULL`` answers alike.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("posting_id", "count_id")


def upgrade() -> None:
    for column in COLUMNS:
        name = f"ix_ledger_movement_{column}"
        op.drop_index(name, table_name="ledger_movement")
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name, "ledger_movement", [column], postgresql_where=present, sqlite_where=present
        )


def downgrade() -> None:
    for column in COLUMNS:
        name = f"ix_ledger_movement_{column}"
        op.drop_index(name, table_name="ledger_movement")
        op.create_index(name, "ledger_movement", [column])
