"""One index for the ledger's dates: ``(company, date, storage unit)`` instead of
``(company, date)`` and ``(company, storage unit, date)``.

Every movement enters every index of ``ledger_movement``, and a transfer COPYs about 1,800
of them for a 2,000-line day: the unit-first index cost 1.2–1.9 ms of the server's 12 ms for
that COPY. The queries it served (a storage unit's days, e.g. a variance period) read the
company's days in the new index and keep the unit's entries there, before any row is
fetched: a week of one unit among five, 180 days of 1,800 movements each, 10 ms with the
unit-first index, 14 ms with this one, 32 ms with ``(company, date)`` alone. A unit's balance
as of a day reads ``ix_ledger_movement_balance`` as before.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "ledger_movement"


def upgrade() -> None:
    op.create_index(
        "ix_ledger_movement_company_date_unit",
        TABLE,
        ["company_id", "business_date", "storage_unit_id"],
    )
    op.drop_index("ix_ledger_movement_company_date", table_name=TABLE)
    op.drop_index("ix_ledger_movement_unit_date", table_name=TABLE)


def downgrade() -> None:
    op.create_index("ix_ledger_movement_company_date", TABLE, ["company_id", "business_date"])
    op.create_index(
        "ix_ledger_movement_unit_date", TABLE, ["company_id", "storage_unit_id", "business_date"]
    )
    op.drop_index("ix_ledger_movement_company_date_unit", table_name=TABLE)
