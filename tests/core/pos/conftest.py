"""POS tests: the sandbox servers on free ports, settings pointing at them, and a company."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from stockpot.core import ledger
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.crypto import generate_key
from stockpot.core.lookup import company_by_name
from stockpot.core.models import LedgerMovement, RunStatus, TransferRun
from stockpot.core.pos import connections
from stockpot.core.pos.http import RetryPolicy
from stockpot.core.settings import Settings
from stockpot.sandbox.lightspeed import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, LightspeedSandbox
from stockpot.sandbox.sides import SidesSandbox

REDIRECT = "http://127.0.0.1:3000/lightspeed/oauth/callback"
COMPANY = "Harbour Kitchen"
CATALOG = """
company: Harbour Kitchen
storage_units:
  - {name: Kitchen, address: "1 Marine Parade, Brighton"}
  - {name: Bar, address: "1 Marine Parade, Brighton"}
ingredients:
  - {name: Beef patty, base_unit: pcs}
  - {name: Cheese slice, base_unit: pcs}
  - {name: Fries, base_unit: kg}
  - {name: Cola can, base_unit: pcs}
  - {name: Salad, base_unit: pcs}
"""


@pytest.fixture
def lightspeed():
    with LightspeedSandbox().running() as server:
        yield server


@pytest.fixture
def sides():
    """Long retention, so the reference day of 2025-03-14 can be fetched today."""
    with SidesSandbox(retention_days=5000).running() as server:
        yield server


@pytest.fixture
def settings(monkeypatch, lightspeed, sides) -> Settings:
    for name, value in {
        "STOCKPOT_SECRET_KEY": generate_key(),
        "LIGHTSPEED_CLIENT_ID": DEFAULT_CLIENT_ID,
        "LIGHTSPEED_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "LIGHTSPEED_REDIRECT_URI": REDIRECT,
        "LIGHTSPEED_API_URL": lightspeed.url,
        "LIGHTSPEED_AUTH_URL": lightspeed.url,
        "SIDES_API_URL": sides.url,
        "STOCKPOT_POS_REQUESTS_PER_SECOND": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture
def waits():
    """Retry waits, recorded instead of slept."""
    return []


@pytest.fixture
def policy(waits) -> RetryPolicy:
    return RetryPolicy(attempts=5, sleep=waits.append, jitter=lambda cap: cap)


@pytest.fixture
def company(database) -> int:
    import_catalog(database.factory, CATALOG, source="catalog.yaml")
    with database.session() as session:
        return company_by_name(session, COMPANY).id


def authorize(database, settings, company_id: int, **kwargs) -> tuple[str, str]:
    """Start a Lightspeed authorization and let the sandbox consent: (state, code)."""
    url = connections.start_lightspeed(
        database.factory, settings, company_id=company_id, started_by="U123", **kwargs
    )
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    redirect = urlsplit(answer.headers["location"])
    assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == REDIRECT
    query = parse_qs(redirect.query)
    return query["state"][0], query["code"][0]


def connect_lightspeed(database, settings, company_id: int, policy=None):
    state, code = authorize(database, settings, company_id)
    return connections.complete_lightspeed(
        database.factory, settings, state=state, code=code, policy=policy
    )


def transfer(database, settings, policy, day: date):
    """Fetch and transfer a day of the test's location (``database.location_id``)."""
    return connections.transfer_day(
        database.factory, settings, database.location_id, day, triggered_by="test", policy=policy
    )


def balances(database) -> dict[str, Decimal]:
    with database.session() as session:
        rows = ledger.balances(session, company_by_name(session, COMPANY))
    return {row.ingredient: row.quantity for row in rows}


def count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_open_day_left_alone(database) -> None:
    """A day the POS has not closed is asked for again later: nothing posted, nothing logged
    (an automatic transfer waiting for the close would otherwise fill the log)."""
    assert count(database, LedgerMovement) == 0
    assert count(database, TransferRun) == 0


def assert_failed_and_nothing_posted(database, reason: str) -> None:
    assert count(database, LedgerMovement) == 0
    with database.session() as session:
        run = session.scalars(select(TransferRun).order_by(TransferRun.id.desc())).first()
    assert run.status is RunStatus.FAILED and reason in run.errors[0]
