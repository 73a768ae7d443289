"""Jobs in the database; each location's transfer time and automatic coverage; company reports.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 07:59:45.865429
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sync",
                "transfer",
                "migration",
                "csv_import",
                "report",
                name="jobkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "canceled",
                name="jobstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("once_key", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("run_after", stockpot.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", stockpot.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("worker_id", sa.String(length=100), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", stockpot.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", stockpot.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_job_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_job_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["external_location.id"],
            name=op.f("fk_job_location_id_external_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("once_key", name=op.f("uq_job_once_key")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_claim", ["state", "priority", "run_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_job_location_kind", ["location_id", "kind"], unique=False)
        batch_op.create_index(
            "uq_job_pending_dedupe_key",
            ["dedupe_key"],
            unique=True,
            postgresql_where=sa.text("state IN ('queued', 'running')"),
            sqlite_where=sa.text("state IN ('queued', 'running')"),
        )

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_team_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("report_channel_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("report_time", sa.Time(), nullable=False, server_default="08:00:00")
        )
        batch_op.add_column(sa.Column("report_timezone", sa.String(length=64), nullable=True))

    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transfer_time", sa.Time(), nullable=False, server_default="06:00:00")
        )
        batch_op.add_column(sa.Column("automatic_since", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("paused_at", stockpot.core.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("automatic_since")
        batch_op.drop_column("transfer_time")

    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("report_timezone")
        batch_op.drop_column("report_time")
        batch_op.drop_column("report_channel_id")
        batch_op.drop_column("report_team_id")

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_job_pending_dedupe_key",
            postgresql_where=sa.text("state IN ('queued', 'running')"),
            sqlite_where=sa.text("state IN ('queued', 'running')"),
        )
        batch_op.drop_index("ix_job_location_kind")
        batch_op.drop_index(batch_op.f("ix_job_company_id"))
        batch_op.drop_index("ix_job_claim")

    op.drop_table("job")
