"""The large values every transfer run writes are compressed with LZ4 on PostgreSQL.

A run stores the POS's answer as received (``raw_payload.body``: a Lightspeed day of 2,000
lines is megabytes of JSON), the catalog subset its engine read (``transfer_snapshot.body``:
about 310 KB for the benchmark's day) and, for a job, its report (``job_effect.result``,
``job.result``). PostgreSQL compresses such values with pglz by default, in the writing
backend, inside the run's transaction: the snapshot alone took 3.6 ms to insert with pglz
against 1.4 ms with LZ4 (44 KB against 55 KB stored). Values written before stay as they
are (both methods are read transparently); new ones use LZ4.

Only where the server offers it (PostgreSQL 14 or later, built with LZ4, as Debian's and the
official images are); elsewhere, and on SQLite, nothing changes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("raw_payload", "body"),
    ("transfer_snapshot", "body"),
    ("job_effect", "result"),
    ("job", "result"),
)


def _lz4_offered() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods = bind.scalar(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    )
    return methods is not None and "lz4" in methods


def _set(method: str) -> None:
    if not _lz4_offered():
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    _set("lz4")


def downgrade() -> None:
    _set("default")
