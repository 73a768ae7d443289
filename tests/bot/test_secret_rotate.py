"""`stockpot secret rotate` (a real process) re-encrypts every stored secret under the newest
key: POS credentials and tokens, Slack installations and bots. Afterwards the old key can go:
everything decrypts with the new key alone. A second run finds nothing to do, and a run after
an interrupted one continues where that stopped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from stockpot.bot.installations import EncryptedInstallationStore
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.crypto import SecretBox, generate_key
from stockpot.core.db import unit_of_work
from stockpot.core.errors import ConfigurationError
from stockpot.core.models import Base, Company, Connection, Provider
from stockpot.core.models.slack_install import slack_bots, slack_installations
from stockpot.core.secret_rotation import ENCRYPTED
from tests.bot.test_secrets import everything_stored
from tests.catalogs import TRATTORIA

STOCKPOT = str(Path(sys.executable).parent / "stockpot")
OLD, NEW = generate_key(), generate_key()


def rotate(database, keys: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STOCKPOT, "secret", "rotate", *extra],
        env={
            **os.environ,
            "DATABASE_URL": database.url,
            "STOCKPOT_SECRET_KEY": keys,
            "LOG_LEVEL": "WARNING",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def stored_secrets(database, box: SecretBox) -> dict[str, object]:
    """Every secret decrypted with ``box``: connections' credentials, installations' and
    bots' tokens."""
    store = EncryptedInstallationStore("111.222", database.engine, box)
    with database.session() as session:
        credentials = {
            name: box.decrypt(value)
            for name, value in session.execute(
                select(Connection.name, Connection.credentials).where(
                    Connection.credentials.is_not(None)
                )
            )
        }
    installation = store.find_installation(enterprise_id=None, team_id="T0003")
    bot = store.find_bot(enterprise_id=None, team_id="T0003")
    return {
        **credentials,
        "installation": (installation.bot_token, installation.user_token),
        "bot": (bot.bot_token, bot.bot_refresh_token),
    }


def seed(database, keys: list[str]) -> None:
    """Five POS connections and one Slack install, stored as the running app stores them."""
    import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
    box = SecretBox(keys)
    with unit_of_work(database.factory) as session:
        company = session.scalar(select(Company))
        for number in range(5):
            session.add(
                Connection(
                    company_id=company.id,
                    provider=Provider.CSV if number else Provider.SIDES,
                    name=f"till {number}",
                    credentials=box.encrypt({"username": "u", "password": f"pw-{number}"}),
                )
            )
    EncryptedInstallationStore("111.222", database.engine, box).save(
        Installation(
            app_id="A0001",
            team_id="T0003",
            user_id="UINSTALLER",
            bot_token="xoxb-rotate-me",
            bot_id="B1",
            bot_user_id="UBOT",
            bot_refresh_token="xoxe-refresh-me",
            user_token="xoxp-user-token",
        )
    )


def test_rotation_lets_the_old_key_go(database):
    seed(database, [OLD])
    before = stored_secrets(database, SecretBox([OLD]))
    dump = everything_stored(database)

    first = rotate(database, f"{NEW},{OLD}", "--batch", "2")
    assert first.returncode == 0, first.stderr
    assert "connection: 5 of 5 re-encrypted" in first.stdout
    assert "slack_installations: 3 of 3 re-encrypted" in first.stdout
    assert "slack_bots: 2 of 2 re-encrypted" in first.stdout
    assert everything_stored(database) != dump

    assert stored_secrets(database, SecretBox([NEW])) == before
    try:
        stored_secrets(database, SecretBox([OLD]))
    except ConfigurationError:
        pass
    else:
        raise AssertionError("the old key alone still decrypts what was stored")

    again = rotate(database, NEW)
    assert again.returncode == 0, again.stderr
    assert "connection: 0 of 5 re-encrypted" in again.stdout
    assert "the others can be removed" in again.stdout


def test_a_run_after_an_interrupted_one_continues_where_it_stopped(database):
    """Rows already under the new key (what a stopped run committed) are left alone; the
    rest are rotated."""
    seed(database, [OLD])
    with unit_of_work(database.factory) as session:
        done = session.scalars(
            select(Connection).where(Connection.name.in_(["till 0", "till 1"]))
        ).all()
        for connection in done:
            connection.credentials = SecretBox([NEW, OLD]).rotate(connection.credentials)
    rotated = rotate(database, f"{NEW},{OLD}", "--batch", "1")
    assert rotated.returncode == 0, rotated.stderr
    assert "connection: 3 of 5 re-encrypted" in rotated.stdout
    assert stored_secrets(database, SecretBox([NEW]))["till 0"]["password"] == "pw-0"


def test_a_secret_no_key_decrypts_stops_the_run_with_its_row(database):
    seed(database, [OLD])
    with unit_of_work(database.factory) as session:
        last = session.scalars(select(Connection).order_by(Connection.id.desc())).first()
        last.credentials = SecretBox([generate_key()]).encrypt({"password": "lost"})
        last_id = last.id
    failed = rotate(database, f"{NEW},{OLD}", "--batch", "1")
    assert failed.returncode == 1
    assert f"connection row {last_id} (credentials) cannot be decrypted" in failed.stderr
    assert "Traceback" not in failed.stderr
    with database.session() as session:
        first = session.scalar(select(Connection).where(Connection.name == "till 0"))
        assert SecretBox([NEW]).is_current(first.credentials), "batches before it are kept"
    for table in (slack_installations, slack_bots):
        with database.engine.connect() as connection:
            token = connection.execute(select(table.c.bot_token)).scalar_one()
        assert SecretBox([OLD]).is_current(token), "later tables wait for the next run"


NOT_SECRETS = {
    "company.catalog_token",  # a cache key, not a credential
    "slack_installations.token_type",
    "slack_installations.bot_token_expires_at",
    "slack_installations.user_token_expires_at",
    "slack_bots.bot_token_expires_at",
    "workspace_link_code.code_hash",  # a hash: nothing to decrypt
}


def test_every_column_that_holds_a_secret_is_rotated():
    """A new column named like a secret must be encrypted and listed in ENCRYPTED (or named
    here as not a secret), so rotation cannot leave it behind."""
    rotated = {f"{table.name}.{name}" for table, names in ENCRYPTED for name in names}
    tables = [*Base.metadata.sorted_tables, slack_installations, slack_bots]
    named_like_secrets = {
        f"{table.name}.{column.name}"
        for table in tables
        for column in table.columns
        if re.search(r"token|secret|credential|password|code_hash", column.name)
    }
    assert named_like_secrets - NOT_SECRETS == rotated
