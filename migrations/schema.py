"""Schema management through Alembic (``stockpot db upgrade``).

The scripts are found next to this module, inside the installed package, never through the
working directory.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    # Alembic is imported where it is used: reading the revision (every command) needs none.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    try:
        command.downgrade(alembic_config(database_url), revision)
    except CommandError as error:
        raise ValueError(str(error)) from None


def revisions(connection: Connection) -> tuple[str | None, str | None]:
    """The database's revision and the newest one this release knows: one query, and no
    Alembic environment (which logged two lines on every command)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None, head_revision()
    current = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return current, head_revision()


@cache
def head_revision() -> str:
    """The newest revision this release knows. The chain is linear and every script is named
    after its revision (``NNNN_name.py``, revision ``NNNN``), so the newest is the highest
    number; ``tests/core/test_schema.py`` checks this against Alembic's own reading."""
    return max(
        path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
    )


def alembic_head() -> str | None:
    """The head as Alembic reads it (every script imported): for tests and ``db upgrade``."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def include_object(dialect: str) -> Any:
    """Alembic's ``include_object`` for comparing the models with a database: an index or
    constraint the model creates on the other database only (``ddl_if``) is not expected;
    on PostgreSQL the movement references that a statement trigger checks are not foreign
    keys (``core.models.ledger.STATEMENT_CHECKED``, migrations 0017 and 0019)."""
    from stockpot.core.models.ledger import STATEMENT_CHECKED

    def include(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        condition = getattr(item, "_ddl_if", None)
        if not reflected and condition is not None and condition.dialect not in (None, dialect):
            return False  # the model creates it on the other database only (``ddl_if``)
        if dialect != "postgresql" or type_ != "foreign_key_constraint":
            return True
        columns = {column.name for column in item.columns}
        return not (item.table.name == "ledger_movement" and columns <= STATEMENT_CHECKED)

    return include
