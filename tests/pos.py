"""POS test helpers: the test company's catalog, connecting to the sandboxes, and what a
transfer left behind (the fixtures built on them are in ``tests.plugin``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select

from stockpot.core import ledger
from stockpot.core.lookup import company_by_name
from stockpot.core.mapping import IgnoreChoice, IngredientChoice, set_mapping
from stockpot.core.models import Ingredient, LedgerMovement, PosItem, RunStatus, TransferRun
from stockpot.core.pos import connections
from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME

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


def consented(browser: httpx.Client, link: str) -> str:
    """Open a start link (Slack's) in ``browser`` and let the sandbox consent: the address
    Lightspeed sends that browser back to."""
    start = browser.get(link)
    assert start.status_code == 302, start.text
    consent = browser.get(start.headers["location"])
    assert consent.status_code == 302, consent.text
    return consent.headers["location"]


def connect_lightspeed(database, settings, company_id: int, policy=None):
    state, code = authorize(database, settings, company_id)
    return connections.complete_lightspeed(
        database.factory, settings, state=state, code=code, cookie=None, policy=policy
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


GOLDEN_MAPPING = {
    "BRG-01": "Beef patty",
    "MOD-CHS": "Cheese slice",
    "SID-FRY": "Fries",
    "DRK-COLA": "Cola can",
    "SAL-CSR": "Salad",
}


STORE = "36"
MAPPED = {
    "5016": "Beef patty",  # Pizza Margherita, standing in for its recipe
    "5017": "Salad",  # Pizza Salami
    "8001": "Cola can",
    "7002": "Cheese slice",  # topping Salami
    "7003": "Fries",  # topping Basilikum
}


def connect(database, settings, company, policy, password=DEFAULT_PASSWORD):
    return connections.connect_sides(
        database.factory,
        settings,
        company_id=company,
        username=DEFAULT_USERNAME,
        password=password,
        policy=policy,
    )


def map_golden(database) -> None:
    with database.session() as session, session.begin():
        ingredients = dict(session.execute(select(Ingredient.name, Ingredient.id)).tuples().all())
        for key, ingredient in MAPPED.items():
            item = session.scalar(select(PosItem).where(PosItem.key == key))
            set_mapping(session, item, IngredientChoice(ingredients[ingredient], Decimal(1)))
        menu = session.scalar(select(PosItem).where(PosItem.key == "6001"))
        set_mapping(session, menu, IgnoreChoice())
