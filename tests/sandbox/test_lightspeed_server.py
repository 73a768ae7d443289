"""The Lightspeed K-Series sandbox, over real HTTP: OAuth, guards, businesses, items, sales, and
every response kind validated against Lightspeed's OpenAPI documents."""

from __future__ import annotations

import functools
import json
import re
import ssl
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from stockpot.sandbox.http import Clock
from stockpot.sandbox.lightspeed import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    GOLDEN_DATE,
    LightspeedSandbox,
)
from stockpot.sandbox.lightspeed.data import LightspeedData, parse_instant

REFERENCE = Path(__file__).parent / "reference"
BRIGHTON, HOVE, BROOKLYN, BERLIN = 45454565682155, 45454565682301, 45454565690017, 45454565690452
V2_AUTH = "/realms/k-series/protocol/openid-connect/auth"
V2_TOKEN = "/realms/k-series/protocol/openid-connect/token"
REDIRECT = "https://stockpot.example/lightspeed/oauth/callback"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
_SSL = ssl.create_default_context()
"""Shared: building an SSL context costs ~20 ms, and every ``httpx.get`` builds one."""
_clients: list[httpx.Client] = []


def http():
    return _clients[-1]


@pytest.fixture(autouse=True)
def _client():
    # One keep-alive client per test, closed at teardown so no connection outlives its server.
    with httpx.Client(verify=_SSL) as client:
        _clients.append(client)
        yield
        _clients.pop()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def ls(clock):
    with LightspeedSandbox(clock=clock).running() as server:
        yield server


def bearer(sandbox, **kwargs):
    return {"Authorization": f"Bearer {sandbox.issue_tokens(**kwargs)['access_token']}"}


def get(sandbox, path, headers=None, **params):
    return http().get(f"{sandbox.url}{path}", params=params, headers=headers)


def daily(sandbox, location, day, headers, **params):
    path = f"/f/v2/business-location/{location}/sales-daily"
    return get(sandbox, path, headers, date=str(day), **params)


def sales_range(sandbox, location, headers, **params):
    return get(sandbox, f"/f/v2/business-location/{location}/sales", headers, **params)


def reference_examples():
    path = REFERENCE / "lightspeed-kseries.md"
    if not path.exists():
        pytest.fail(f"{path} is missing: the reference copies belong in the repository")
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", path.read_text(), re.S)]


def authorize(sandbox, prefix=V2_AUTH, **overrides):
    params = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "financial-api items offline_access",
        "state": "conn-42",
        **overrides,
    }
    return http().get(f"{sandbox.url}{prefix}", params=params)


def redirected_query(response):
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def v2_token(sandbox, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), **data):
    return http().post(f"{sandbox.url}{V2_TOKEN}", data=data, auth=auth)


# ---------------------------------------------------------------------------------------------
# OAuth


