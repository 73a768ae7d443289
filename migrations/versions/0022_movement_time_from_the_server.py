"""A movement's ``created_at`` defaults to the transaction's time on PostgreSQL.

A 2,000-line day posts about 1,800 movements in one COPY, and PostgreSQL's work on them (11 ms
measured alone, against 4 ms for the COPY of the day's raw lines into a temporary table) is
the largest share of the day's transfer. With ``DEFAULT now()`` the COPY no longer sends a
timestamp with every row for the server to parse: −0.4 ms a day. Every movement of a
transaction gets the same time, as when the client sent one.

SQLite keeps its client-side ``created_at`` (the model's default): the cost does not apply
there.

Tried and not kept: a BRIN index for ``run_id`` instead of the B-tree (−0.4 ms a day more). A
range written since the last summary is read by every lookup, and only (auto)vacuum
summarises: on a server with autovacuum off, a rerun's lookup read the whole table (716
pages, 4 ms, against 64 pages once summarised).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "ledger_movement"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN created_at SET DEFAULT now()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ALTER COLUMN created_at DROP DEFAULT")
