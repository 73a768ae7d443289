"""Initial schema: catalog, POS connections and mappings, transfer runs, ledger.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpot.core.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("name", name=op.f("uq_company_name")),
    )
    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column(
            "provider",
            sa.Enum("lightspeed", "sides", "csv", name="provider", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "connected",
                "needs_reauthorization",
                "error",
                name="connectionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_connection_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint(
            "company_id", "provider", "name", name=op.f("uq_connection_company_id_provider_name")
        ),
    )
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connection_company_id"), ["company_id"], unique=False)

    op.create_table(
        "ingredient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "base_unit",
            sa.Enum(
                "mg",
                "g",
                "kg",
                "ml",
                "cl",
                "dl",
                "l",
                "pcs",
                name="unit",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_ingredient_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingredient")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_ingredient_company_id_name")),
    )
    with op.batch_alter_table("ingredient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingredient_company_id"), ["company_id"], unique=False)

    op.create_table(
        "storage_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("archived_at", stockpot.core.db.UtcDateTime(), nullable=True),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_storage_unit_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_unit")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_storage_unit_company_id_name")),
    )
    with op.batch_alter_table("storage_unit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storage_unit_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "external_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("business_day_start", sa.Time(), nullable=False),
        sa.Column("storage_unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "automatic_transfer",
            sa.Enum("active", "paused", name="automatictransfer", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_external_location_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_external_location_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_external_location_storage_unit_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_location")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_external_location_connection_id_external_id"),
        ),
    )
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_location_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "ingredient_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ingredient_id", sa.Integer(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                "mg",
                "g",
                "kg",
                "ml",
                "cl",
                "dl",
                "l",
                "pcs",
                name="unit",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", stockpot.core.db.Quantity(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ingredient_measure_amount_positive")),
        sa.ForeignKeyConstraint(
            ["ingredient_id"],
            ["ingredient.id"],
            name=op.f("fk_ingredient_measure_ingredient_id_ingredient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingredient_measure")),
        sa.UniqueConstraint(
            "ingredient_id", "unit", name=op.f("uq_ingredient_measure_ingredient_id_unit")
        ),
    )
    op.create_table(
        "pos_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "item",
                "modifier",
                "menu",
                "topping",
                name="positemkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("first_seen_in_sales_at", stockpot.core.db.UtcDateTime(), nullable=True),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_pos_item_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_pos_item_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_item")),
        sa.UniqueConstraint("connection_id", "key", name=op.f("uq_pos_item_connection_id_key")),
    )
    with op.batch_alter_table("pos_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_item_company_id"), ["company_id"], unique=False)

    op.create_table(
        "recipe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("portions", stockpot.core.db.Quantity(), nullable=False),
        sa.Column("default_issue_storage_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.CheckConstraint("portions > 0", name=op.f("ck_recipe_portions_positive")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_recipe_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["default_issue_storage_id"],
            ["storage_unit.id"],
            name=op.f("fk_recipe_default_issue_storage_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_recipe_company_id_name")),
    )
    with op.batch_alter_table("recipe", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recipe_company_id"), ["company_id"], unique=False)

    op.create_table(
        "pos_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("pos_item_id", sa.Integer(), nullable=False),
        sa.Column("ingredient_id", sa.Integer(), nullable=True),
        sa.Column("recipe_id", sa.Integer(), nullable=True),
        sa.Column("factor", stockpot.core.db.Quantity(), nullable=True),
        sa.Column("ignored", sa.Boolean(), nullable=False),
        sa.Column("updated_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN ingredient_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN recipe_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN ignored THEN 1 ELSE 0 END) = 1",
            name=op.f("ck_pos_mapping_one_target"),
        ),
        sa.CheckConstraint("ignored OR factor > 0", name=op.f("ck_pos_mapping_factor_positive")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_pos_mapping_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ingredient_id"],
            ["ingredient.id"],
            name=op.f("fk_pos_mapping_ingredient_id_ingredient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pos_item_id"],
            ["pos_item.id"],
            name=op.f("fk_pos_mapping_pos_item_id_pos_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipe.id"],
            name=op.f("fk_pos_mapping_recipe_id_recipe"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_mapping")),
        sa.UniqueConstraint("pos_item_id", name=op.f("uq_pos_mapping_pos_item_id")),
    )
    with op.batch_alter_table("pos_mapping", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_mapping_company_id"), ["company_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pos_mapping_ingredient_id"), ["ingredient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pos_mapping_recipe_id"), ["recipe_id"], unique=False)

    op.create_table(
        "recipe_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("ingredient_id", sa.Integer(), nullable=True),
        sa.Column("sub_recipe_id", sa.Integer(), nullable=True),
        sa.Column("quantity", stockpot.core.db.Quantity(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                "mg",
                "g",
                "kg",
                "ml",
                "cl",
                "dl",
                "l",
                "pcs",
                name="unit",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("trim_fraction", stockpot.core.db.Quantity(), nullable=False),
        sa.Column("issue_storage_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(ingredient_id IS NULL) <> (sub_recipe_id IS NULL)",
            name=op.f("ck_recipe_line_ingredient_xor_recipe"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_recipe_line_quantity_positive")),
        sa.CheckConstraint(
            "trim_fraction >= 0", name=op.f("ck_recipe_line_trim_fraction_not_negative")
        ),
        # Below 1: SQLite keeps quantities as integers of 10⁻⁹ units (see core.db.Quantity).
        sa.CheckConstraint(
            "trim_fraction < 1", name=op.f("ck_recipe_line_trim_fraction_below_one")
        ).ddl_if(dialect="postgresql"),
        sa.CheckConstraint(
            "trim_fraction < 1000000000", name=op.f("ck_recipe_line_trim_fraction_below_one")
        ).ddl_if(dialect="sqlite"),
        sa.ForeignKeyConstraint(
            ["ingredient_id"],
            ["ingredient.id"],
            name=op.f("fk_recipe_line_ingredient_id_ingredient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issue_storage_id"],
            ["storage_unit.id"],
            name=op.f("fk_recipe_line_issue_storage_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recipe_id"],
            ["recipe.id"],
            name=op.f("fk_recipe_line_recipe_id_recipe"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sub_recipe_id"],
            ["recipe.id"],
            name=op.f("fk_recipe_line_sub_recipe_id_recipe"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_line")),
        sa.UniqueConstraint(
            "recipe_id", "position", name=op.f("uq_recipe_line_recipe_id_position")
        ),
    )
    with op.batch_alter_table("recipe_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recipe_line_ingredient_id"), ["ingredient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recipe_line_recipe_id"), ["recipe_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recipe_line_sub_recipe_id"), ["sub_recipe_id"], unique=False
        )

    op.create_table(
        "transfer_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "manual",
                "automatic",
                "migration",
                "csv",
                "dry_run",
                name="runkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "superseded",
                name="runstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "posted", "unchanged", "preview", name="runoutcome", native_enum=False, length=32
            ),
            nullable=True,
        ),
        sa.Column("generation", sa.Integer(), nullable=True),
        sa.Column("started_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.Column("finished_at", stockpot.core.db.UtcDateTime(), nullable=True),
        sa.Column("triggered_by", sa.String(length=200), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("unmapped", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_transfer_run_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["external_location.id"],
            name=op.f("fk_transfer_run_location_id_external_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["transfer_run.id"],
            name=op.f("fk_transfer_run_superseded_by_id_transfer_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_run")),
        sa.UniqueConstraint(
            "location_id",
            "business_date",
            "generation",
            name=op.f("uq_transfer_run_location_id_business_date_generation"),
        ),
    )
    with op.batch_alter_table("transfer_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_run_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            "ix_transfer_run_location_date", ["location_id", "business_date"], unique=False
        )

    op.create_table(
        "transfer_day",
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("live_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_transfer_day_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["live_run_id"],
            ["transfer_run.id"],
            name=op.f("fk_transfer_day_live_run_id_transfer_run"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["external_location.id"],
            name=op.f("fk_transfer_day_location_id_external_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("location_id", "business_date", name=op.f("pk_transfer_day")),
    )
    with op.batch_alter_table("transfer_day", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transfer_day_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "ledger_movement",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("storage_unit_id", sa.Integer(), nullable=False),
        sa.Column("ingredient_id", sa.Integer(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "ISSUE",
                "RECEIPT",
                "WASTE",
                "TRANSFER_IN",
                "TRANSFER_OUT",
                "ADJUSTMENT",
                name="movementtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("quantity", stockpot.core.db.Quantity(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", stockpot.core.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_ledger_movement_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ingredient_id"],
            ["ingredient.id"],
            name=op.f("fk_ledger_movement_ingredient_id_ingredient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_movement.id"],
            name=op.f("fk_ledger_movement_reverses_id_ledger_movement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["transfer_run.id"],
            name=op.f("fk_ledger_movement_run_id_transfer_run"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["storage_unit_id"],
            ["storage_unit.id"],
            name=op.f("fk_ledger_movement_storage_unit_id_storage_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_movement")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_movement_reverses_id")),
    )
    with op.batch_alter_table("ledger_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_movement_balance",
            ["company_id", "storage_unit_id", "ingredient_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ledger_movement_company_date", ["company_id", "business_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_movement_run_id"), ["run_id"], unique=False)

    op.create_table(
        "raw_payload",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["transfer_run.id"],
            name=op.f("fk_raw_payload_run_id_transfer_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_raw_payload")),
    )
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


def downgrade() -> None:
    op.drop_table("raw_sale_line")
    op.drop_table("raw_payload")
    with op.batch_alter_table("ledger_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_movement_run_id"))
        batch_op.drop_index("ix_ledger_movement_company_date")
        batch_op.drop_index("ix_ledger_movement_balance")

    op.drop_table("ledger_movement")
    with op.batch_alter_table("transfer_run", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_run_location_date")
        batch_op.drop_index(batch_op.f("ix_transfer_run_company_id"))

    op.drop_table("transfer_run")
    with op.batch_alter_table("transfer_day", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_day_company_id"))

    op.drop_table("transfer_day")
    with op.batch_alter_table("recipe_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipe_line_sub_recipe_id"))
        batch_op.drop_index(batch_op.f("ix_recipe_line_recipe_id"))
        batch_op.drop_index(batch_op.f("ix_recipe_line_ingredient_id"))

    op.drop_table("recipe_line")
    with op.batch_alter_table("pos_mapping", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_mapping_recipe_id"))
        batch_op.drop_index(batch_op.f("ix_pos_mapping_ingredient_id"))
        batch_op.drop_index(batch_op.f("ix_pos_mapping_company_id"))

    op.drop_table("pos_mapping")
    with op.batch_alter_table("recipe", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recipe_company_id"))

    op.drop_table("recipe")
    with op.batch_alter_table("pos_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_item_company_id"))

    op.drop_table("pos_item")
    op.drop_table("ingredient_measure")
    with op.batch_alter_table("external_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_location_company_id"))

    op.drop_table("external_location")
    with op.batch_alter_table("storage_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storage_unit_company_id"))

    op.drop_table("storage_unit")
    with op.batch_alter_table("ingredient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingredient_company_id"))

    op.drop_table("ingredient")
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_company_id"))

    op.drop_table("connection")
    op.drop_table("company")
