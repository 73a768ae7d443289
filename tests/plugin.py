"""The shared test fixtures, one pytest plugin (registered by ``tests/conftest.py``): the
Lightspeed and SIDES sandboxes on free ports, settings pointing at them, a company, a
connected store, and PgBouncer. Any test asks for them by name; nothing imports them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.crypto import generate_key
from stockpot.core.locations import link_storage_unit, set_active
from stockpot.core.lookup import company_by_name
from stockpot.core.mapping import IngredientChoice, set_mapping
from stockpot.core.models import ExternalLocation, Ingredient, PosItem
from stockpot.core.pos import connections
from stockpot.core.pos.http import RetryPolicy
from stockpot.core.pos.pacing import forget_pacers
from stockpot.core.settings import Settings
from stockpot.sandbox.lightspeed import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    GOLDEN_LOCATION_ID,
    LightspeedSandbox,
)
from stockpot.sandbox.sides import SidesSandbox
from tests import pgbouncer
from tests.pos import CATALOG, COMPANY, GOLDEN_MAPPING, REDIRECT, STORE, connect, connect_lightspeed


@pytest.fixture(autouse=True)
def no_worker_process_outlives_its_test() -> Iterator[None]:
    from tests.core.jobs.test_worker_processes import STARTED

    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


@pytest.fixture
def lightspeed():
    with LightspeedSandbox(plain_http_loopback=True).running() as server:
        yield server


@pytest.fixture
def sides():
    """Long retention, so the reference day of 2025-03-14 can be fetched today."""
    with SidesSandbox(retention_days=5000).running() as server:
        yield server


@pytest.fixture
def settings(monkeypatch, lightspeed, sides) -> Iterator[Settings]:
    """Settings pointing at the sandboxes; each test's connections are paced afresh (their ids
    come again in the next test)."""
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
    forget_pacers()
    yield Settings()
    forget_pacers()


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


def synced_and_linked(database, settings, policy, connection_id: int, external_id: str):
    """Sync a connection's locations and items, link one location to the Kitchen and switch
    it on; the database remembers which (``location_id``, ``connection_id``)."""
    connections.sync_locations(database.factory, settings, connection_id, policy=policy)
    connections.sync_items(database.factory, settings, connection_id, policy=policy)
    with database.session() as session, session.begin():
        location = session.scalar(
            select(ExternalLocation).where(ExternalLocation.external_id == external_id)
        )
        link_storage_unit(session, location, "Kitchen")
        set_active(session, location, True)
        database.location_id, database.connection_id = location.id, connection_id
    return database


@pytest.fixture
def connected(database, settings, company, policy):
    """SIDES connected and synced, its store 36 linked to the Kitchen and active."""
    info = connect(database, settings, company, policy)
    return synced_and_linked(database, settings, policy, info.id, STORE)


@pytest.fixture
def lightspeed_connected(database, settings, company, policy):
    """Lightspeed connected and synced, the golden location linked, active and mapped."""
    info = connect_lightspeed(database, settings, company, policy)
    synced_and_linked(database, settings, policy, info.id, str(GOLDEN_LOCATION_ID))
    with database.session() as session, session.begin():
        ingredients = dict(session.execute(select(Ingredient.name, Ingredient.id)).tuples().all())
        for sku, ingredient in GOLDEN_MAPPING.items():
            item = session.scalar(select(PosItem).where(PosItem.key == sku))
            set_mapping(session, item, IngredientChoice(ingredients[ingredient], Decimal(1)))
    return database


@pytest.fixture
def postgres(connected):
    if connected.dialect != "postgresql":
        pytest.skip(
            "PostgreSQL only: worker processes sharing a queue, killed workers and a server "
            "going away need a real server (SQLite runs one process)"
        )
    return connected


@pytest.fixture(scope="session")
def pgbouncer_url(postgres_url: str) -> Iterator[str]:
    """The test database's URL through PgBouncer (transaction pooling)."""
    yield from pgbouncer.running(postgres_url)
