"""The Lightspeed connector over real HTTP against the sandbox: OAuth, sync, a day's sales,
and every fault the connector must survive without posting a partial ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from stockpot.core.errors import IntegrationExists, UnauthorizedCompanyAccess
from stockpot.core.lookup import company_by_name
from stockpot.core.models import (
    Connection,
    ConnectionStatus,
    ExternalLocation,
    LedgerMovement,
    OAuthState,
    PosItem,
    RunOutcome,
)
from stockpot.core.pos import connections
from stockpot.core.pos.connections import InvalidOAuthState
from stockpot.core.pos.errors import DayNotComplete, PosAuthError, PosUnavailable
from stockpot.core.pos.lightspeed.oauth import (
    LightspeedNotConfigured,
    OAuthClientRefused,
    OAuthExchangeFailed,
    ScopeNotGranted,
)
from stockpot.core.settings import Settings
from stockpot.core.transfer.live import run_dispositions
from stockpot.sandbox.http import Fault
from stockpot.sandbox.lightspeed import GOLDEN_DATE, GOLDEN_LOCATION_ID
from tests.pos import (
    COMPANY,
    GOLDEN_MAPPING,
    assert_failed_and_nothing_posted,
    assert_open_day_left_alone,
    authorize,
    balances,
    connect_lightspeed,
    count,
)
from tests.pos import transfer as transfer_day_of


def transfer(database, settings, policy, day=GOLDEN_DATE):
    return transfer_day_of(database, settings, policy, day)


# --- OAuth ---------------------------------------------------------------------------------


def test_oauth_connects_and_stores_only_encrypted_tokens(database, settings, company, lightspeed):
    info = connect_lightspeed(database, settings, company)
    assert (info.label, info.status) == ("lightspeed:Lightspeed", "connected")
    assert info.shown == "Lightspeed"
    with database.session() as session:
        connection = session.scalar(select(Connection))
        stored = connection.credentials
    token = lightspeed.issue_tokens()["access_token"]
    assert stored and token[:12] not in stored and "access_token" not in stored
    assert "refresh" not in stored


def test_a_state_is_single_use_signed_and_bound_to_its_company(database, settings, company):
    state, code = authorize(database, settings, company)
    with pytest.raises(UnauthorizedCompanyAccess, match="another company"):
        connections.complete_lightspeed(
            database.factory, settings, state=state, code=code, cookie=None, company_id=company + 1
        )
    connections.complete_lightspeed(database.factory, settings, state=state, code=code, cookie=None)
    with pytest.raises(InvalidOAuthState, match="already used"):
        connections.complete_lightspeed(
            database.factory, settings, state=state, code=code, cookie=None
        )
    nonce = state.split(".")[0]
    for forged in ("", nonce, f"{nonce}.{'0' * 64}", f"other.{state.split('.')[1]}"):
        with pytest.raises(InvalidOAuthState, match="not one Stockpot started"):
            connections.complete_lightspeed(
                database.factory, settings, state=forged, code=code, cookie=None
            )


def test_an_expired_state_is_refused(database, settings, company):
    state, code = authorize(database, settings, company)
    with database.session() as session, session.begin():
        session.execute(
            update(OAuthState).values(expires_at=datetime.now().astimezone() - timedelta(seconds=1))
        )
    with pytest.raises(InvalidOAuthState, match="expired"):
        connections.complete_lightspeed(
            database.factory, settings, state=state, code=code, cookie=None
        )


def test_a_second_connection_is_refused_but_reauthorizing_keeps_everything(
    lightspeed_connected, settings, policy
):
    with pytest.raises(IntegrationExists) as caught:
        connections.start_lightspeed(
            lightspeed_connected.factory,
            settings,
            company_id=_company(lightspeed_connected),
            started_by="U1",
        )
    assert caught.value.code == "lightspeed_integration_exists"
    with lightspeed_connected.session() as session, session.begin():
        session.execute(update(Connection).values(status=ConnectionStatus.NEEDS_REAUTHORIZATION))
    state, code = authorize(
        lightspeed_connected, settings, _company(lightspeed_connected), reauthorize=True
    )
    info = connections.complete_lightspeed(
        lightspeed_connected.factory, settings, state=state, code=code, cookie=None
    )
    assert info.status == "connected" and info.id == lightspeed_connected.connection_id
    with lightspeed_connected.session() as session:
        location = session.get_one(ExternalLocation, lightspeed_connected.location_id)
        assert location.storage_unit_id is not None and location.active
    assert transfer(lightspeed_connected, settings, policy).outcome is RunOutcome.POSTED


def test_reauthorizing_for_another_business_is_refused_and_changes_nothing(
    lightspeed_connected, settings, lightspeed
):
    """A new grant for an existing connection is checked with its own tokens before they
    are stored. A user of the same business who sees the transferred location (Brighton) is
    taken, and the business is kept; one of another business (Copper Pot) would have
    silently switched whose sales are posted: refused, naming it, and the tokens stay."""
    company = _company(lightspeed_connected)

    def reauthorize_as(user: str, locations: list[int]):
        lightspeed.add_user(user, locations)
        lightspeed.login_as(user)
        state, code = authorize(lightspeed_connected, settings, company, reauthorize=True)
        return connections.complete_lightspeed(
            lightspeed_connected.factory, settings, state=state, code=code, cookie=None
        )

    def connection() -> tuple:
        with lightspeed_connected.session() as session:
            row = session.get_one(Connection, lightspeed_connected.connection_id)
            return row.credentials, dict(row.settings or {})

    first = connection()
    assert first[1][connections.LIGHTSPEED_BUSINESSES] == "100421,200873"
    info = reauthorize_as("brighton@sandbox.test", [GOLDEN_LOCATION_ID])
    assert info.id == lightspeed_connected.connection_id and "business 100421" in info.account
    kept = connection()
    assert kept[0] != first[0] and kept[1][connections.LIGHTSPEED_BUSINESSES] == "100421"
    copper = [i for i, loc in lightspeed.locations.items() if loc.business_id == 200873]
    with pytest.raises(connections.OtherLightspeedBusiness) as refused:
        reauthorize_as("copper@sandbox.test", copper)
    assert "is for Copper Pot" in str(refused.value), refused.value
    assert "not the Lightspeed business of this connection" in str(refused.value)
    assert connection() == kept
    # A connection that kept no business (older): the active location unreached refuses it.
    with lightspeed_connected.session() as session, session.begin():
        session.get_one(Connection, lightspeed_connected.connection_id).settings = {}
    with pytest.raises(connections.OtherLightspeedBusiness, match="does not reach Harbour"):
        reauthorize_as("copper@sandbox.test", copper)


def test_a_grant_short_of_a_scope_asked_for_connects_nothing(
    database, settings, company, lightspeed
):
    lightspeed.withhold_scopes("offline_access", "items")
    state, code = authorize(database, settings, company)
    with pytest.raises(ScopeNotGranted) as caught:
        connections.complete_lightspeed(
            database.factory, settings, state=state, code=code, cookie=None
        )
    assert caught.value.code == "lightspeed_scope_not_granted"
    assert "did not grant the scopes items, offline_access" in str(caught.value)
    assert "reconnect every morning" in str(caught.value)
    assert count(database, Connection) == 0


def test_v1_has_no_offline_access_to_grant(database, settings, company, lightspeed, monkeypatch):
    monkeypatch.setattr(settings.lightspeed, "auth_version", "v1")
    lightspeed.withhold_scopes("offline_access")
    info = connect_lightspeed(database, settings, company)
    assert info.status == "connected"


def test_missing_configuration_and_a_bad_code_have_the_product_error_codes(
    database, settings, company, monkeypatch
):
    state, _ = authorize(database, settings, company)
    with pytest.raises(OAuthExchangeFailed) as caught:
        connections.complete_lightspeed(
            database.factory, settings, state=state, code="forged", cookie=None
        )
    assert caught.value.code == "lightspeed_oauth_exchange_failed"
    monkeypatch.delenv("LIGHTSPEED_CLIENT_SECRET")
    with pytest.raises(LightspeedNotConfigured, match="set LIGHTSPEED_CLIENT_SECRET") as caught:
        connections.start_lightspeed(
            database.factory, Settings(), company_id=company, started_by="U1"
        )
    assert caught.value.code == "lightspeed_not_configured"


@pytest.mark.parametrize(
    "uri", ["http://stockpot.example/lightspeed/oauth/callback", "stockpot.example/callback"]
)
def test_a_redirect_lightspeed_would_refuse_is_refused_before_the_user_leaves(
    database, settings, company, monkeypatch, uri
):
    """Lightspeed's redirect_uri must be HTTPS (reference §2.2): an http:// one was sent to
    Lightspeed, whose authorize page refused it with nothing pointing at Stockpot's
    setting. It is a configuration error naming the variable now (loopback HTTP stays for
    the sandbox)."""
    monkeypatch.setenv("LIGHTSPEED_REDIRECT_URI", uri)
    with pytest.raises(LightspeedNotConfigured, match="only to an HTTPS address") as caught:
        connections.start_lightspeed(
            database.factory, Settings(), company_id=company, started_by="U1"
        )
    assert "LIGHTSPEED_REDIRECT_URI" in str(caught.value)


def test_v1_clients_use_the_v1_endpoints(database, settings, company, monkeypatch, lightspeed):
    monkeypatch.setenv("LIGHTSPEED_AUTH_VERSION", "v1")
    v1 = Settings()
    info = connect_lightspeed(database, v1, company)
    assert info.status == "connected"
    assert [r.path for r in lightspeed.requests] == [
        "/oauth/authorize",
        "/oauth/token",
        "/f/data/businesses",
    ]


def _company(database) -> int:
    with database.session() as session:
        return company_by_name(session, COMPANY).id


# --- sync ----------------------------------------------------------------------------------


def test_sync_stores_locations_with_timezone_and_day_start_and_caches_items(
    lightspeed_connected, lightspeed
):
    with lightspeed_connected.session() as session:
        locations = {
            loc.external_id: (loc.name, loc.timezone, loc.business_day_start)
            for loc in session.scalars(select(ExternalLocation))
        }
        items = session.scalar(select(func.count()).select_from(PosItem))
        modifier = session.scalar(select(PosItem).where(PosItem.key == "MOD-CHS"))
    expected = {
        str(location.id): (location.name, location.timezone, location.day_start)
        for location in lightspeed.locations.values()
    }
    assert locations == expected
    assert locations[str(GOLDEN_LOCATION_ID)][2] == time(5, 0)
    assert items >= 300
    assert modifier.kind.value == "modifier"


def test_a_second_sync_keeps_links_and_reports_nothing_new(lightspeed_connected, settings, policy):
    summary = connections.sync_locations(
        lightspeed_connected.factory, settings, lightspeed_connected.connection_id, policy=policy
    )
    assert summary.created == [] and summary.missing == []
    items = connections.sync_items(
        lightspeed_connected.factory, settings, lightspeed_connected.connection_id, policy=policy
    )
    assert items.created == [] and items.updated == []
    with lightspeed_connected.session() as session:
        assert session.get_one(ExternalLocation, lightspeed_connected.location_id).active


def test_a_sync_learns_the_day_start_whatever_shape_todays_sales_have(
    lightspeed_connected, settings, policy, lightspeed
):
    """A sync asks for today's sales only for the day start beside them: their shape is not
    read (a sales list still open, or in an unexpected shape, does not fail the sync)."""
    body = {"sales": "still open", "nextStartOfDayAsIso8601": "2026-03-15T06:30:00Z"}
    lightspeed.faults.add(Fault.status(200, body), path="/sales-daily", times=50)
    connections.sync_locations(
        lightspeed_connected.factory, settings, lightspeed_connected.connection_id, policy=policy
    )
    with lightspeed_connected.session() as session:
        location = session.get_one(ExternalLocation, lightspeed_connected.location_id)
        assert location.business_day_start == time(6, 30)


def test_a_day_start_inside_the_spring_gap_is_kept_across_the_change(
    lightspeed_connected, settings, policy, lightspeed
):
    """A Berlin location whose day starts at 02:30: 28 March's sales say the next day starts
    at 03:30+02:00 (29 March has no 02:30). That was learnt as a 03:30 start, an hour off
    for the next day and the schedule until the transfer after; it stays 02:30."""
    berlin = replace(
        lightspeed.locations[GOLDEN_LOCATION_ID], timezone="Europe/Berlin", day_start=time(2, 30)
    )
    lightspeed.locations[GOLDEN_LOCATION_ID] = berlin  # its sales
    lightspeed.businesses = tuple(  # and its business's list of locations
        replace(b, locations=tuple(berlin if loc.id == berlin.id else loc for loc in b.locations))
        for b in lightspeed.businesses
    )
    connections.sync_locations(
        lightspeed_connected.factory, settings, lightspeed_connected.connection_id, policy=policy
    )

    def day_start():
        with lightspeed_connected.session() as session:
            location = session.get_one(ExternalLocation, lightspeed_connected.location_id)
            return location.timezone, location.business_day_start

    assert day_start() == ("Europe/Berlin", time(2, 30))
    for day in (date(2026, 3, 28), date(2026, 3, 29)):
        transfer(lightspeed_connected, settings, policy, day)
        assert day_start() == ("Europe/Berlin", time(2, 30)), day


def test_a_location_first_synced_on_the_spring_forward_eve_learns_its_day_start(
    lightspeed_connected, settings, policy, lightspeed
):
    """Synced on 28 March, a Berlin location whose day starts at 02:30 hears from today's
    sales that the next day starts at 03:30+02:00, which a 03:30 start would say too: its
    start stayed unset (00:00), so its days and schedule were 2.5 hours off until a
    transfer. The day before's sales say where today began, 02:30, which no gap follows."""
    berlin = replace(
        lightspeed.locations[GOLDEN_LOCATION_ID], timezone="Europe/Berlin", day_start=time(2, 30)
    )
    lightspeed.locations[GOLDEN_LOCATION_ID] = berlin
    lightspeed.businesses = tuple(
        replace(b, locations=tuple(berlin if loc.id == berlin.id else loc for loc in b.locations))
        for b in lightspeed.businesses
    )
    with lightspeed_connected.session() as session, session.begin():
        session.execute(  # as first synced: nothing learnt yet
            update(ExternalLocation)
            .where(ExternalLocation.id == lightspeed_connected.location_id)
            .values(business_day_start=time(0))
        )
    with freeze_time("2026-03-28T20:00:00+01:00", tick=True):
        connections.sync_locations(
            lightspeed_connected.factory,
            settings,
            lightspeed_connected.connection_id,
            policy=policy,
        )
    asked = [
        request.query["date"][0]
        for request in lightspeed.requests
        if request.path.endswith(f"/{berlin.id}/sales-daily")
    ]
    with lightspeed_connected.session() as session:
        location = session.get_one(ExternalLocation, lightspeed_connected.location_id)
        assert (location.timezone, location.business_day_start) == ("Europe/Berlin", time(2, 30))
    assert asked[-2:] == ["2026-03-28", "2026-03-27"], "the eve's day, then the day before"


