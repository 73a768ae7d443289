"""Tenants and roles over real HTTP: only a company's members see its data, posting a report
to a channel is an admin's, dates are sane, a linked workspace is never moved by `/pos setup`,
and an existing company is linked to a workspace only with the operator's one-time code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from stockpot.bot.ids import ActionId, BlockId
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.models import (
    Company,
    Job,
    JobKind,
    Member,
    Role,
    WorkspaceCompany,
    WorkspaceLinkCode,
)
from stockpot.core.workspaces import new_link_code
from tests.bot.conftest import ADMIN, STRANGER, VIEWER
from tests.bot.test_install import install
from tests.bot.test_secrets import everything_stored
from tests.bot.test_slack_app import reply, texts

STOCKPOT = str(Path(sys.executable).parent / "stockpot")
CLI_COMPANY = """
company: Ristorante Operatore
storage_units: [{name: Dispensa, address: Roma}]
"""


def jobs(bot) -> int:
    """Work queued (the answers to the requests themselves are jobs too, and queue nothing)."""
    with bot.database.session() as session:
        return session.scalar(
            select(func.count()).select_from(Job).where(Job.kind != JobKind.ANSWER)
        )


def links_of(bot, team: str) -> list[str]:
    with bot.database.session() as session:
        return list(
            session.scalars(
                select(Company.name)
                .join(WorkspaceCompany, WorkspaceCompany.company_id == Company.id)
                .where(WorkspaceCompany.team_id == team)
            )
        )


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/ledger", "balances"),
        ("/ledger", "movements"),
        ("/pos", "members"),
        ("/pos", "mappings"),
        ("/pos", "locations"),
        ("/pos", "unmapped"),
        ("/pos", "report"),
        ("/transfer", "status"),
    ],
)
def test_a_workspace_user_who_is_no_member_sees_nothing_and_is_told_whom_to_ask(bot, command, text):
    bot.send.command(command, text, user=STRANGER)
    refusal = reply(bot, "you are not a member of Trattoria Esempio")
    assert f"<@{ADMIN}>" in texts(refusal), "the company's admins are named"
    assert refusal.args["response_type"] == "ephemeral"
    answers = [c for c in bot.slack.calls if c.method == "response_url"]
    assert len(answers) == 1, "nothing of the company was sent"


def test_a_non_member_s_catalog_search_offers_nothing(bot):
    search = bot.send.options(ActionId.MAP_TARGET, "", block_id=BlockId.MAP_TARGET, user=STRANGER)
    offered = search.text
    assert "Mozzarella" not in offered and "Margherita" not in offered
    viewer = bot.send.options(ActionId.MAP_TARGET, "mozz", block_id=BlockId.MAP_TARGET, user=VIEWER)
    assert "Mozzarella" in json.dumps(viewer.json()), "a member still searches"


def test_sending_a_report_to_the_channel_is_an_admin_s(bot):
    before = jobs(bot)
    bot.send.command("/pos", "report now", user=VIEWER)
    reply(bot, "you need to be an admin of Trattoria Esempio")
    assert jobs(bot) == before
    bot.send.command("/pos", "report now yesterday", user=ADMIN)
    reply(bot, "follows in this channel")
    assert jobs(bot) == before + 1


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "9999-12-31", "2999-01-01"])
def test_dates_outside_a_sane_range_are_refused_where_they_are_read(bot, day):
    before = jobs(bot)
    bot.send.command("/pos", f"report now {day}", user=ADMIN)
    refusal = reply(bot, f"{day} is outside the dates Stockpot works with")
    assert "2000-01-01" in texts(refusal) and "check the year" in texts(refusal)
    bot.send.command("/transfer", f"{day} --now", user=ADMIN)
    reply(bot, f"{day} is outside")
    bot.drain()
    assert jobs(bot) == before
    assert not [c for c in bot.slack.calls if "Something went wrong" in texts(c)]


def test_setup_in_a_linked_workspace_refuses_and_changes_nothing(bot):
    bot.send.command("/pos", "setup Altra Cosa", user=ADMIN)
    refusal = reply(bot, "already works for Trattoria Esempio")
    assert "nothing changed" in texts(refusal)
    assert not [c for c in bot.slack.calls if "now works for Altra Cosa" in texts(c)]
    assert links_of(bot, "T0001") == ["Trattoria Esempio"]
    with bot.database.session() as session:
        assert session.scalar(select(Company).where(Company.name == "Altra Cosa")) is None


def cli_link(bot, company: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STOCKPOT, "slack", "link", company],
        env={**os.environ, "DATABASE_URL": bot.database.url, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_existing_company_is_linked_only_with_the_operator_s_one_time_code(installable_bot):
    bot = installable_bot
    import_catalog(bot.database.factory, CLI_COMPANY, source="operator.yaml")
    assert install(bot).status_code == 200

    bot.send.command("/pos", "setup Ristorante Operatore", user="UINSTALLER", team="T0003")
    refusal = reply(bot, "a company named Ristorante Operatore already exists")
    assert "stockpot slack link" in texts(refusal) and "/pos link" in texts(refusal)
    assert links_of(bot, "T0003") == []

    printed = cli_link(bot, "Ristorante Operatore")
    assert printed.returncode == 0, printed.stderr
    code = printed.stdout.strip()
    assert len(code) == 14 and "/pos link" in printed.stderr
    assert code not in everything_stored(bot.database) and code.replace("-", "") not in (
        everything_stored(bot.database)
    ), "only the code's hash is stored"

    bot.send.command("/pos", "link WRNG-CODE-XXXX", user="UINSTALLER", team="T0003")
    reply(bot, "that link code is not valid")
    bot.send.command("/pos", f"link {code.lower()}", user="UINSTALLER", team="T0003")
    reply(bot, "now works for Ristorante Operatore, and you are an admin of it")
    assert links_of(bot, "T0003") == ["Ristorante Operatore"]
    with bot.database.session() as session:
        role = session.scalar(
            select(Member.role).where(Member.team_id == "T0003", Member.user_id == "UINSTALLER")
        )
    assert role is Role.ADMIN

    bot.send.command("/pos", f"link {code}", user="UOTHER9", team="T0005")
    reply(bot, "that link code is not valid")
    assert links_of(bot, "T0005") == []

    missing = cli_link(bot, "No Such Company")
    assert missing.returncode == 1 and "no company named 'No Such Company'" in missing.stderr


def test_an_expired_link_code_links_nothing(installable_bot):
    bot = installable_bot
    import_catalog(bot.database.factory, CLI_COMPANY, source="operator.yaml")
    assert install(bot).status_code == 200
    with unit_of_work(bot.database.factory) as session:
        code = new_link_code(session, "Ristorante Operatore").code
    with unit_of_work(bot.database.factory) as session:
        session.execute(
            update(WorkspaceLinkCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    bot.send.command("/pos", f"link {code}", user="UINSTALLER", team="T0003")
    reply(bot, "that link code is not valid")
    assert links_of(bot, "T0003") == []


def test_a_link_code_does_not_move_a_linked_workspace(bot):
    with unit_of_work(bot.database.factory) as session:
        code = new_link_code(session, "Osteria Altra").code
    bot.send.command("/pos", f"link {code}", user=ADMIN)
    reply(bot, "already works for Trattoria Esempio")
    assert links_of(bot, "T0001") == ["Trattoria Esempio"]
    with bot.database.session() as session:
        unused = session.scalar(select(WorkspaceLinkCode.used_at))
    assert unused is None, "a refused link leaves the code usable"
