"""The SIDES connector over real HTTP against the sandbox: credentials, sync, daily reports
with the consumption rules of sides.md §6.7, and faults."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from stockpot.core.errors import IntegrationExists
from stockpot.core.models import (
    Connection,
    ConnectionStatus,
    ExternalLocation,
    LedgerMovement,
    PosItem,
    RunOutcome,
)
from stockpot.core.pos import connections
from stockpot.core.pos.errors import DayNotComplete, PosAuthError, PosUnavailable
from stockpot.core.transfer.lines import item_key
from stockpot.core.transfer.live import run_dispositions
from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.pos import (
    MAPPED,
    assert_failed_and_nothing_posted,
    assert_open_day_left_alone,
    balances,
    connect,
    count,
    map_golden,
)
from tests.pos import transfer as transfer_day_of

GOLDEN = date(2025, 3, 14)


def transfer(database, settings, policy, day=GOLDEN):
    return transfer_day_of(database, settings, policy, day)


def test_bad_credentials_save_nothing(database, settings, company, policy):
    with pytest.raises(PosAuthError, match="Check the username and password"):
        connect(database, settings, company, policy, password="wrong")
    assert count(database, Connection) == 0


def test_good_credentials_are_saved_encrypted_and_only_once(database, settings, company, policy):
    info = connect(database, settings, company, policy)
    assert (info.label, info.status) == ("sides:SIDES", "connected")
    assert info.shown == "SIDES", "users know it by its name; the kind adds nothing"
    with database.session() as session:
        stored = session.scalar(select(Connection.credentials))
    assert DEFAULT_PASSWORD not in stored and DEFAULT_USERNAME not in stored
    with pytest.raises(IntegrationExists) as caught:
        connect(database, settings, company, policy)
    assert caught.value.code == "sides_integration_exists"


def test_sync_stores_and_products(connected, sides):
    with connected.session() as session:
        stores = {
            loc.external_id: (loc.name, loc.timezone, loc.business_day_start)
            for loc in session.scalars(select(ExternalLocation))
        }
        products = session.scalar(select(func.count()).select_from(PosItem))
        topping = session.scalar(select(PosItem).where(PosItem.key == "7002"))
    assert set(stores) == {"36", "41"}
    assert stores["36"][1:] == ("Europe/Berlin", time(5, 0))
    assert stores["41"][2] == time(0, 0)
    assert products > 100
    assert (topping.external_id, topping.kind.value) == ("T-02", "topping")


def test_a_product_sync_picks_up_renames_and_keeps_mappings(connected, settings, policy, sides):
    map_golden(connected)
    sides.rename_product(5016, "Pizza Margherita 32cm")
    summary = connections.sync_items(
        connected.factory, settings, connected.connection_id, policy=policy
    )
    assert summary.updated == ["Pizza Margherita 32cm"] and summary.created == []
    with connected.session() as session:
        item = session.scalar(select(PosItem).where(PosItem.key == "5016"))
        assert item.name == "Pizza Margherita 32cm" and item.mapping is not None


def test_an_incremental_sync_asks_only_for_changes(connected, settings, policy, sides):
    sides.clock.set(datetime.now().astimezone() + timedelta(minutes=5))
    sides.add_product("Pizza Diavola", item_number="105")
    seen = len(sides.requests)
    summary = connections.sync_items(
        connected.factory, settings, connected.connection_id, incremental=True, policy=policy
    )
    assert summary.created == ["Pizza Diavola"] and summary.updated == []
    product_calls = [r for r in sides.requests[seen:] if r.path.endswith("/products")]
    assert product_calls and all("updated_since" in r.query for r in product_calls)


def test_test_connection_and_new_credentials_keep_stores_and_links(
    connected, settings, policy, sides
):
    assert "inventory@pizzeria-beispiel.de" in connections.test_connection(
        connected.factory, settings, connected.connection_id, policy=policy
    )
    sides.add_user("kasse@pizzeria-beispiel.de", "neu", [36, 41])
    with pytest.raises(PosAuthError):
        connections.update_sides_credentials(
            connected.factory,
            settings,
            connected.connection_id,
            username="kasse@pizzeria-beispiel.de",
            password="falsch",
            policy=policy,
        )
    connections.update_sides_credentials(
        connected.factory,
        settings,
        connected.connection_id,
        username="kasse@pizzeria-beispiel.de",
        password="neu",
        policy=policy,
    )
    sides.disable_user(DEFAULT_USERNAME)
    assert "kasse@" in connections.test_connection(
        connected.factory, settings, connected.connection_id, policy=policy
    )
    with connected.session() as session:
        assert session.get_one(ExternalLocation, connected.location_id).active


def test_a_disabled_account_marks_the_connection_in_error(connected, settings, policy, sides):
    sides.disable_user(DEFAULT_USERNAME)
    with pytest.raises(PosAuthError):
        connections.test_connection(
            connected.factory, settings, connected.connection_id, policy=policy
        )
    with connected.session() as session:
        status = session.get_one(Connection, connected.connection_id).status
    assert status is ConnectionStatus.ERROR


def test_the_reference_day_lands_as_the_rules_say(connected, settings, policy, sides):
    map_golden(connected)
    report = transfer(connected, settings, policy)
    assert report.outcome is RunOutcome.POSTED
    expected = sides.expected_consumption(36, GOLDEN, expand_menus=True)
    # menu components count as the items they are; the menu itself is mapped to nothing
    assert {key: expected[key] for key in MAPPED} == {
        "5016": Decimal(3),
        "5017": Decimal(3),
        "8001": Decimal(3),  # 2 sold + 2 in the menu - 1 refunded and put back
        "7002": Decimal(2),
        "7003": Decimal(-2),  # a removed topping counts back
    }
    assert balances(connected) == {MAPPED[key]: -expected[key] for key in MAPPED}
    assert [(u["key"], u["quantity"]) for u in report.unmapped] == [("name:pizza tonno", "1")]
    with connected.session() as session:
        stored = run_dispositions(session, report.run_id)
        dispositions = {entry.line.line_id: entry.disposition for entry in stored}
    assert dispositions["990006"] == "skipped:voided_line"
    assert dispositions["990031"] == "skipped:cancelled_sale"
    assert {
        dispositions[p] for p in ("990005", "990007", "990015", "990016", "990017", "990042")
    } == {"skipped:non_item"}
    assert report.stats["skipped"] == {"cancelled_sale": 1, "non_item": 6, "voided_line": 1}


def test_a_day_fetched_twice_gives_the_same_movements(connected, settings, policy):
    map_golden(connected)
    transfer(connected, settings, policy)
    movements = count(connected, LedgerMovement)
    assert transfer(connected, settings, policy).outcome is RunOutcome.UNCHANGED
    assert count(connected, LedgerMovement) == movements


@pytest.mark.parametrize("need_restock", [True, False])
def test_generated_days_follow_the_consumption_rule(
    connected, settings, policy, sides, need_restock
):
    with connected.session() as session, session.begin():
        session.execute(update(Connection).values(settings={"refunds_need_restock": need_restock}))
    menus = {str(p.id) for p in sides.products.values() if p.type == "menu"}
    for day in (date(2026, 10, 24), date(2026, 10, 25), date(2026, 11, 6)):
        report = transfer(connected, settings, policy, day)
        sold = {u["key"]: Decimal(u["quantity"]) for u in report.unmapped}
        expected = sides.expected_consumption(
            36, day, refunds_need_restock=need_restock, expand_menus=True
        )
        want = {
            item_key(None, k[5:]) if k.startswith("name:") else k: q for k, q in expected.items()
        }
        got = {k: q for k, q in sold.items() if q and k not in menus}
        assert got == want, day


def test_an_open_day_is_refused_and_left_for_later(connected, settings, policy, sides):
    sides.clock.set(datetime.fromisoformat("2025-03-14T21:00:00+01:00"))
    with pytest.raises(DayNotComplete, match="not closed yet"):
        transfer(connected, settings, policy)
    assert_open_day_left_alone(connected)


def test_an_expired_token_signs_in_again_once(connected, settings, policy, sides):
    map_golden(connected)
    sides.fail_next(401, "token_expired")
    assert transfer(connected, settings, policy).outcome is RunOutcome.POSTED
    logins = [r for r in sides.requests if r.path.endswith("/auth/login")]
    assert len(logins) >= 2


@pytest.mark.parametrize(
    "inject",
    [
        lambda s: s.fail_next(429, "rate_limited", 2, retry_after=2),
        lambda s: s.fail_next(503, "maintenance", 2),
        lambda s: s.truncate_next(),
        lambda s: s.drop_next(),
    ],
    ids=["429", "503", "truncated", "dropped"],
)
def test_transient_faults_are_retried_and_the_day_lands_whole(
    connected, settings, policy, sides, waits, inject
):
    map_golden(connected)
    inject(sides)
    assert transfer(connected, settings, policy).outcome is RunOutcome.POSTED
    assert balances(connected)["Cola can"] == Decimal(-3)
    assert waits


def test_an_outage_that_outlasts_the_retries_fails_cleanly(connected, settings, policy, sides):
    sides.fail_next(500, "internal_error", 50)
    with pytest.raises(PosUnavailable, match="HTTP 500"):
        transfer(connected, settings, policy)
    assert_failed_and_nothing_posted(connected, "HTTP 500")