# --- a day of sales ------------------------------------------------------------------------


def test_the_reference_day_lands_as_the_rules_say(
    lightspeed_connected, settings, policy, lightspeed
):
    report = transfer(lightspeed_connected, settings, policy)
    assert report.outcome is RunOutcome.POSTED
    expected = lightspeed.expected_item_quantities(GOLDEN_LOCATION_ID, GOLDEN_DATE)
    assert expected == {
        "BRG-01": Decimal(1),
        "MOD-CHS": Decimal(1),
        "SID-FRY": Decimal(1),
        "DRK-COLA": Decimal(0),
        "SAL-CSR": Decimal(1),
    }
    # the cancelled burger is skipped, fries net 2 - 1 refunded, the voided cola nets to 0,
    # the cheese modifier is its own line
    assert balances(lightspeed_connected) == {
        "Beef patty": Decimal(-1),
        "Cheese slice": Decimal(-1),
        "Fries": Decimal(-1),
        "Salad": Decimal(-1),
    }
    with lightspeed_connected.session() as session:
        stored = run_dispositions(session, report.run_id)
        dispositions = {entry.line.line_id: entry.disposition for entry in stored}
        kinds = {entry.line.line_id: entry.line.kind.value for entry in stored}
    assert dispositions["S81234.570"] == "skipped:cancelled_sale"
    assert dispositions["S81234.505"] == "mapped"  # the void line nets, it is not dropped
    assert kinds["S81234.502"] == "modifier"
    assert report.stats["sales"] == 4


