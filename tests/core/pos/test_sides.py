"""The SIDES connector over real HTTP against the sandbox: credentials, sync, daily reports
with the consumption rules of sides.md §6.7, and faults."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from stockpot.core.db import unit_of_work
from stockpot.core.errors import IntegrationExists, ValidationFailed
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
from stockpot.sandbox.http import Fault
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
    with pytest.raises(PosAuthError) as caught:
        connect(database, settings, company, policy, password="wrong")
    assert str(caught.value) == (
        f"SIDES knows no user '{DEFAULT_USERNAME}' with this password: check the username and "
        "password"
    ), "one sentence: SIDES's 'Username or password is wrong.' and our advice said it twice"
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


def _update(connected, settings, policy, username, password="pw"):
    return connections.update_sides_credentials(
        connected.factory,
        settings,
        connected.connection_id,
        username=username,
        password=password,
        policy=policy,
    )


def _signs_in_as(connected, settings, policy) -> str:
    return connections.test_connection(
        connected.factory, settings, connected.connection_id, policy=policy
    )


def test_new_credentials_of_a_user_who_does_not_see_an_active_store_are_refused(
    connected, settings, policy, sides
):
    """A kitchen manager's own user sees the delivery kitchen (41) but not Teltow (36), which
    is transferred here: taken, Teltow's transfers would have failed from then on."""
    sides.add_user("kueche@pizzeria-beispiel.de", "pw", [41])
    with pytest.raises(connections.OtherSidesStores) as caught:
        _update(connected, settings, policy, "kueche@pizzeria-beispiel.de")
    assert str(caught.value) == (
        "this SIDES user does not see Pizzeria Beispiel Teltow, active here: sign in as one who "
        "sees it, or deactivate it in `/pos locations` first"
    )
    assert "connected as inventory@" in _signs_in_as(connected, settings, policy)

    sides.add_user("filiale@pizzeria-beispiel.de", "pw", [36])
    _update(connected, settings, policy, "filiale@pizzeria-beispiel.de")
    assert "connected as filiale@" in _signs_in_as(connected, settings, policy), (
        "a store that is not active here (41) may go unseen: nothing of it is transferred"
    )


def test_two_active_stores_unseen_are_named_together(connected, settings, policy, sides):
    with unit_of_work(connected.factory) as session:
        session.execute(update(ExternalLocation).values(active=True))
    sides.add_user("nobody-much@pizzeria-beispiel.de", "pw", [])
    with pytest.raises(
        connections.OtherSidesStores,
        match=re.escape(
            "does not see 2 stores (Pizzeria Beispiel Delivery Kitchen Mitte, Pizzeria Beispiel "
            "Teltow), active here: sign in as one who sees them, or deactivate them in"
        ),
    ):
        _update(connected, settings, policy, "nobody-much@pizzeria-beispiel.de")


def test_new_credentials_of_another_sides_account_are_refused_though_its_store_ids_match(
    connected, settings, policy, sides
):
    """Store and product ids are the account's own: another account's store 36 is another
    store, and every mapping would point at other products."""
    sides.add_user("chef@anderswo.de", "pw", [36, 41], tenant=("0a1b2c3d4e5f6", "Anderswo GmbH"))
    with pytest.raises(connections.OtherSidesStores) as caught:
        _update(connected, settings, policy, "chef@anderswo.de")
    assert str(caught.value) == (
        "this user belongs to Anderswo GmbH, another SIDES account than this connection's: "
        "sign in as a user of the account set up here"
    )
    assert "connected as inventory@" in _signs_in_as(connected, settings, policy)


def test_a_disabled_account_marks_the_connection_in_error(connected, settings, policy, sides):
    sides.disable_user(DEFAULT_USERNAME)
    with pytest.raises(PosAuthError, match="SIDES has locked or deactivated the user '"):
        connections.test_connection(
            connected.factory, settings, connected.connection_id, policy=policy
        )
    with connected.session() as session:
        status = session.get_one(Connection, connected.connection_id).status
    assert status is ConnectionStatus.ERROR