def test_v2_authorization_code_dance_with_rotating_single_use_refresh_tokens(ls):
    query = redirected_query(authorize(ls))
    assert query["state"] == "conn-42"
    exchanged = v2_token(
        ls, grant_type="authorization_code", code=query["code"], redirect_uri=REDIRECT
    )
    assert exchanged.status_code == 200
    tokens = exchanged.json()
    assert set(tokens) == set(reference_examples()[2])  # §9.1's field names
    assert tokens["expires_in"] == 1500
    assert tokens["refresh_expires_in"] == 0
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "financial-api items offline_access profile email"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert get(ls, "/f/data/businesses", headers).status_code == 200

    reused_code = v2_token(
        ls, grant_type="authorization_code", code=query["code"], redirect_uri=REDIRECT
    )
    assert reused_code.status_code == 400
    assert reused_code.json()["error"] == "invalid_grant"

    first = tokens["refresh_token"]
    refreshed = v2_token(ls, grant_type="refresh_token", refresh_token=first)
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first
    assert second["access_token"] != tokens["access_token"]
    reused = v2_token(ls, grant_type="refresh_token", refresh_token=first)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "Token is not active"}
    again = v2_token(ls, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert again.status_code == 200
    assert ls.issued_scopes(again.json()["access_token"]) == {
        "financial-api",
        "items",
        "offline_access",
        "profile",
        "email",
    }


def test_codes_expire_after_sixty_seconds_and_need_the_same_redirect_uri(ls, clock):
    late = redirected_query(authorize(ls))["code"]
    clock.advance(timedelta(seconds=61))
    answer = v2_token(ls, grant_type="authorization_code", code=late, redirect_uri=REDIRECT)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")

    fresh = redirected_query(authorize(ls))["code"]
    clock.advance(timedelta(seconds=59))
    wrong = v2_token(ls, grant_type="authorization_code", code=fresh, redirect_uri=REDIRECT + "x")
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")


def test_token_endpoint_client_authentication(ls):
    code = redirected_query(authorize(ls))["code"]
    bad = v2_token(
        ls, auth=(DEFAULT_CLIENT_ID, "wrong"), grant_type="authorization_code", code=code
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    nobody = v2_token(ls, auth=None, grant_type="authorization_code", code=code)
    assert nobody.status_code == 401
    # client_secret_post is accepted too (Keycloak does)
    posted = v2_token(
        ls,
        auth=None,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    assert posted.status_code == 200
    ls.register_client("devp-v2-other", "s3")
    other = v2_token(
        ls, auth=("devp-v2-other", "s3"), grant_type="refresh_token", refresh_token="nope"
    )
    assert other.json() == {"error": "invalid_grant", "error_description": "Token is not active"}
    unsupported = v2_token(ls, grant_type="password")
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_authorize_checks_client_redirect_response_type_and_scope(ls):
    assert authorize(ls, client_id="devp-v2-unknown").status_code == 400
    assert authorize(ls, redirect_uri="http://evil.example/cb").status_code == 400
    loopback = "http://127.0.0.1:8765/lightspeed/oauth/callback"
    refused = authorize(ls, redirect_uri=loopback)
    assert refused.status_code == 400, "HTTPS only, as Lightspeed (reference §2.2)"
    assert refused.json()["error_description"] == "Invalid parameter: redirect_uri"
    ls.plain_http_loopback = True
    assert authorize(ls, redirect_uri=loopback).headers["location"].startswith(loopback + "?")
    ls.plain_http_loopback = False
    wrong_type = redirected_query(authorize(ls, response_type="token"))
    assert wrong_type["error"] == "unsupported_response_type"
    assert wrong_type["state"] == "conn-42"
    assert "code" not in wrong_type
    assert redirected_query(authorize(ls, scope=""))["error"] == "invalid_scope"
    assert redirected_query(authorize(ls, scope="items superpowers"))["error"] == "invalid_scope"
    https = authorize(ls, redirect_uri="https://stockpot.example/cb?x=1")
    assert https.status_code == 302
    assert https.headers["location"].startswith("https://stockpot.example/cb?x=1&code=")


def test_v1_flow_takes_the_grant_in_the_query_string(ls):
    code = redirected_query(authorize(ls, prefix="/oauth/authorize", scope="financial-api items"))
    in_body = http().post(
        f"{ls.url}/oauth/token",
        data={"grant_type": "authorization_code", "code": code["code"], "redirect_uri": REDIRECT},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert in_body.status_code == 400  # V1 reads the query string only
    code = redirected_query(authorize(ls, prefix="/oauth/authorize", scope="financial-api items"))
    answer = http().post(
        f"{ls.url}/oauth/token",
        params={"grant_type": "authorization_code", "code": code["code"], "redirect_uri": REDIRECT},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert answer.status_code == 200
    tokens = answer.json()
    assert set(tokens) == {"access_token", "token_type", "refresh_token", "expires_in", "scope"}
    assert tokens["scope"] == "financial-api items"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert http().post(f"{ls.url}/oauth/token", params=refresh, auth=auth).status_code == 200
    reused = http().post(f"{ls.url}/oauth/token", params=refresh, auth=auth)
    assert reused.json()["error"] == "invalid_grant"


def test_lifetimes_follow_the_sandbox_clock_and_the_helpers(ls, clock):
    online = ls.issue_tokens(scopes="financial-api items")
    assert online["refresh_expires_in"] == 1800
    offline = ls.issue_tokens()
    headers = {"Authorization": f"Bearer {offline['access_token']}"}
    clock.advance(timedelta(minutes=24, seconds=59))
    assert get(ls, "/f/data/businesses", headers).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert get(ls, "/f/data/businesses", headers).status_code == 401
    clock.advance(timedelta(minutes=6))
    expired = v2_token(ls, grant_type="refresh_token", refresh_token=online["refresh_token"])
    assert expired.json()["error"] == "invalid_grant"
    renewed = v2_token(ls, grant_type="refresh_token", refresh_token=offline["refresh_token"])
    assert renewed.status_code == 200  # offline refresh tokens do not expire by time

    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    ls.expire_access_tokens()
    assert get(ls, "/f/data/businesses", headers).status_code == 401
    ls.revoke_refresh_tokens()
    revoked = v2_token(
        ls, grant_type="refresh_token", refresh_token=renewed.json()["refresh_token"]
    )
    assert revoked.json()["error_description"] == "Token is not active"


# ---------------------------------------------------------------------------------------------
# Guards


def test_api_routes_answer_401_without_a_live_bearer_and_403_without_scope_or_location(ls):
    path = f"/f/v2/business-location/{BRIGHTON}/sales-daily"
    missing = get(ls, path, date="2026-03-14")
    assert missing.status_code == 401
    assert missing.json() == {"error": "Authentication failed."}
    assert get(ls, path, {"Authorization": "Bearer forged"}, date="2026-03-14").status_code == 401
    assert get(ls, "/items/v1/items", businessLocationId=BRIGHTON).status_code == 401

    finance_only = bearer(ls, scopes="financial-api")
    items_only = bearer(ls, scopes="items")
    assert get(ls, "/items/v1/items", finance_only, businessLocationId=BRIGHTON).status_code == 403
    assert get(ls, path, items_only, date="2026-03-14").status_code == 403
    assert get(ls, "/items/v1/items", items_only, businessLocationId=BRIGHTON).status_code == 200

    ls.add_user("brighton@sandbox.test", [BRIGHTON])
    ls.login_as("brighton@sandbox.test")
    code = redirected_query(authorize(ls))["code"]
    tokens = v2_token(ls, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).json()
    narrow = {"Authorization": f"Bearer {tokens['access_token']}"}
    denied = daily(ls, HOVE, "2026-03-14", narrow)
    assert denied.status_code == 403
    assert denied.json() == {
        "error": "Access token not relevant for the businessLocation, use authorization-code"
    }
    assert get(ls, "/items/v1/items", narrow, businessLocationId=HOVE).status_code == 403
    assert daily(ls, BRIGHTON, "2026-03-14", narrow).status_code == 200
    businesses = get(ls, "/f/data/businesses", narrow).json()["_embedded"]["businessList"]
    assert [[loc["blID"] for loc in b["businessLocations"]] for b in businesses] == [[BRIGHTON]]

    unknown = daily(ls, 999, "2026-03-14", bearer(ls))
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Business Location Not found for 999"
    with pytest.raises(KeyError):
        ls.login_as("nobody@sandbox.test")


# ---------------------------------------------------------------------------------------------
# Businesses and items


def test_businesses_list_locations_with_timezones(ls):
    answer = get(ls, "/f/data/businesses", bearer(ls)).json()
    businesses = answer["_embedded"]["businessList"]
    assert businesses[0] == reference_examples()[0]["_embedded"]["businessList"][0]
    second = businesses[1]
    assert {(loc["blID"], loc["timezone"]) for loc in second["businessLocations"]} == {
        (BROOKLYN, "America/New_York"),
        (BERLIN, "Europe/Berlin"),
    }
    assert answer["_links"]["self"]["href"].endswith("/f/data/businesses?page=0&size=1000")
    page = get(ls, "/f/data/businesses", bearer(ls), page=1, size=1).json()
    assert [b["businessId"] for b in page["_embedded"]["businessList"]] == [second["businessId"]]
    assert ls.locations[BRIGHTON].day_start.hour == 5
    assert ls.locations[BROOKLYN].day_start.hour == 4
    assert ls.locations[BERLIN].day_start.hour == 0


def test_items_page_by_offset_and_amount_up_to_1000(ls):
    headers = bearer(ls)
    seen = []
    offset = 0
    while True:
        page = get(
            ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, offset=offset, amount=100
        )
        assert page.status_code == 200
        rows = page.json()
        assert isinstance(rows, list)
        seen += rows
        if len(rows) < 100:
            break
        offset += 100
    assert 280 <= len(seen) <= 330
    assert len({row["id"] for row in seen}) == len(seen)
    whole = get(ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, amount=1000).json()
    assert whole == seen
    kinds = {row["itemType"] for row in seen}
    assert {"ITEM", "SUB_ITEM"} <= kinds
    skus = {row["sku"] for row in seen}
    assert {"BRG-01", "MOD-CHS", "SID-FRY", "DRK-COLA", "SAL-CSR"} <= skus

    too_many = get(ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, amount=1001)
    assert too_many.status_code == 400
    body = too_many.json()
    assert body["status"] == "400"
    assert body["apiSubExceptions"][0]["field"] == "amount"
    missing = get(ls, "/items/v1/items", headers)
    assert (missing.status_code, missing.json()["status"]) == (400, "400")

    by_sku = get(ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, sku="MOD-CHS").json()
    assert [row["itemType"] for row in by_sku] == ["SUB_ITEM"]
    # sku is 1-32 characters and name 1-180 (spec items-apiSku, items-apiName)
    for field, value in (("sku", "S" * 33), ("sku", ""), ("name", "N" * 181), ("name", "")):
        refused = get(ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, **{field: value})
        assert refused.status_code == 400, (field, value)
        assert refused.json()["apiSubExceptions"][0]["field"] == field
    assert (
        get(ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, sku="S" * 32).json() == []
    )

    for example in reference_examples()[1]:
        one = get(ls, f"/items/v1/items/{example['id']}", headers, businessLocationId=BRIGHTON)
        assert one.json() == {key: value for key, value in example.items() if value is not None}
    absent = get(ls, "/items/v1/items/1", headers, businessLocationId=BRIGHTON)
    assert absent.status_code == 404
    assert absent.json()["message"] == "Item not found"
    assert absent.json()["status"] == "404"


# ---------------------------------------------------------------------------------------------
# Sales of one business day


def test_the_golden_day_is_the_reference_example(ls):
    headers = bearer(ls)
    include = "payments,staff,table,revenue_center,account_profile"
    answer = daily(ls, BRIGHTON, GOLDEN_DATE, headers, include=include)
    assert answer.status_code == 200
    assert answer.json() == reference_examples()[3]
    assert ls.expected_item_quantities(BRIGHTON, GOLDEN_DATE) == {
        "BRG-01": Decimal(1),
        "MOD-CHS": Decimal(1),
        "SID-FRY": Decimal(1),
        "DRK-COLA": Decimal(0),
        "SAL-CSR": Decimal(1),
    }
    bare = daily(ls, BRIGHTON, GOLDEN_DATE, headers).json()
    assert len(bare["sales"]) == 4
    assert all("payments" not in sale for sale in bare["sales"])


def test_an_open_day_shows_only_closed_sales_and_is_incomplete(ls, clock):
    clock.set(datetime(2026, 3, 14, 20, 30, tzinfo=UTC))
    headers = bearer(ls)
    open_day = daily(ls, BRIGHTON, GOLDEN_DATE, headers).json()
    assert [s["accountFiscId"] for s in open_day["sales"]] == ["A81234.101", "A81234.102"]
    assert open_day["dataComplete"] is False
    assert open_day["nextStartOfDayAsIso8601"] == "2026-03-15T05:00:00Z"
    assert ls.expected_item_quantities(BRIGHTON, GOLDEN_DATE, as_of=clock.now()) == {
        "BRG-01": Decimal(1),
        "MOD-CHS": Decimal(1),
        "SID-FRY": Decimal(2),
        "DRK-COLA": Decimal(0),
        "SAL-CSR": Decimal(1),
    }
    clock.set(datetime(2026, 3, 15, 4, 59, 59, tzinfo=UTC))
    headers = bearer(ls)
    assert daily(ls, BRIGHTON, GOLDEN_DATE, headers).json()["dataComplete"] is False
    clock.set(datetime(2026, 3, 15, 5, 0, tzinfo=UTC))
    done = daily(ls, BRIGHTON, GOLDEN_DATE, headers).json()
    assert (len(done["sales"]), done["dataComplete"]) == (4, True)


def test_a_line_can_be_repeated_in_another_account(ls):
    headers = bearer(ls)
    ls.repeat_line("S81234.501")
    ls.repeat_line("S81234.510", into="A81234.101")
    sales = daily(ls, BRIGHTON, GOLDEN_DATE, headers).json()["sales"]
    lines = {sale["accountFiscId"]: [line["id"] for line in sale["salesLines"]] for sale in sales}
    assert lines["A81234.101"] == [f"S81234.50{n}" for n in range(1, 6)] + ["S81234.510"]
    assert lines["A81234.102"] == ["S81234.510", "S81234.501"]
    fresh = LightspeedData().day(BRIGHTON, GOLDEN_DATE).sales
    assert [len(sale["salesLines"]) for sale in fresh] == [5, 1, 1, 1], "the day is untouched"


def test_daily_parameter_errors_use_the_v2_messages(ls):
    headers = bearer(ls)
    path = f"/f/v2/business-location/{BRIGHTON}/sales-daily"
    missing = get(ls, path, headers)
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "Required request parameter 'date' for method parameter type LocalDate is not present"
    }
    bad = daily(ls, BRIGHTON, "14/03/2026", headers)
    assert bad.json() == {"error": "Invalid date format: 14/03/2026"}
    early = daily(ls, BRIGHTON, "2025-05-31", headers)
    assert early.status_code == 400
    assert early.json()["error"] == (
        "Invalid 'from' date query parameter. The requested business location was not "
        "operational on the provided date.\nPlease specify a date and time after: "
        "2025-06-01T04:00:00Z, which is the earliest available date for this location.\n"
    )
    assert daily(ls, BRIGHTON, "2025-06-01", headers).status_code == 200


def test_include_takes_only_the_values_the_spec_allows(ls):
    """The spec lists the allowed include values (staff, table, consumer, payments,
    revenue_center, account_profile, payment_authorization); the stand-in took any word, so
    a misspelt one (and the tips it would have hidden) passed here."""
    headers = bearer(ls)
    refused = daily(ls, BRIGHTON, GOLDEN_DATE, headers, include="payments,payment")
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("Invalid include value(s): payment.")
    window = {"from": "2026-03-06T00:00:00Z", "to": "2026-03-08T00:00:00Z"}
    assert sales_range(ls, BRIGHTON, headers, include="tips", **window).status_code == 400
    every = "staff,table,consumer,payments,revenue_center,account_profile,payment_authorization"
    assert daily(ls, BRIGHTON, GOLDEN_DATE, headers, include=every).status_code == 200


def test_generated_days_are_deterministic_per_seed(clock):
    days = [date(2026, 2, 5)]
    answers = []
    for seed in (1, 1, 2):
        with LightspeedSandbox(seed=seed, clock=clock).running() as server:
            headers = bearer(server)
            answers.append(
                [
                    daily(server, location, day, headers, include="payments").content
                    for location in (BRIGHTON, BROOKLYN)
                    for day in days
                ]
            )
    assert answers[0] == answers[1]
    assert all(mine != theirs for mine, theirs in zip(answers[0], answers[2], strict=True))
    assert all(len(json.loads(body)["sales"]) >= 10 for body in answers[0])


def _lines_net(sale):
    return sum(Decimal(line["totalNetAmountWithTax"]) for line in sale["salesLines"])


def test_generated_days_carry_modifiers_voids_refunds_cancellations_and_tips(ls):
    headers = bearer(ls)
    skus = {
        row["sku"]
        for row in get(
            ls, "/items/v1/items", headers, businessLocationId=BRIGHTON, amount=1000
        ).json()
    }
    seen = {"modifier": 0, "void": 0, "refund": 0, "cancelled": 0, "tip": 0, "after_midnight": 0}
    weekday_counts, weekend_counts = [], []
    zone = ls.locations[BRIGHTON].zone
    for offset in range(14):
        day = date(2026, 1, 5) + timedelta(days=offset)
        body = daily(ls, BRIGHTON, day, headers, include="payments").json()
        sales = body["sales"]
        assert body["dataComplete"] is True
        (weekend_counts if day.weekday() >= 4 else weekday_counts).append(len(sales))
        by_id = {sale["accountFiscId"]: sale for sale in sales}
        expected: dict[str, Decimal] = {}
        for sale in sales:
            line_ids = {line["id"] for line in sale["salesLines"]}
            for line in sale["salesLines"]:
                assert line["sku"] in skus
                assert re.fullmatch(r"-?\d+\.\d{3}", line["quantity"])
                assert re.fullmatch(r"-?\d+\.\d{2}", line["totalNetAmountWithTax"])
                if "parentLineId" in line:
                    assert line["parentLineId"] in line_ids
                    seen["modifier"] += 1
            if sale["cancelled"]:
                seen["cancelled"] += 1
                assert sale["payments"] == []
                assert all(line.get("voidReason") for line in sale["salesLines"])
                continue
            paid = sum(Decimal(p["netAmountWithTax"]) for p in sale["payments"])
            assert paid == _lines_net(sale)  # tips are on top, never in netAmountWithTax
            seen["tip"] += any(Decimal(p["tip"]) > 0 for p in sale["payments"])
            for void in (line for line in sale["salesLines"] if line.get("voidReason")):
                seen["void"] += 1
                assert Decimal(void["quantity"]) < 0
                assert any(
                    line["sku"] == void["sku"] and Decimal(line["quantity"]) > 0
                    for line in sale["salesLines"]
                )
            if sale["type"] == "REFUND":
                seen["refund"] += 1
                original = by_id[sale["source"]["previousAccountId"]]
                assert original["type"] == "SALE"
                assert all(Decimal(line["quantity"]) < 0 for line in sale["salesLines"])
                assert Decimal(sale["payments"][0]["netAmountWithTax"]) < 0
            local_close = parse_instant(sale["timeClosed"]).astimezone(zone)
            seen["after_midnight"] += local_close.date() > day
            for line in sale["salesLines"]:
                expected[line["sku"]] = expected.get(line["sku"], Decimal(0)) + Decimal(
                    line["quantity"]
                )
        assert ls.expected_item_quantities(BRIGHTON, day) == expected
    assert all(count > 0 for count in seen.values()), seen
    assert sum(weekend_counts) / len(weekend_counts) > sum(weekday_counts) / len(weekday_counts)


def test_one_location_is_closed_on_mondays(ls):
    headers = bearer(ls)
    monday, tuesday = date(2026, 3, 16), date(2026, 3, 17)
    assert daily(ls, HOVE, monday, headers).json()["sales"] == []
    assert daily(ls, HOVE, tuesday, headers).json()["sales"] != []
    assert daily(ls, BRIGHTON, monday, headers).json()["sales"] != []


@pytest.mark.parametrize(
    ("location", "day", "next_start", "hours"),
    [
        (BRIGHTON, date(2026, 3, 28), "2026-03-29T05:00:00+01:00", 23),
        (BRIGHTON, date(2026, 3, 29), "2026-03-30T05:00:00+01:00", 24),
        (BRIGHTON, date(2026, 10, 24), "2026-10-25T05:00:00Z", 25),
        (BERLIN, date(2026, 3, 29), "2026-03-30T00:00:00+02:00", 23),
        (BROOKLYN, date(2026, 3, 7), "2026-03-08T04:00:00-04:00", 23),
        (BROOKLYN, date(2026, 10, 31), "2026-11-01T04:00:00-05:00", 25),
    ],
)
def test_business_day_windows_follow_local_wall_clock_across_dst(
    clock, location, day, next_start, hours
):
    clock.set(datetime(2026, 11, 20, tzinfo=UTC))
    with LightspeedSandbox(clock=clock).running() as server:
        body = daily(server, location, day, bearer(server)).json()
        start, end = server.locations[location].day_window(day)
    assert body["nextStartOfDayAsIso8601"] == next_start
    assert parse_instant(next_start) == end
    assert end - start == timedelta(hours=hours)
    assert body["sales"]
    assert all(start <= parse_instant(sale["timeClosed"]) < end for sale in body["sales"])


def test_a_start_inside_the_spring_gap_is_written_as_the_instant_after_it(clock):
    """A Berlin location whose day starts at 02:30: 29 March has no 02:30, and the API writes
    the start in the offset in force then, 03:30+02:00 (the stand-in wrote 02:30+01:00, a
    time no Berlin clock showed, and so no client met Lightspeed's form)."""
    clock.set(datetime(2026, 11, 20, tzinfo=UTC))
    with LightspeedSandbox(clock=clock).running() as server:
        location = replace(server.locations[BERLIN], day_start=time(2, 30))
        server.locations[BERLIN] = location
        body = daily(server, BERLIN, date(2026, 3, 28), bearer(server)).json()
        end = location.day_window(date(2026, 3, 28))[1]
    assert body["nextStartOfDayAsIso8601"] == "2026-03-29T03:30:00+02:00"
    assert parse_instant(body["nextStartOfDayAsIso8601"]) == end
    for instant in (end - timedelta(minutes=1), end):
        day = location.business_date_of(instant)
        window = location.day_window(day)
        assert window[0] <= instant < window[1]


# ---------------------------------------------------------------------------------------------
# Sales over a range


def test_range_pages_ascend_by_time_closed_with_an_opaque_token(ls):
    headers = bearer(ls)
    window = {"from": "2026-03-14T05:00:00Z", "to": "2026-03-15T05:00:00Z"}
    first = sales_range(ls, BRIGHTON, headers, pageSize=2, include="payments", **window).json()
    assert [s["accountFiscId"] for s in first["sales"]] == ["A81234.102", "A81234.101"]
    assert first["nextPageToken"] == reference_examples()[4]["nextPageToken"]
    last = sales_range(
        ls, BRIGHTON, headers, pageSize=2, nextPageToken=first["nextPageToken"], **window
    ).json()
    assert [s["accountFiscId"] for s in last["sales"]] == ["A81234.109", "A81234.110"]
    assert "nextPageToken" not in last

    window = {"from": "2026-03-05T00:00:00Z", "to": "2026-03-07T12:00:00+01:00"}
    collected, token, pages = [], "", 0
    while True:
        page = sales_range(ls, BROOKLYN, headers, pageSize=7, nextPageToken=token, **window)
        assert page.status_code == 200
        collected += page.json()["sales"]
        pages += 1
        token = page.json().get("nextPageToken")
        if not token:
            break
    closes = [parse_instant(s["timeClosed"]) for s in collected]
    assert closes == sorted(closes)
    assert pages == -(-len(collected) // 7)
    start, end = parse_instant(window["from"]), parse_instant(window["to"])
    expected = []
    for offset in range(-1, 4):
        body = daily(ls, BROOKLYN, date(2026, 3, 5) + timedelta(days=offset), headers).json()
        expected += [s for s in body["sales"] if start <= parse_instant(s["timeClosed"]) < end]
    assert sorted(s["accountFiscId"] for s in collected) == sorted(
        s["accountFiscId"] for s in expected
    )
    assert all("payments" not in sale for sale in collected)


def test_range_limits_and_errors(ls, clock):
    headers = bearer(ls)
    ok = {"from": "2026-03-06T00:00:00Z", "to": "2026-03-08T00:00:00Z"}
    assert len(sales_range(ls, BRIGHTON, headers, **ok).json()["sales"]) == 50  # default pageSize
    assert sales_range(ls, BRIGHTON, headers, pageSize=100, **ok).status_code == 200
    assert sales_range(ls, BRIGHTON, headers, pageSize=101, **ok).status_code == 400
    missing = sales_range(ls, BRIGHTON, headers, to="2026-03-11T00:00:00Z")
    assert missing.json() == {
        "error": "Required request parameter 'from' for method parameter type OffsetDateTime is not present"
    }
    assert sales_range(ls, BRIGHTON, headers, **{"from": "12/12/2023"}).json() == {
        "error": "Invalid date format: 12/12/2023"
    }
    backwards = sales_range(ls, BRIGHTON, headers, **{"from": ok["to"], "to": ok["from"]})
    assert backwards.json()["error"].startswith("Invalid date range: 'from' date")
    year = {"from": "2025-06-01T04:00:00Z", "to": "2026-06-01T04:00:01Z"}
    assert sales_range(ls, BRIGHTON, headers, **year).status_code == 400  # 365 days + 1 s
    year["to"] = "2026-06-01T04:00:00Z"
    assert sales_range(ls, BRIGHTON, headers, pageSize=1, **year).status_code == 200
    early = sales_range(ls, BRIGHTON, headers, **{"from": "2025-06-01T03:59:59Z"})
    assert early.status_code == 400
    assert "Please specify a date and time after: 2025-06-01T04:00:00Z" in early.json()["error"]
    assert sales_range(ls, BRIGHTON, headers, nextPageToken="not-a-token", **ok).status_code == 400
    # format: date-time (RFC 3339): what fromisoformat takes beyond it is refused
    for loose in (
        "2026-03-06 00:00:00Z",
        "20260306T000000Z",
        "2026-W10-5T00:00:00Z",
        " " + ok["from"],
        "2026-03-06T00:00Z",
    ):
        refused = sales_range(ls, BRIGHTON, headers, **{**ok, "from": loose})
        assert refused.json() == {"error": f"Invalid date format: {loose}"}, loose
    offset = sales_range(ls, BRIGHTON, headers, **{**ok, "from": "2026-03-06T01:00:00.5+01:00"})
    assert offset.status_code == 200

    clock.set(datetime(2026, 3, 14, 21, 0, tzinfo=UTC))
    headers = bearer(ls)
    open_ended = sales_range(ls, BRIGHTON, headers, **{"from": "2026-03-14T05:00:00Z"}).json()
    assert [s["accountFiscId"] for s in open_ended["sales"]] == ["A81234.102", "A81234.101"]


# ---------------------------------------------------------------------------------------------
# Faults and schemas


def test_injected_errors_use_lightspeed_envelopes(ls):
    headers = bearer(ls)
    ls.inject_error(429, path="/sales-daily", retry_after=2)
    throttled = daily(ls, BRIGHTON, GOLDEN_DATE, headers)
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "2")
    ls.inject_error(500, path="/sales-daily")
    failed = daily(ls, BRIGHTON, GOLDEN_DATE, headers)
    assert failed.status_code == 500
    assert set(failed.json()) == {"timestamp", "path", "status", "error", "requestId"}
    assert daily(ls, BRIGHTON, GOLDEN_DATE, headers).status_code == 200


@functools.cache
def _registry(spec):
    path = REFERENCE / spec
    if not path.exists():
        return None
    document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return Registry().with_resource(
        "urn:spec", Resource.from_contents(document, default_specification=DRAFT202012)
    )


def _validator(spec, pointer):
    registry = _registry(spec)
    if registry is None:
        pytest.fail(f"{REFERENCE / spec} is missing: the reference copies belong in the repository")
    return Draft202012Validator(
        {"$ref": f"urn:spec#{pointer}"}, registry=registry, format_checker=FormatChecker()
    )


def _ok_schema(path):
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/get/responses/200/content/application~1json/schema"


def _valid(validator, instance):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == []


def test_responses_validate_against_the_openapi_documents(ls):
    headers = bearer(ls)
    financial = "lightspeed-financial-api-openapi.yml"
    v2 = "lightspeed-financialv2-api-openapi.yml"
    items = "lightspeed-items-api-openapi.yml"

    _valid(
        _validator(financial, _ok_schema("/f/data/businesses")),
        get(ls, "/f/data/businesses", headers).json(),
    )
    for route in ("tax-rates", "paymentMethods", "accountingGroups"):
        answer = get(ls, f"/f/finance/{BERLIN}/{route}", headers)
        assert answer.status_code == 200
        rows = next(iter(answer.json()["_embedded"].values()))
        assert rows
        _valid(
            _validator(financial, _ok_schema(f"/f/finance/{{businessLocationId}}/{route}")),
            answer.json(),
        )

    item_schema = _validator(items, "/components/schemas/items-apiItemDTO")
    for location, count in ((BRIGHTON, 1000), (BROOKLYN, 100)):
        listed = get(
            ls, "/items/v1/items", headers, businessLocationId=location, amount=count
        ).json()
        assert len(listed) > 50
        for row in listed:
            _valid(item_schema, row)
    one = get(ls, "/items/v1/items/141948669132890", headers, businessLocationId=BRIGHTON).json()
    _valid(_validator(items, _ok_schema("/items/v1/items/{id}")), one)

    daily_schema = _validator(
        v2, _ok_schema("/f/v2/business-location/{businessLocationId}/sales-daily")
    )
    for location, day, include in (
        (BRIGHTON, GOLDEN_DATE, "payments"),
        (BRIGHTON, GOLDEN_DATE, ""),
        (BERLIN, date(2026, 3, 10), "payments"),
    ):
        _valid(daily_schema, daily(ls, location, day, headers, include=include).json())
    range_schema = _validator(v2, _ok_schema("/f/v2/business-location/{businessLocationId}/sales"))
    window = {"from": "2026-03-06T00:00:00Z", "to": "2026-03-08T00:00:00Z", "include": "payments"}
    page = sales_range(ls, HOVE, headers, pageSize=20, **window).json()
    assert page["sales"] and "nextPageToken" in page
    _valid(range_schema, page)

    error_schema = _validator(v2, "/components/schemas/financial-apiErrorResponse")
    ls.inject_error(500, path="/sales")
    _valid(error_schema, sales_range(ls, HOVE, headers, **window).json())


def test_a_rate_limit_answers_429_with_retry_after_per_client():
    clock = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    with LightspeedSandbox(rate_limit=2, clock=clock).running() as server:
        answers = [httpx.get(f"{server.url}/f/data/businesses").status_code for _ in range(3)]
        other = httpx.get(
            f"{server.url}/f/data/businesses", headers={"Authorization": "Bearer other"}
        )
        throttled = httpx.get(f"{server.url}/f/data/businesses")
        clock.advance(timedelta(seconds=1))
        later = httpx.get(f"{server.url}/f/data/businesses")
    assert answers == [401, 401, 429], "the limit counts requests, answered or not"
    assert other.status_code == 401, "each client has its own window"
    assert throttled.headers["Retry-After"] == "1" and server.throttled == 2
    assert later.status_code == 401, "the window slides with the clock"


def test_volume_scales_the_sales_of_a_day():
    day = date(2026, 11, 20)
    quiet = LightspeedData(1).day(45454565682155, day).sales
    busy = LightspeedData(1, volume=4).day(45454565682155, day).sales
    assert len(busy) > 3 * len(quiet)