def test_a_line_sent_twice_counts_once(lightspeed_connected, settings, policy, lightspeed):
    """A line moved to another account while the day was read shows in both (its id, the
    line's own, is the same): the burger and its cheese are deducted once, where the line
    came first."""
    lightspeed.repeat_line("S81234.501")
    lightspeed.repeat_line("S81234.502", into="A81234.102")
    report = transfer(lightspeed_connected, settings, policy)
    assert report.outcome is RunOutcome.POSTED
    assert balances(lightspeed_connected)["Beef patty"] == Decimal(-1)
    assert balances(lightspeed_connected)["Cheese slice"] == Decimal(-1)
    with lightspeed_connected.session() as session:
        stored = [entry.line for entry in run_dispositions(session, report.run_id)]
    burger = [line for line in stored if line.line_id == "S81234.501"]
    assert [line.sale_id for line in burger] == ["A81234.101"]


def test_a_day_fetched_twice_gives_the_same_movements(lightspeed_connected, settings, policy):
    first = transfer(lightspeed_connected, settings, policy)
    movements = count(lightspeed_connected, LedgerMovement)
    again = transfer(lightspeed_connected, settings, policy)
    assert again.outcome is RunOutcome.UNCHANGED
    assert again.stats["unchanged_from_run"] == first.run_id
    assert count(lightspeed_connected, LedgerMovement) == movements


