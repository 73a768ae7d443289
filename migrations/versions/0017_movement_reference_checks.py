"""A movement's storage unit, ingredient and run are checked once per statement on PostgreSQL.

A transfer posts thousands of movements in one COPY, and PostgreSQL checks a foreign key with
one trigger call and one index probe per row and key: the four keys of ``ledger_movement``
(company, storage unit, ingredient, run) were half of a 2,000-line day's transfer. On
PostgreSQL they are replaced by one statement-level trigger that checks every new or changed
row in one set-based query per parent over the statement's transition table, and it checks
more than the keys did: the storage unit, the ingredient and the run belong to the
movement's own company (which also proves the company exists: storage units reference it).

Parents are archived, never deleted; a delete that would orphan a movement is refused
(``stockpot_movement_parent_deleted``), except a company's, whose movements go with it as the
old ``ON DELETE CASCADE`` did. The delete takes ``ledger_movement`` in SHARE mode first, so it
waits for every transaction writing movements to finish and then sees their rows; a writer
that comes after waits for the delete and its check then finds the parent gone. Parents'
ids and companies never change (refused).

SQLite keeps its per-row foreign keys (checked in-process, cheap) and gains per-row triggers
for the same company rule and the same refusal to renumber a parent, so both databases refuse
the same rows.

The other references of a movement (posting, count, reversed movement) are NULL on sales
movements and stay foreign keys.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARENTS = {
    # referencing column: (parent table, ON DELETE of the old foreign key)
    "storage_unit_id": ("storage_unit", "RESTRICT"),
    "ingredient_id": ("ingredient", "RESTRICT"),
    "run_id": ("transfer_run", "RESTRICT"),
}
CHECKED = {"company_id": ("company", "CASCADE"), **PARENTS}
"""The foreign keys PostgreSQL no longer declares (``core.models.ledger.STATEMENT_CHECKED``)."""


def _fk_name(column: str) -> str:
    return f"fk_ledger_movement_{column}_{CHECKED[column][0]}"


def _missing_parent(column: str, table: str) -> str:
    """The statement's rows whose ``column`` names no row of ``table`` in the movement's own
    company; each distinct (company, id) is looked up once, by the parent's primary key (a
    join on id alone: with the company in the join condition the planner may pick the
    parent's company index and scan a company's rows once per id)."""
    present = f" WHERE {column} IS NOT NULL" if column == "run_id" else ""
    return (
        f"SELECT n.company_id, n.{column} AS id "
        f"FROM (SELECT DISTINCT company_id, {column} FROM new_rows{present}) n "
        f"LEFT JOIN {table} p ON p.id = n.{column} "
        "WHERE p.company_id IS DISTINCT FROM n.company_id"
    )


POSTGRES_CHECK = (
    """
CREATE FUNCTION stockpot_movement_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
"""
    + "".join(
        f"""    SELECT * INTO bad FROM ({_missing_parent(column, table)}) missing LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger_movement.{column} % is not a {table} of company %', bad.id,
            bad.company_id USING ERRCODE = 'foreign_key_violation',
            CONSTRAINT = '{_fk_name(column)}';
    END IF;
"""
        for column, (table, _) in PARENTS.items()
    )
    + """    RETURN NULL;
END
$$
"""
)

POSTGRES_GUARDS = """
CREATE FUNCTION stockpot_movement_parent_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE ledger_movement IN SHARE MODE;
    RETURN NULL;
END
$$;
CREATE FUNCTION stockpot_movement_parent_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    EXECUTE format(
        'SELECT m.%1$I AS id FROM ledger_movement m JOIN old_rows o '
        'ON m.company_id = o.company_id AND m.%1$I = o.id LIMIT 1',
        TG_ARGV[0]
    ) INTO bad;
    IF bad.id IS NOT NULL THEN
        RAISE EXCEPTION '% % has movements: archive it instead of deleting it',
            TG_TABLE_NAME, bad.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION stockpot_movement_parent_renumbered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% %: an id or a company is never changed (movements refer to it)',
        TG_TABLE_NAME, OLD.id USING ERRCODE = 'foreign_key_violation';
END
$$;
CREATE FUNCTION stockpot_company_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM ledger_movement WHERE company_id = OLD.id;
    RETURN OLD;
END
$$;
"""


def _postgres_upgrade() -> None:
    for column in CHECKED:
        op.drop_constraint(_fk_name(column), "ledger_movement", type_="foreignkey")
    op.execute(POSTGRES_CHECK)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER movement_references_{event.lower()} AFTER {event} ON "
            "ledger_movement REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION stockpot_movement_references()"
        )
    op.execute(POSTGRES_GUARDS)
    for column, (table, _) in PARENTS.items():
        op.execute(
            f"CREATE TRIGGER movement_parent_lock BEFORE DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION stockpot_movement_parent_locked()"
        )
        op.execute(
            f"CREATE TRIGGER movement_parent_deleted AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION stockpot_movement_parent_deleted('{column}')"
        )
        op.execute(
            f"CREATE TRIGGER movement_parent_renumbered BEFORE UPDATE OF id, company_id ON "
            f"{table} FOR EACH ROW WHEN (OLD.id <> NEW.id OR OLD.company_id <> NEW.company_id) "
            "EXECUTE FUNCTION stockpot_movement_parent_renumbered()"
        )
    op.execute(
        "CREATE TRIGGER movement_company_deleted BEFORE DELETE ON company "
        "FOR EACH ROW EXECUTE FUNCTION stockpot_company_deleted()"
    )


def _postgres_downgrade() -> None:
    op.execute("DROP TRIGGER movement_company_deleted ON company")
    for table, _ in PARENTS.values():
        for trigger in ("movement_parent_lock", "movement_parent_deleted"):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        op.execute(f"DROP TRIGGER movement_parent_renumbered ON {table}")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER movement_references_{event} ON ledger_movement")
    for function in (
        "stockpot_movement_references",
        "stockpot_movement_parent_locked",
        "stockpot_movement_parent_deleted",
        "stockpot_movement_parent_renumbered",
        "stockpot_company_deleted",
    ):
        op.execute(f"DROP FUNCTION {function}()")
    for column, (table, ondelete) in CHECKED.items():
        op.create_foreign_key(
            _fk_name(column),
            "ledger_movement",
            table,
            [column],
            ["id"],
            ondelete=ondelete,
        )


def _sqlite_condition() -> str:
    return " OR ".join(
        f"(NEW.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} "
        f"WHERE id = NEW.{column} AND company_id = NEW.company_id))"
        for column, (table, _) in PARENTS.items()
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
        return
    # SQLite keeps its foreign keys (existence, deletes); the triggers add the company rule.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER movement_references_{event.lower()} BEFORE {event} ON "
            f"ledger_movement WHEN {_sqlite_condition()} BEGIN "
            "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a storage unit, ingredient "
            "or run of another company'); END"
        )
    for table, _ in PARENTS.values():
        op.execute(
            f"CREATE TRIGGER movement_parent_renumbered_{table} BEFORE UPDATE OF id, "
            f"company_id ON {table} WHEN OLD.id <> NEW.id OR OLD.company_id <> NEW.company_id BEGIN "
            "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: an id or a company is never "
            "changed (movements refer to it)'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_downgrade()
        return
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER movement_references_{event}")
    for table, _ in PARENTS.values():
        op.execute(f"DROP TRIGGER movement_parent_renumbered_{table}")