def test_a_user_locked_while_signed_in_is_told_as_at_sign_in(connected, settings, policy, sides):
    """A migration signs in once: a user locked at SIDES after that gets 403
    ``account_disabled`` on every day. It was 'SIDES refused GET … (HTTP 403)', a day failed
    like a bad day, and the next 89 days asked on; it is the sign-in's refusal, which stops
    the migration and asks a person to reconnect."""
    with connections.DayFetcher(
        connected.factory, settings, connected.location_id, policy=policy
    ) as fetch:
        fetch(GOLDEN)
        sides.disable_user(DEFAULT_USERNAME)
        with pytest.raises(PosAuthError) as caught:
            fetch(GOLDEN + timedelta(days=1))
    assert str(caught.value) == (
        f"SIDES has locked or deactivated the user '{DEFAULT_USERNAME}': ask your SIDES admin "
        "to unlock it, or sign in as another user"
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


# --- answers in a shape Stockpot does not read ---------------------------------------------

REPORTS = "/daily-reports/"
POSITION = {"id": 11, "position_type": "item", "product_id": 5016, "quantity": 1}
ORDER = {"id": 1, "status": "completed", "order_type": "sale", "bill_positions": [POSITION]}


def _day(data, **fields):
    return {"is_closed": True, "data": data, **fields}


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (_day("none today"), "$.data"),
        (_day([None]), "$.data[0]"),
        (_day([ORDER, {**ORDER, "bill_positions": {"id": 12}}]), "$.data[1].bill_positions"),
        (_day([{**ORDER, "bill_positions": [POSITION, None]}]), "$.data[0].bill_positions[1]"),
        (_day([{**ORDER, "bill_positions": [[POSITION]]}]), "$.data[0].bill_positions[0]"),
        (
            _day([{**ORDER, "bill_positions": [{**POSITION, "quantity": "abc"}]}]),
            "$.data[0].bill_positions[0].quantity",
        ),
        (
            {"isClosed": True, "data": [{"id": 1, "billPositions": [POSITION, None]}]},
            "$.data[0].billPositions[1]",
        ),
        (_day([ORDER], meta=[1]), "$.meta"),
        (_day([ORDER], meta={"total_pages": "many"}), "$.meta.total_pages"),
        (_day([ORDER], links="next"), "$.links"),
        ([ORDER], "$"),
    ],
)
def test_a_day_in_a_shape_stockpot_does_not_read_fails_cleanly_naming_where(
    connected, settings, policy, sides, body, where
):
    """A daily report of valid JSON whose fields Stockpot reads have another type: refused,
    retried later, nothing posted, the message naming the field in the spelling received
    (it used to end in an internal error: an attribute of a string or of null, an invalid
    decimal)."""
    map_golden(connected)
    sides.faults.add(Fault.status(200, body), path=REPORTS, times=50)
    with pytest.raises(PosUnavailable, match="shape Stockpot does not read") as caught:
        transfer(connected, settings, policy)
    assert f"at `{where}`)" in str(caught.value)
    assert str(caught.value).startswith("SIDES answered GET /api/v1/stores/36/daily-reports/")
    assert caught.value.transient
    assert_failed_and_nothing_posted(connected, f"at `{where}`")


def test_a_later_page_in_another_shape_is_named_with_its_page(connected, settings, policy, sides):
    map_golden(connected)
    first = _day([ORDER], meta={"total_pages": 2})
    sides.faults.add(Fault.status(200, first), path=REPORTS, times=1)
    sides.faults.add(Fault.status(200, _day([7])), path=REPORTS, times=50)
    with pytest.raises(PosUnavailable, match=r"at `\$\.data\[0\]` on page 2\)"):
        transfer(connected, settings, policy)
    assert_failed_and_nothing_posted(connected, "on page 2")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([{"access_token": "t"}], "$"),
        ({"access_token": 12345, "expires_in": 3600}, "$.access_token"),
        ({"access_token": "t", "expires_in": "soon"}, "$.expires_in"),
    ],
)
def test_a_sign_in_answer_in_another_shape_fails_cleanly(
    connected, settings, policy, sides, body, where
):
    map_golden(connected)
    sides.faults.add(Fault.status(200, body), path="/auth/login", times=50)
    with pytest.raises(PosUnavailable, match="POST /api/v1/auth/login in a shape") as caught:
        transfer(connected, settings, policy)
    assert f"at `{where}`)" in str(caught.value) and caught.value.transient
    assert_failed_and_nothing_posted(connected, f"at `{where}`")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"error": "token_expired"}, "$.error"),
        ({"error": {"code": ["token_expired"]}}, "$.error.code"),
    ],
)
def test_an_error_answer_in_another_shape_fails_cleanly(
    connected, settings, policy, sides, body, where
):
    """A 401 whose error is not §6.10's object: neither taken for an expired token nor for
    refused credentials (which would need a person to reconnect)."""
    map_golden(connected)
    sides.faults.add(Fault.status(401, body), path=REPORTS, times=50)
    with pytest.raises(PosUnavailable, match=f"at `{re.escape(where)}`"):
        transfer(connected, settings, policy)
    assert_failed_and_nothing_posted(connected, f"at `{where}`")
    with connected.session() as session:
        assert session.get_one(Connection, connected.connection_id).status is not (
            ConnectionStatus.ERROR
        )


