"""A run's sales lines as one compressed value per run instead of one row per line.

Existing raw lines are encoded run by run (``core.transfer.line_store``) and each run's
statistics gain the quantity of its lines per disposition (what the coverage figure reads);
the downgrade writes the rows back, with each line's disposition recomputed from the run's
snapshot.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import stockpot.core.db
from stockpot.core.exact import format_decimal
from stockpot.core.transfer.line_store import FORMAT, decode_lines, encode_lines
from stockpot.core.transfer.lines import LineKind, SaleLine

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200
"""Runs converted per round trip."""

raw_sale_line = sa.table(
    "raw_sale_line",
    sa.column("run_id", sa.Integer()),
    sa.column("position", sa.Integer()),
    sa.column("sale_id", sa.String()),
    sa.column("line_id", sa.String()),
    sa.column("parent_line_id", sa.String()),
    sa.column("pos_code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("quantity", stockpot.core.db.Quantity()),
    sa.column("voided", sa.Boolean()),
    sa.column("cancelled", sa.Boolean()),
    sa.column("item_key", sa.String()),
    sa.column("disposition", sa.String()),
)
run_lines = sa.table(
    "transfer_run_lines",
    sa.column("run_id", sa.Integer()),
    sa.column("layout", sa.Integer()),
    sa.column("count", sa.Integer()),
    sa.column("body", sa.LargeBinary()),
)
transfer_run = sa.table(
    "transfer_run",
    sa.column("id", sa.Integer()),
    sa.column("stats", sa.JSON()),
    sa.column("snapshot", sa.JSON()),
)


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def upgrade() -> None:
    op.create_table(
        "transfer_run_lines",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["transfer_run.id"],
            name=op.f("fk_transfer_run_lines_run_id_transfer_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_transfer_run_lines")),
    )
    bind = op.get_bind()
    run_ids = list(bind.scalars(sa.select(raw_sale_line.c.run_id).distinct()))
    for batch in _batches(run_ids):
        _encode(bind, batch)
    op.drop_table("raw_sale_line")


def _encode(bind: sa.Connection, run_ids: list[int]) -> None:
    lines: dict[int, list[SaleLine]] = defaultdict(list)
    volume: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = bind.execute(
        sa.select(raw_sale_line)
        .where(raw_sale_line.c.run_id.in_(run_ids))
        .order_by(raw_sale_line.c.run_id, raw_sale_line.c.position)
    )
    for row in rows:
        lines[row.run_id].append(
            SaleLine(
                sale_id=row.sale_id,
                line_id=row.line_id,
                pos_code=row.pos_code,
                name=row.name,
                quantity=row.quantity,
                parent_line_id=row.parent_line_id,
                voided=row.voided,
                cancelled=row.cancelled,
                kind=LineKind(row.kind),
            )
        )
        if not row.disposition.startswith("skipped:"):
            volume[row.run_id][row.disposition] += abs(row.quantity)
    encoded = {run_id: encode_lines(run) for run_id, run in lines.items()}
    bind.execute(
        sa.insert(run_lines),
        [
            {"run_id": run_id, "layout": FORMAT, "count": len(e.lines), "body": e.body}
            for run_id, e in encoded.items()
        ],
    )
    stats = dict(
        bind.execute(
            sa.select(transfer_run.c.id, transfer_run.c.stats).where(transfer_run.c.id.in_(run_ids))
        )
        .tuples()
        .all()
    )
    for run_id, quantities in volume.items():
        bind.execute(
            sa.update(transfer_run)
            .where(transfer_run.c.id == run_id)
            .values(
                stats={
                    **(stats.get(run_id) or {}),
                    "quantities": {k: format_decimal(v) for k, v in sorted(quantities.items())},
                }
            )
        )


def downgrade() -> None:
    from stockpot.core.transfer.engine import run_engine
    from stockpot.core.transfer.snapshot import Snapshot

    op.create_table(
        "raw_sale_line",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.String(length=200), nullable=False),
        sa.Column("line_id", sa.String(length=200), nullable=False),
        sa.Column("parent_line_id", sa.String(length=200), nullable=True),
        sa.Column("pos_code", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("quantity", stockpot.core.db.Quantity(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("item_key", sa.String(length=300), nullable=False),
        sa.Column("disposition", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["transfer_run.id"],
            name=op.f("fk_raw_sale_line_run_id_transfer_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_raw_sale_line")),
    )
    bind = op.get_bind()
    stored = bind.execute(
        sa.select(
            run_lines.c.run_id, run_lines.c.layout, run_lines.c.body, transfer_run.c.snapshot
        ).join(transfer_run, transfer_run.c.id == run_lines.c.run_id)
    ).all()
    for run_id, layout, body, snapshot in stored:
        lines = decode_lines(body, layout)
        dispositions = run_engine(
            lines, Snapshot.from_json(snapshot), snapshot["storage_unit_id"]
        ).dispositions
        rows: list[dict[str, Any]] = [
            {
                "run_id": run_id,
                "position": position,
                "sale_id": line.sale_id,
                "line_id": line.line_id,
                "parent_line_id": line.parent_line_id,
                "pos_code": line.pos_code,
                "name": line.name,
                "kind": line.kind.value,
                "quantity": line.quantity,
                "voided": line.voided,
                "cancelled": line.cancelled,
                "item_key": line.key,
                "disposition": disposition,
            }
            for position, (line, disposition) in enumerate(zip(lines, dispositions, strict=True))
        ]
        if rows:
            bind.execute(sa.insert(raw_sale_line), rows)
    op.drop_table("transfer_run_lines")