def test_a_generated_day_matches_the_sandbox_truth(
    lightspeed_connected, settings, policy, lightspeed
):
    day = GOLDEN_DATE + timedelta(days=7)
    report = transfer(lightspeed_connected, settings, policy, day)
    expected = lightspeed.expected_item_quantities(GOLDEN_LOCATION_ID, day)
    mapped = {sku: qty for sku, qty in expected.items() if sku in GOLDEN_MAPPING and qty}
    assert balances(lightspeed_connected) == {GOLDEN_MAPPING[s]: -q for s, q in mapped.items()}
    unmapped = {item["key"]: Decimal(item["quantity"]) for item in report.unmapped}
    assert unmapped == {sku: qty for sku, qty in expected.items() if sku not in GOLDEN_MAPPING}


def test_an_open_day_is_refused_and_left_for_later(
    lightspeed_connected, settings, policy, lightspeed
):
    lightspeed.clock.set(datetime.fromisoformat("2026-03-14T15:00:00+00:00"))
    with pytest.raises(DayNotComplete, match="not complete yet") as caught:
        transfer(lightspeed_connected, settings, policy)
    assert caught.value.transient
    assert_open_day_left_alone(lightspeed_connected)


# --- faults --------------------------------------------------------------------------------


def test_token_expiry_in_the_middle_of_paging_refreshes_and_stores_the_new_tokens(
    lightspeed_connected, settings, policy, lightspeed
):
    with lightspeed_connected.session() as session:
        before = session.get_one(Connection, lightspeed_connected.connection_id).credentials
    seen = len(lightspeed.requests)
    lightspeed.faults.add(
        _fault_hook(lightspeed.expire_access_tokens), path="/items/v1/items", after=1
    )
    summary = connections.sync_items(
        lightspeed_connected.factory, settings, lightspeed_connected.connection_id, policy=policy
    )
    assert summary.created == []
    with lightspeed_connected.session() as session:
        connection = session.get_one(Connection, lightspeed_connected.connection_id)
        assert connection.credentials != before
        assert connection.status is ConnectionStatus.CONNECTED
    calls = [(r.path, r.status) for r in lightspeed.requests[seen:]]
    assert ("/items/v1/items", 401) in calls
    assert any(path.endswith("/token") and status == 200 for path, status in calls)


