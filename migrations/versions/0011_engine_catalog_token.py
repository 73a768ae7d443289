"""The catalog token, and a run's snapshot stored once per distinct snapshot.

``company.catalog_token`` changes, in the same transaction, with every write that can change a
transfer's snapshot: triggers on mappings, recipes, recipe lines, ingredients, ingredient
measures, storage units and item keys set a new random token. Transfers key their cached
catalog on it instead of digesting the whole catalog on every run. A random token (not a
counter) never repeats after a database is restored or recreated, so a process's cache cannot
mistake another catalog for its own.

Each run's snapshot moves from ``transfer_run.snapshot`` to ``transfer_snapshot``, stored once
per distinct canonical text and referenced by digest (the days of a migration mostly read the
same one).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stockpot.core.transfer.snapshot import Snapshot

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = {
    # table: (how its company is found, the columns whose update changes a snapshot)
    "pos_mapping": ("company", None),
    "recipe": ("company", ("name", "portions", "default_issue_storage_id")),
    "recipe_line": ("recipe", None),
    "ingredient": ("company", ("name", "base_unit")),
    "ingredient_measure": ("ingredient", None),
    "storage_unit": ("company", ("name",)),
}
POSTGRES_TOKEN = "md5(random()::text || clock_timestamp()::text)"
SQLITE_TOKEN = "lower(hex(randomblob(16)))"
KEYED = ("pos_item", ("key",))
"""Items only matter through their mappings (whose own triggers cover inserts and deletes),
except when an item's key changes: items first seen in sales come and go all the time."""

POSTGRES_FUNCTION = f"""
CREATE FUNCTION stockpot_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    owner integer;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    IF TG_ARGV[0] = 'recipe' THEN
        SELECT company_id INTO owner FROM recipe WHERE id = changed.recipe_id;
    ELSIF TG_ARGV[0] = 'ingredient' THEN
        SELECT company_id INTO owner FROM ingredient WHERE id = changed.ingredient_id;
    ELSE
        owner := changed.company_id;
    END IF;
    UPDATE company SET catalog_token = {POSTGRES_TOKEN} WHERE id = owner;
    RETURN NULL;
END
$$
"""

transfer_run = sa.table(
    "transfer_run",
    sa.column("id", sa.Integer()),
    sa.column("company_id", sa.Integer()),
    sa.column("snapshot", sa.JSON()),
    sa.column("snapshot_digest", sa.String()),
)
transfer_snapshot = sa.table(
    "transfer_snapshot",
    sa.column("digest", sa.String()),
    sa.column("company_id", sa.Integer()),
    sa.column("body", sa.Text()),
)
company = sa.table(
    "company", sa.column("id", sa.Integer()), sa.column("catalog_token", sa.String())
)


def _owner(way: str, row: str) -> str:
    """SQL for the company of the changed ``row`` (``NEW`` or ``OLD``) in SQLite."""
    if way == "recipe":
        return f"(SELECT company_id FROM recipe WHERE id = {row}.recipe_id)"
    if way == "ingredient":
        return f"(SELECT company_id FROM ingredient WHERE id = {row}.ingredient_id)"
    return f"{row}.company_id"


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for table, (way, columns) in WATCHED.items():
            update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"
            op.execute(
                f"CREATE TRIGGER catalog_changed AFTER INSERT OR DELETE OR {update} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION stockpot_catalog_changed('{way}')"
            )
        table, columns = KEYED
        op.execute(
            f"CREATE TRIGGER catalog_changed AFTER UPDATE OF {', '.join(columns)} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION stockpot_catalog_changed('company')"
        )
        return
    for table, (way, columns) in WATCHED.items():
        update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"
        for event, row in (("INSERT", "NEW"), ("DELETE", "OLD"), (update, "NEW")):
            _sqlite_trigger(table, event, _owner(way, row))
    table, columns = KEYED
    _sqlite_trigger(table, f"UPDATE OF {', '.join(columns)}", "NEW.company_id")


def _sqlite_trigger(table: str, event: str, owner: str) -> None:
    name = f"catalog_changed_{table}_{event.split()[0].lower()}"
    op.execute(
        f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
        f"UPDATE company SET catalog_token = {SQLITE_TOKEN} WHERE id = {owner}; END"
    )