@pytest.mark.parametrize(
    ("sync", "path", "body", "where"),
    [
        ("sync_locations", "/stores", {"data": [None]}, "$.data[0]"),
        ("sync_locations", "/stores", {"data": [], "meta": [], "links": {}}, "$.meta"),
        (
            "sync_items",
            "/products",
            {"data": [{"id": 9, "item_number": {"no": 1}}]},
            "$.data[0].item_number",
        ),
        ("test_connection", "/me", {"user": "inventory", "store_ids": [36]}, "$.user"),
        ("test_connection", "/me", {"user": {}, "store_ids": 36}, "$.store_ids"),
    ],
)
def test_an_answer_in_another_shape_fails_a_sync_cleanly(
    connected, settings, policy, sides, sync, path, body, where
):
    def stored():
        with connected.session() as session:
            return (
                session.execute(select(ExternalLocation.external_id, ExternalLocation.name)).all(),
                session.execute(select(PosItem.key, PosItem.name)).all(),
            )

    before = stored()
    sides.faults.add(Fault.status(200, body), path=f"{path}$", times=50)
    with pytest.raises(PosUnavailable, match=f"GET /api/v1{path} in a shape") as caught:
        getattr(connections, sync)(
            connected.factory, settings, connected.connection_id, policy=policy
        )
    assert f"at `{where}`)" in str(caught.value)
    assert stored() == before


# --- what a POS's items may hold ----------------------------------------------------------

ODD_NAME = "Pizza \0" + "x" * 400
"""A POS's name that PostgreSQL could not keep (a NUL, longer than pos_item's 300): a sync
or a day that brought it failed as an internal error."""


def test_a_product_with_an_odd_name_is_synced_with_its_name_clipped(
    connected, settings, policy, sides
):
    sides.add_product(ODD_NAME, product_id=9101)
    summary = connections.sync_items(
        connected.factory, settings, connected.connection_id, policy=policy
    )
    with connected.session() as session:
        name = session.scalar(select(PosItem.name).where(PosItem.key == "9101"))
    assert len(name) == 300 and name.startswith("Pizza \ufffdxxx") and name.endswith("…")
    assert name in summary.created
    again = connections.sync_items(
        connected.factory, settings, connected.connection_id, policy=policy
    )
    assert again.updated == [] and again.created == []  # the clipped name is the name


def test_a_day_selling_an_item_with_an_odd_name_is_posted_the_name_clipped(
    connected, settings, policy, sides
):
    map_golden(connected)
    odd = {**POSITION, "id": 12, "product_id": 9102, "name": ODD_NAME}
    day = _day([{**ORDER, "bill_positions": [POSITION, odd]}])
    sides.faults.add(Fault.status(200, day), path=REPORTS, times=50)
    assert transfer(connected, settings, policy).outcome is RunOutcome.POSTED
    with connected.session() as session:
        name = session.scalar(select(PosItem.name).where(PosItem.key == "9102"))
    assert len(name) == 300 and "\ufffd" in name


def test_a_day_selling_an_item_whose_code_cannot_be_kept_is_refused_naming_its_line(
    connected, settings, policy, sides
):
    """A code is an item's identity: clipped, two items could become one. The day is
    refused with the line to correct in the POS (it failed as an internal error)."""
    map_golden(connected)
    odd = {**POSITION, "id": 12, "product_id": int("9" * 250)}
    day = _day([{**ORDER, "bill_positions": [POSITION, odd]}])
    sides.faults.add(Fault.status(200, day), path=REPORTS, times=50)
    with pytest.raises(ValidationFailed, match=r"line 12: the item code '9{40}…' \(250 char"):
        transfer(connected, settings, policy)
    assert_failed_and_nothing_posted(connected, "codes have at most 200 characters")


# --- paging a POS may get wrong -------------------------------------------------------------


def test_an_order_sent_again_on_a_later_page_is_counted_once(connected, settings, policy, sides):
    """Pages are read one request after another: an order that moved from page 1 to page 2
    between two requests came back on both, and its items were deducted twice."""
    map_golden(connected)
    later = {**ORDER, "id": 2, "bill_positions": [{**POSITION, "id": 21, "product_id": 5017}]}
    sides.faults.add(Fault.status(200, _day([ORDER], meta={"total_pages": 2})), path=REPORTS)
    sides.faults.add(Fault.status(200, _day([ORDER, later], meta={"total_pages": 2})), path=REPORTS)
    report = transfer(connected, settings, policy)
    assert report.outcome is RunOutcome.POSTED
    assert balances(connected) == {MAPPED["5016"]: Decimal(-1), MAPPED["5017"]: Decimal(-1)}
    assert report.stats["sales"] == 2


