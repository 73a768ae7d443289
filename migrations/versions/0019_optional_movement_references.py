"""A movement's optional references (posting, count, reversed movement) are checked once per
statement on PostgreSQL too, and its reversal index holds only reversals.

A sales movement has none of the three, yet PostgreSQL queued three foreign-key trigger calls
for each of the thousands of rows a transfer COPYs (about 0.6 ms per reference for a
2,000-line day's 1,800 movements), and the unique constraint on ``reverses_id`` inserted a
NULL entry per row. On PostgreSQL the three foreign keys go to the statement-level check of
migration 0017 (a new function, ``stockpot_movement_checks``, with the same set-based query
per parent, run only when the statement has a row with one of them), which checks more than
they did: the posting, the count and the reversed movement belong to the movement's own
company. The uniqueness of ``reverses_id`` (a movement is reversed at most once) becomes a
partial unique index ``WHERE reverses_id IS NOT NULL``: the same rule (NULLs were never
equal), without the NULL entries; ``reverses_id = …`` is what every query asks.

Deletes are refused as the foreign keys (``RESTRICT``) refused them: a stock posting with
movements (it takes the ledger in SHARE mode first, as 0017's parents do), and a reversed
movement whose reversal stays (movements are deleted only with their company, all at once,
and a company's deletion waits for the ledger's writers through its storage units). Ids and
companies of postings and movements never change (refused).

SQLite keeps its per-row foreign keys and its unique constraint (cheap in-process); its
company-rule triggers gain the three references, so both databases refuse the same rows.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUIRED = {
    # referencing column: parent table (0017's checks)
    "storage_unit_id": "storage_unit",
    "ingredient_id": "ingredient",
    "run_id": "transfer_run",
}
OPTIONAL = {
    "posting_id": "stock_posting",
    "count_id": "stock_posting",
    "reverses_id": "ledger_movement",
}
UNIQUE = "uq_ledger_movement_reverses_id"
REVERSALS = "ix_ledger_movement_reverses_id"
"""The partial unique index (PostgreSQL) that replaces the unique constraint ``UNIQUE``."""


def _fk_name(column: str, table: str) -> str:
    return f"fk_ledger_movement_{column}_{table}"


def _check(column: str, table: str) -> str:
    """Raise for the statement's rows whose ``column`` (when set) names no row of ``table``
    in the movement's own company; each distinct (company, id) looked up once by the
    parent's primary key (as in 0017)."""
    return f"""    SELECT * INTO bad FROM (
        SELECT n.company_id, n.{column} AS id
        FROM (SELECT DISTINCT company_id, {column} FROM new_rows
              WHERE {column} IS NOT NULL) n
        LEFT JOIN {table} p ON p.id = n.{column}
        WHERE p.company_id IS DISTINCT FROM n.company_id
    ) missing LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger_movement.{column} % is not a {table} of company %', bad.id,
            bad.company_id USING ERRCODE = 'foreign_key_violation',
            CONSTRAINT = '{_fk_name(column, table)}';
    END IF;
"""


ANY_OPTIONAL = " OR ".join(f"{column} IS NOT NULL" for column in OPTIONAL)

POSTGRES_CHECK = (
    """
CREATE FUNCTION stockpot_movement_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
"""
    + "".join(_check(column, table) for column, table in REQUIRED.items())
    + f"""    IF EXISTS (SELECT 1 FROM new_rows WHERE {ANY_OPTIONAL}) THEN
"""
    + "".join(_check(column, table) for column, table in OPTIONAL.items())
    + """    END IF;
    RETURN NULL;
END
$$
"""
)

POSTGRES_REVERSED_DELETED = """
CREATE FUNCTION stockpot_reversed_movement_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT m.reverses_id AS id INTO bad FROM ledger_movement m JOIN old_rows o
        ON m.company_id = o.company_id AND m.reverses_id = o.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger_movement % is reversed by a movement that stays', bad.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$
"""


def _statement_triggers(function: str) -> None:
    for event in ("INSERT", "UPDATE"):
        op.execute(f"DROP TRIGGER movement_references_{event.lower()} ON ledger_movement")
        op.execute(
            f"CREATE TRIGGER movement_references_{event.lower()} AFTER {event} ON "
            "ledger_movement REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}()"
        )


