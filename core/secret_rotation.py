"""Re-encrypting every stored secret under the newest ``STOCKPOT_SECRET_KEY``, so an old key
can be removed.

Every encrypted column is listed in ``ENCRYPTED``. Rows are read in primary-key order in
batches; each batch locks its rows, re-encrypts what is not under the newest key yet and
commits, so a run that stops (killed, database gone) keeps what it did and the next run
continues: a value already under the newest key is left as it is. A run with nothing left
rotates nothing. A value no key decrypts stops the run with its table and row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.crypto import SecretBox
from stockpot.core.db import unit_of_work
from stockpot.core.errors import ConfigurationError
from stockpot.core.models import Connection
from stockpot.core.models.slack_install import slack_bots, slack_installations

SLACK_TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
"""The token columns of Slack installations, encrypted (``bot.installations``)."""

ENCRYPTED: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (Connection.__table__, ("credentials",)),  # type: ignore[arg-type]
    (slack_installations, SLACK_TOKENS),
    (slack_bots, ("bot_token", "bot_refresh_token")),
)
"""Every column that holds a value encrypted with ``STOCKPOT_SECRET_KEY``."""


@dataclass
class Undecryptable:
    values: int
    """Encrypted values stored."""
    refused: list[str]
    """Those no key decrypts, as ``table row N (column)``."""


def undecryptable(factory: sessionmaker[Session], box: SecretBox) -> Undecryptable:
    """Every stored secret tried with ``box`` (read only): a database restored or moved
    without its key reads fine until a POS or a workspace's Slack token is first used."""
    found = Undecryptable(0, [])
    with factory() as session:
        for table, columns in ENCRYPTED:
            selected = select(table.c.id, *(table.c[name] for name in columns))
            for row in session.execute(selected.order_by(table.c.id)):
                for name in columns:
                    value = getattr(row, name)
                    if not value:
                        continue
                    found.values += 1
                    if not box.decrypts(value):
                        found.refused.append(f"{table.name} row {row.id} ({name})")
    return found


@dataclass
class Rotated:
    table: str
    values: int = 0
    """Encrypted values seen."""
    rotated: int = 0
    """Of those, re-encrypted under the newest key."""


def rotate_secrets(
    factory: sessionmaker[Session], box: SecretBox, *, batch: int = 200
) -> list[Rotated]:
    return [_rotate_table(factory, box, table, columns, batch) for table, columns in ENCRYPTED]


def _rotate_table(
    factory: sessionmaker[Session],
    box: SecretBox,
    table: Table,
    columns: tuple[str, ...],
    batch: int,
) -> Rotated:
    done = Rotated(table.name)
    key = table.c.id
    last = 0
    while True:
        with unit_of_work(factory) as session:
            rows = session.execute(
                select(key, *(table.c[name] for name in columns))
                .where(key > last)
                .order_by(key)
                .limit(batch)
                .with_for_update()
            ).all()
            for row in rows:
                changed = _rotated_values(box, table.name, row, columns, done)
                if changed:
                    session.execute(update(table).where(key == row.id).values(**changed))
        if len(rows) < batch:
            return done
        last = rows[-1].id


def _rotated_values(
    box: SecretBox, table: str, row: object, columns: tuple[str, ...], done: Rotated
) -> dict[str, str]:
    changed = {}
    for name in columns:
        value = getattr(row, name)
        if not value:
            continue
        done.values += 1
        if box.is_current(value):
            continue
        try:
            changed[name] = box.rotate(value)
        except ConfigurationError:
            raise ConfigurationError(
                f"{table} row {row.id} ({name}) cannot be decrypted with any key of "  # type: ignore[attr-defined]
                "STOCKPOT_SECRET_KEY: put back the key it was encrypted with (after the new one) "
                "and run `stockpot secret rotate` again; rows before it are done"
            ) from None
        done.rotated += 1
    return changed