def test_a_refused_refresh_asks_for_reauthorization_and_posts_nothing(
    lightspeed_connected, settings, policy, lightspeed
):
    lightspeed.expire_access_tokens()
    lightspeed.revoke_refresh_tokens()
    with pytest.raises(PosAuthError, match="reconnect Lightspeed"):
        transfer(lightspeed_connected, settings, policy)
    with lightspeed_connected.session() as session:
        status = session.get_one(Connection, lightspeed_connected.connection_id).status
    assert status is ConnectionStatus.NEEDS_REAUTHORIZATION
    assert_failed_and_nothing_posted(lightspeed_connected, "reconnect Lightspeed")
    with pytest.raises(PosAuthError, match="reconnect"):
        transfer(lightspeed_connected, settings, policy)


@pytest.mark.parametrize(
    "inject",
    [
        lambda ls: ls.inject_error(429, path="/sales-daily", times=2, retry_after=3),
        lambda ls: ls.inject_error(503, path="/sales-daily", times=2),
        lambda ls: ls.inject_error(500, path="/sales-daily"),
        lambda ls: ls.faults.add(_truncate(), path="/sales-daily"),
        lambda ls: ls.faults.add(_drop(), path="/sales-daily"),
    ],
    ids=["429", "503", "500", "truncated", "dropped"],
)
def test_transient_faults_are_retried_and_the_day_lands_whole(
    lightspeed_connected, settings, policy, lightspeed, waits, inject
):
    inject(lightspeed)
    report = transfer(lightspeed_connected, settings, policy)
    assert report.outcome is RunOutcome.POSTED
    assert balances(lightspeed_connected)["Fries"] == Decimal(-1)
    assert waits, "the fault must have caused a retry"