def _drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for table in [*WATCHED, KEYED[0]]:
            op.execute(f"DROP TRIGGER catalog_changed ON {table}")
        op.execute("DROP FUNCTION stockpot_catalog_changed()")
        return
    for table in WATCHED:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER catalog_changed_{table}_{event}")
    op.execute(f"DROP TRIGGER catalog_changed_{KEYED[0]}_update")


def upgrade() -> None:
    # No table with children is rebuilt here: on SQLite, Alembic's batch mode rebuilds a table
    # by dropping it, and with foreign keys on, dropping company or transfer_run would cascade
    # to every row that references them. Columns are added and dropped with plain ALTER TABLE.
    bind = op.get_bind()
    op.add_column("company", sa.Column("catalog_token", sa.String(length=32), nullable=True))
    for company_id in bind.scalars(sa.select(company.c.id)).all():
        bind.execute(
            sa.update(company)
            .where(company.c.id == company_id)
            .values(catalog_token=secrets.token_hex(16))
        )
    _create_triggers(bind.dialect.name)

    op.create_table(
        "transfer_snapshot",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_transfer_snapshot_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_transfer_snapshot")),
    )
    op.create_index(op.f("ix_transfer_snapshot_company_id"), "transfer_snapshot", ["company_id"])
    if bind.dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE transfer_run ADD COLUMN snapshot_digest VARCHAR(64) "
            "CONSTRAINT fk_transfer_run_snapshot_digest_transfer_snapshot "
            "REFERENCES transfer_snapshot (digest)"
        )
    else:
        op.add_column(
            "transfer_run", sa.Column("snapshot_digest", sa.String(length=64), nullable=True)
        )
        op.create_foreign_key(
            op.f("fk_transfer_run_snapshot_digest_transfer_snapshot"),
            "transfer_run",
            "transfer_snapshot",
            ["snapshot_digest"],
            ["digest"],
        )
    stored: set[str] = set()
    runs = bind.execute(
        sa.select(transfer_run.c.id, transfer_run.c.company_id, transfer_run.c.snapshot)
    ).all()
    for run_id, company_id, data in runs:
        if not data:
            continue
        text = Snapshot.from_json(data).text(data["storage_unit_id"])
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest not in stored:
            bind.execute(
                sa.insert(transfer_snapshot).values(digest=digest, company_id=company_id, body=text)
            )
            stored.add(digest)
        bind.execute(
            sa.update(transfer_run)
            .where(transfer_run.c.id == run_id)
            .values(snapshot_digest=digest)
        )
    op.execute("ALTER TABLE transfer_run DROP COLUMN snapshot")


def downgrade() -> None:
    bind = op.get_bind()
    op.add_column("transfer_run", sa.Column("snapshot", sa.JSON(), nullable=True))
    rows = bind.execute(
        sa.select(transfer_run.c.id, transfer_snapshot.c.body).join(
            transfer_snapshot, transfer_snapshot.c.digest == transfer_run.c.snapshot_digest
        )
    ).all()
    for run_id, body in rows:
        bind.execute(
            sa.update(transfer_run)
            .where(transfer_run.c.id == run_id)
            .values(snapshot=json.loads(body))
        )
    bind.execute(
        sa.update(transfer_run).where(transfer_run.c.snapshot.is_(None)).values(snapshot={})
    )
    if bind.dialect.name == "postgresql":
        op.alter_column("transfer_run", "snapshot", existing_type=sa.JSON(), nullable=False)
        op.drop_constraint(
            op.f("fk_transfer_run_snapshot_digest_transfer_snapshot"),
            "transfer_run",
            type_="foreignkey",
        )
        op.drop_column("transfer_run", "snapshot_digest")
    else:
        # SQLite cannot drop a column a foreign key names: the table is rebuilt, which (like
        # every downgrade that rebuilds a table here) is for databases without runs.
        with op.batch_alter_table("transfer_run") as batch:
            batch.drop_column("snapshot_digest")
    op.drop_index(op.f("ix_transfer_snapshot_company_id"), table_name="transfer_snapshot")
    op.drop_table("transfer_snapshot")
    _drop_triggers(bind.dialect.name)
    op.execute("ALTER TABLE company DROP COLUMN catalog_token")