@pytest.mark.parametrize(
    ("paging", "where"),
    [
        ({"meta": {"total_pages": 10**9}}, "page 2 repeats page 1"),
        ({"links": {"next": "http://sides.invalid/next"}}, "page 2 repeats page 1"),
    ],
)
def test_a_listing_whose_pages_never_end_is_refused(
    connected, settings, policy, sides, paging, where
):
    """A POS that ignores ``page`` and always says another follows: the report was asked for
    page after page, for ever, holding the job (and the day's lines, growing)."""
    map_golden(connected)
    sides.faults.add(Fault.status(200, _day([ORDER], **paging)), path=REPORTS, times=10**6)
    with pytest.raises(PosUnavailable, match=where) as caught:
        transfer(connected, settings, policy)
    assert caught.value.transient
    assert_failed_and_nothing_posted(connected, where)


def test_a_store_listing_whose_pages_never_end_is_refused(connected, settings, policy, sides):
    page = {"data": [{"id": 36, "name": "Teltow"}], "meta": {"total_pages": 10**9}}
    sides.faults.add(Fault.status(200, page), path="/stores$", times=10**6)
    with pytest.raises(PosUnavailable, match="page 2 repeats page 1"):
        connections.sync_locations(
            connected.factory, settings, connected.connection_id, policy=policy
        )


# --- what a POS's stores may hold ---------------------------------------------------------


def _stores_answer(sides, **store):
    page = {"data": [{"id": 36, "name": "Teltow", "timezone": "Europe/Berlin", **store}]}
    sides.faults.add(Fault.status(200, page), path="/stores$", times=50)


def _stores(connected):
    with connected.session() as session:
        return session.execute(
            select(
                ExternalLocation.external_id, ExternalLocation.name, ExternalLocation.timezone
            ).order_by(ExternalLocation.external_id)
        ).all()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Berlin\0", "x" * 300, "../etc"])
def test_a_store_in_a_timezone_no_one_knows_is_refused_and_nothing_changes(
    connected, settings, policy, sides, zone
):
    """The timezone was stored as sent: every scheduler tick (of every company) then failed
    on it, or PostgreSQL refused it (longer than 64, a NUL) as an internal error."""
    before = _stores(connected)
    _stores_answer(sides, timezone=zone)
    with pytest.raises(ValidationFailed, match=r"is in the timezone '.*', which is no timezone"):
        connections.sync_locations(
            connected.factory, settings, connected.connection_id, policy=policy
        )
    assert _stores(connected) == before


def test_a_store_with_an_odd_name_is_synced_with_its_name_clipped(
    connected, settings, policy, sides
):
    """PostgreSQL refused the name (a NUL, longer than external_location's 200): the sync
    failed as an internal error."""
    _stores_answer(sides, name=ODD_NAME)
    connections.sync_locations(connected.factory, settings, connected.connection_id, policy=policy)
    (name,) = [name for key, name, _ in _stores(connected) if key == "36"]
    assert len(name) == 200 and name.startswith("Pizza \ufffdxxx") and name.endswith("…")


def test_a_store_whose_id_cannot_be_kept_is_refused(connected, settings, policy, sides):
    before = _stores(connected)
    _stores_answer(sides, id="9" * 250)
    with pytest.raises(ValidationFailed, match=r"the location id '9{40}…' \(250 characters\)"):
        connections.sync_locations(
            connected.factory, settings, connected.connection_id, policy=policy
        )
    assert _stores(connected) == before


def test_a_product_renamed_between_two_pages_is_synced_once_by_its_latest_name(
    connected, settings, policy, sides
):
    """A product renamed (and moved to the next page) while the sync paged: it came on both
    pages, was counted created twice, and the older name was the one kept."""

    def product(product_id, name):
        return {"id": product_id, "name": name, "type": "product"}

    pages = [
        [product(9001, "Focaccia"), product(9002, "Calzone")],
        [product(9002, "Calzone ripieno"), product(9003, "Panzerotto")],
    ]
    for data in pages:
        page = {"data": data, "meta": {"total_pages": 2}}
        sides.faults.add(Fault.status(200, page), path="/products$")
    summary = connections.sync_items(
        connected.factory, settings, connected.connection_id, policy=policy
    )
    assert summary.created == ["Focaccia", "Calzone ripieno", "Panzerotto"]
    with connected.session() as session:
        name = session.scalar(select(PosItem.name).where(PosItem.key == "9002"))
    assert name == "Calzone ripieno"