def test_429_waits_for_retry_after(lightspeed_connected, settings, policy, lightspeed, waits):
    lightspeed.inject_error(429, path="/sales-daily", times=2, retry_after=3)
    transfer(lightspeed_connected, settings, policy)
    assert waits == [3.0, 3.0]


def test_an_outage_that_outlasts_the_retries_fails_cleanly(
    lightspeed_connected, settings, policy, lightspeed
):
    lightspeed.inject_error(503, path="/sales-daily", times=50)
    with pytest.raises(PosUnavailable, match="HTTP 503") as caught:
        transfer(lightspeed_connected, settings, policy)
    assert caught.value.transient
    assert_failed_and_nothing_posted(lightspeed_connected, "HTTP 503")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"sales": "none today", "dataComplete": True}, "$.sales"),
        ({"sales": [None], "dataComplete": True}, "$.sales[0]"),
        (
            {"sales": [{"accountFiscId": "A1", "salesLines": {"id": 1}}], "dataComplete": True},
            "$.sales[0].salesLines",
        ),
        (
            {"sales": [{"accountFiscId": "A1", "salesLines": [{"sku": 52}]}], "dataComplete": True},
            "$.sales[0].salesLines[0].sku",
        ),
    ],
)
def test_a_day_in_a_shape_stockpot_does_not_read_fails_cleanly_naming_where(
    lightspeed_connected, settings, policy, lightspeed, body, where
):
    """A sales-daily answer of valid JSON whose fields Stockpot reads have the wrong type:
    refused, retried later, nothing posted, the message naming the field (it used to end in
    an internal error, an attribute of a string or of null)."""
    lightspeed.faults.add(Fault.status(200, body), path="/sales-daily", times=50)
    with pytest.raises(PosUnavailable, match="shape Stockpot does not read") as caught:
        transfer(lightspeed_connected, settings, policy)
    assert f"at `{where}`" in str(caught.value)
    assert caught.value.transient
    assert_failed_and_nothing_posted(lightspeed_connected, "shape Stockpot does not read")