def _renumber_guard(table: str) -> str:
    return (
        f"CREATE TRIGGER movement_parent_renumbered BEFORE UPDATE OF id, company_id ON "
        f"{table} FOR EACH ROW WHEN (OLD.id <> NEW.id OR OLD.company_id <> NEW.company_id) "
        "EXECUTE FUNCTION stockpot_movement_parent_renumbered()"
    )


def _postgres_upgrade() -> None:
    for column, table in OPTIONAL.items():
        op.drop_constraint(_fk_name(column, table), "ledger_movement", type_="foreignkey")
    op.drop_constraint(UNIQUE, "ledger_movement", type_="unique")
    op.create_index(
        REVERSALS,
        "ledger_movement",
        ["reverses_id"],
        unique=True,
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    )
    op.execute(POSTGRES_CHECK)
    _statement_triggers("stockpot_movement_checks")
    # 0017's functions guard the posting like the other parents.
    op.execute(
        "CREATE TRIGGER movement_parent_lock BEFORE DELETE ON stock_posting "
        "FOR EACH STATEMENT EXECUTE FUNCTION stockpot_movement_parent_locked()"
    )
    for column in ("posting_id", "count_id"):
        op.execute(
            f"CREATE TRIGGER movement_{column}_deleted AFTER DELETE ON stock_posting "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION stockpot_movement_parent_deleted('{column}')"
        )
    op.execute(POSTGRES_REVERSED_DELETED)
    op.execute(
        "CREATE TRIGGER movement_reversed_deleted AFTER DELETE ON ledger_movement "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION stockpot_reversed_movement_deleted()"
    )
    for table in ("stock_posting", "ledger_movement"):
        op.execute(_renumber_guard(table))


def _postgres_downgrade() -> None:
    for table in ("stock_posting", "ledger_movement"):
        op.execute(f"DROP TRIGGER movement_parent_renumbered ON {table}")
    op.execute("DROP TRIGGER movement_reversed_deleted ON ledger_movement")
    op.execute("DROP FUNCTION stockpot_reversed_movement_deleted()")
    for column in ("posting_id", "count_id"):
        op.execute(f"DROP TRIGGER movement_{column}_deleted ON stock_posting")
    op.execute("DROP TRIGGER movement_parent_lock ON stock_posting")
    _statement_triggers("stockpot_movement_references")
    op.execute("DROP FUNCTION stockpot_movement_checks()")
    op.drop_index(REVERSALS, table_name="ledger_movement")
    op.create_unique_constraint(UNIQUE, "ledger_movement", ["reverses_id"])
    for column, table in OPTIONAL.items():
        op.create_foreign_key(
            _fk_name(column, table), "ledger_movement", table, [column], ["id"], ondelete="RESTRICT"
        )


def _sqlite_condition(parents: dict[str, str]) -> str:
    return " OR ".join(
        f"(NEW.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} "
        f"WHERE id = NEW.{column} AND company_id = NEW.company_id))"
        for column, table in parents.items()
    )


def _sqlite_triggers(parents: dict[str, str], names: str) -> None:
    for event in ("INSERT", "UPDATE"):
        op.execute(f"DROP TRIGGER movement_references_{event.lower()}")
        op.execute(
            f"CREATE TRIGGER movement_references_{event.lower()} BEFORE {event} ON "
            f"ledger_movement WHEN {_sqlite_condition(parents)} BEGIN "
            f"SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {names} of another "
            "company'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
        return
    _sqlite_triggers(
        {**REQUIRED, **OPTIONAL},
        "a storage unit, ingredient, run, posting, count or reversed movement",
    )
    op.execute(
        "CREATE TRIGGER movement_parent_renumbered_stock_posting BEFORE UPDATE OF id, "
        "company_id ON stock_posting WHEN OLD.id <> NEW.id OR OLD.company_id <> NEW.company_id "
        "BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: an id or a company is never "
        "changed (movements refer to it)'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_downgrade()
        return
    op.execute("DROP TRIGGER movement_parent_renumbered_stock_posting")
    _sqlite_triggers(REQUIRED, "a storage unit, ingredient or run")
