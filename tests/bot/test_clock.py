"""Whose clock a typed day is read on: ``yesterday`` in Slack is the company's yesterday
(its report timezone, else its first location's), in every command, never the server's.

No clock is faked: the company is put in a zone whose date differs from UTC's right now
(UTC+14 from 10:00 UTC, UTC-11 before 11:00 UTC), so the server's date is the wrong answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from stockpot.core.db import unit_of_work
from stockpot.core.models import Company
from tests.bot.conftest import ADMIN
from tests.bot.test_csv_upload import setup, share
from tests.bot.test_slack_app import reply, texts
from tests.core.csv_import.files import TABBED


def _zone_off_utc() -> ZoneInfo:
    hour = datetime.now(UTC).hour
    return ZoneInfo("Pacific/Kiritimati" if hour >= 10 else "Pacific/Pago_Pago")


def _yesterdays(zone: ZoneInfo, ask) -> tuple[set[date], date]:
    """The company's yesterday around ``ask`` (two if its midnight passes meanwhile)."""
    before = datetime.now(zone).date()
    ask()
    after = datetime.now(zone).date()
    return {before - timedelta(days=1), after - timedelta(days=1)}, datetime.now(UTC).date()


@pytest.fixture
def far_company(bot) -> ZoneInfo:
    zone = _zone_off_utc()
    with unit_of_work(bot.database.factory) as session:
        session.execute(
            update(Company)
            .where(Company.name == "Trattoria Esempio")
            .values(report_timezone=zone.key)
        )
    return zone


def test_report_now_yesterday_is_the_company_s_yesterday(bot, far_company):
    expected, utc_today = _yesterdays(
        far_company, lambda: bot.send.command("/pos", "report now yesterday", user=ADMIN)
    )
    answer = reply(bot, "The report of")
    day = next(d for d in expected if f"The report of {d}" in str(answer.args))
    assert day != utc_today - timedelta(days=1), "the server's yesterday, not the company's"


def test_report_now_without_a_day_is_the_company_s_yesterday(bot, far_company):
    expected, _ = _yesterdays(
        far_company, lambda: bot.send.command("/pos", "report now", user=ADMIN)
    )
    answer = str(reply(bot, "The report of").args)
    assert any(f"The report of {d}" in answer for d in expected), answer


def test_ledger_yesterday_heads_with_the_company_s_yesterday(bot, far_company):
    expected, _ = _yesterdays(
        far_company, lambda: bot.send.command("/ledger", "yesterday", user=ADMIN)
    )
    answer = str(reply(bot, "yesterday:").args)
    assert any(f"yesterday: {d:%a} {d.isoformat()}" in answer for d in expected), answer


def test_a_shared_csv_without_dates_starts_on_the_company_s_yesterday(bot, far_company):
    """The date picker of a file without a date column starts on yesterday: the company's,
    as `/transfer yesterday` reads it (it was UTC's)."""
    setup(bot)
    expected, _ = _yesterdays(far_company, lambda: None)
    preview = texts(share(bot, "F9", "bons.tsv", TABBED))
    assert any(f'"initial_date": "{d.isoformat()}"' in preview for d in expected), preview