def test_a_location_the_token_cannot_see_is_refused(
    lightspeed_connected, settings, policy, lightspeed
):
    """A reauthorization by a user who does not see the transferred location (Hove only)
    was stored, and the next transfer failed with HTTP 403: it is refused at once, saying
    which location, and the connection keeps the tokens that see it."""
    lightspeed.add_user("waiter@sandbox.test", [45454565682301])
    lightspeed.login_as("waiter@sandbox.test")
    state, code = authorize(
        lightspeed_connected, settings, _company(lightspeed_connected), reauthorize=True
    )
    with pytest.raises(connections.OtherLightspeedBusiness, match="does not reach Harbour"):
        connections.complete_lightspeed(
            lightspeed_connected.factory, settings, state=state, code=code, cookie=None
        )
    assert transfer(lightspeed_connected, settings, policy).outcome is RunOutcome.POSTED


def _fault_hook(hook):
    return Fault(before=hook)


def _truncate():
    return Fault(truncate=True)


def _drop():
    return Fault(drop=True)


def test_a_client_secret_lightspeed_refuses_is_the_operators_to_fix_and_disconnects_nobody(
    lightspeed_connected, settings, policy, lightspeed, monkeypatch
):
    """``invalid_client``: the operator's LIGHTSPEED_CLIENT_SECRET (rotated in the portal,
    mistyped in a deploy), not the company's authorization. Reconnecting would not help, and
    the tokens stay good once the setting is right."""
    lightspeed.expire_access_tokens()
    monkeypatch.setenv("LIGHTSPEED_CLIENT_SECRET", "rotated-in-the-portal")
    with pytest.raises(OAuthClientRefused, match="LIGHTSPEED_CLIENT_SECRET") as caught:
        transfer(lightspeed_connected, Settings(), policy)
    assert "reconnect" not in str(caught.value)
    with lightspeed_connected.session() as session:
        status = session.get_one(Connection, lightspeed_connected.connection_id).status
    assert status is ConnectionStatus.CONNECTED
    assert_failed_and_nothing_posted(lightspeed_connected, "LIGHTSPEED_CLIENT_SECRET")
    assert transfer(lightspeed_connected, settings, policy).outcome is RunOutcome.POSTED


# --- paging a POS may get wrong -------------------------------------------------------------

FULL_ITEMS_PAGE = [
    {"id": n, "sku": f"LOOP-{n}", "name": f"Loop {n}", "itemType": "ITEM"} for n in range(100)
]


@pytest.mark.parametrize(
    ("sync", "path", "page"),
    [
        ("sync_items", "/items/v1/items", FULL_ITEMS_PAGE),
        (
            "sync_locations",
            "/f/data/businesses",
            {"_embedded": {"businessList": [{"businessId": n} for n in range(1000)]}},
        ),
    ],
)
def test_a_listing_whose_pages_never_end_is_refused(
    lightspeed_connected, settings, policy, lightspeed, sync, path, page
):
    """A POS that ignores the offset or page asked for and answers a full page each time:
    the sync asked page after page for ever (the businesses' list growing in memory)."""
    lightspeed.faults.add(Fault.status(200, page), path=f"{path}$", times=10**6)
    with pytest.raises(PosUnavailable, match="page 2 repeats page 1") as caught:
        getattr(connections, sync)(
            lightspeed_connected.factory,
            settings,
            lightspeed_connected.connection_id,
            policy=policy,
        )
    assert caught.value.transient
