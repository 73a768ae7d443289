"""A fake Lightspeed Restaurant K-Series: OAuth (V1 and V2) and the Financial and Items routes
Stockpot reads, on one loopback server.

The contract is /work/shared/reference/lightspeed-kseries.md (hosts §1, OAuth §2, endpoints
§3-§7, example payloads §9, fake-server contract §10). Both the API base URL and the auth base
URL of a client point at ``sandbox.url``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from stockpot.sandbox.formats import parse_date, parse_date_time
from stockpot.sandbox.http import Clock, Fault, Request, Response, SandboxServer
from stockpot.sandbox.lightspeed.data import (
    Business,
    LightspeedData,
    Location,
    iso_ms,
    iso_seconds,
    parse_instant,
)

DEFAULT_CLIENT_ID = "devp-v2-sandbox"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_USER = "manager@sandbox.test"
DEFAULT_SCOPES = "financial-api items offline_access"

V2_PREFIX = "/realms/k-series/protocol/openid-connect"

KNOWN_SCOPES = frozenset(
    {
        "financial-api",
        "items",
        "orders-api",
        "staff-api",
        "propertymanagement",
        "id-cards",
        "reservations-api",
        "offline_access",
        "openid",
        "profile",
        "email",
    }
)
INCLUDE_VALUES = (
    "staff",
    "table",
    "consumer",
    "payments",
    "revenue_center",
    "account_profile",
    "payment_authorization",
)

AUTHENTICATION_FAILED = "Authentication failed."
ACCESS_DENIED = "Access Denied."
WRONG_LOCATION = "Access token not relevant for the businessLocation, use authorization-code"
TOKEN_NOT_ACTIVE = "Token is not active"
MAX_RANGE = timedelta(days=365)
MAX_PAGE_SIZE = 100
MAX_ITEMS_AMOUNT = 1000
MAX_ITEM_IDS = 200
SKU_LENGTH = (1, 32)
NAME_LENGTH = (1, 180)
"""The Items list's ``sku`` and ``name`` filters (spec ``items-apiSku``, ``items-apiName``)."""


@dataclass(frozen=True)
class _Grant:
    """What the user approved: who, for which client, with which scopes, via V1 or V2."""

    client_id: str
    username: str
    scopes: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class _Code:
    grant: _Grant
    redirect_uri: str
    expires_at: datetime


@dataclass(frozen=True)
class _Token:
    grant: _Grant
    expires_at: datetime | None
    """``None``: does not expire by time (an offline refresh token)."""


class _Abort(Exception):
    """Stop handling a request and answer ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _error(message: str, status: int) -> Response:
    return Response.json({"error": message}, status)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json({"error": error, "error_description": description}, status)


class LightspeedSandbox(SandboxServer):
    """Lightspeed K-Series on loopback: OAuth V1/V2, businesses, items, sales.

    Test helpers: ``issue_tokens`` (a token response without HTTP), ``expire_access_tokens``,
    ``revoke_refresh_tokens``, ``issued_scopes``, ``register_client``, ``withhold_scopes``,
    ``repeat_line``, ``add_user``,
    ``login_as``, ``inject_error`` and ``expected_item_quantities``. ``clock`` decides token
    expiry, which sales have closed and ``dataComplete``.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        clock: Clock | None = None,
        access_token_ttl: timedelta = timedelta(minutes=25),
        volume: float = 1.0,
        rate_limit: float | None = None,
        plain_http_loopback: bool = False,
    ) -> None:
        super().__init__(clock=clock)
        self.seed = seed
        self.plain_http_loopback = plain_http_loopback
        """Also send back to ``http://127.0.0.1`` / ``localhost``. Lightspeed takes only an
        HTTPS ``redirect_uri`` (reference §2.2), as this stand-in does by default; Stockpot
        served over plain HTTP on this machine (tests, the demo, ``stockpot sandbox``) asks
        for this."""
        self.data = LightspeedData(seed, volume=volume)
        self.rate_limit = rate_limit
        """Requests per second per access token before answering 429 with ``Retry-After: 1``
        (the real API throttles per client without publishing a number)."""
        self.throttled = 0
        self._windows: dict[str, deque[float]] = {}
        self.businesses: tuple[Business, ...] = self.data.businesses
        self.locations: dict[int, Location] = self.data.locations
        self.access_token_ttl = access_token_ttl
        self.online_refresh_ttl = timedelta(minutes=30)
        """V2 refresh-token lifetime without ``offline_access`` (offline ones never expire)."""
        self.v1_refresh_ttl = timedelta(days=14)
        self.code_ttl = timedelta(seconds=60)
        self._lock = threading.RLock()
        self._clients: dict[str, str] = {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        self._withheld: frozenset[str] = frozenset()
        self._repeated_lines: dict[str, str | None] = {}
        self._users: dict[str, frozenset[int]] = {DEFAULT_USER: frozenset(self.locations)}
        self._current_user = DEFAULT_USER
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}

        routes: list[tuple[str, str, Callable[[Request], Response]]] = [
            ("GET", f"{V2_PREFIX}/auth", lambda r: self._authorize(r, "v2")),
            ("POST", f"{V2_PREFIX}/token", lambda r: self._token(r, "v2")),
            ("GET", "/oauth/authorize", lambda r: self._authorize(r, "v1")),
            ("POST", "/oauth/token", lambda r: self._token(r, "v1")),
            ("GET", "/f/data/businesses", self._businesses),
            ("GET", r"/f/finance/(?P<bl>[^/]+)/tax-rates", self._tax_rates),
            ("GET", r"/f/finance/(?P<bl>[^/]+)/paymentMethods", self._payment_methods),
            ("GET", r"/f/finance/(?P<bl>[^/]+)/accountingGroups", self._accounting_groups),
            ("GET", "/items/v1/items", self._items),
            ("GET", r"/items/v1/items/(?P<item>[^/]+)", self._item),
            ("GET", r"/f/v2/business-location/(?P<bl>[^/]+)/sales-daily", self._sales_daily),
            ("GET", r"/f/v2/business-location/(?P<bl>[^/]+)/sales", self._sales),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, self._guarded(handler))

    def start(self, port: int = 0, host: str = "127.0.0.1") -> LightspeedSandbox:
        super().start(port, host)
        if self._server is not None:
            # Headers and body leave in two writes: without TCP_NODELAY each answer on a
            # kept-alive connection waits ~40 ms for the client's delayed ACK.
            self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        return self

    def stop(self) -> None:
        super().stop()
        self.data.clear_cache()  # generated days are large; a stopped sandbox keeps none

    # ---------------------------------------------------------------------------------------
    # Test helpers

    def register_client(self, client_id: str, client_secret: str) -> None:
        with self._lock:
            self._clients[client_id] = client_secret

    def withhold_scopes(self, *scopes: str) -> None:
        """Grant these scopes to no one from now on, whoever asks for them: the token's
        ``scope`` lacks them (a client gets only the scopes enabled for it in the Developer
        Portal, reference §2.4; Keycloak leaves an optional one out without an error, and a
        user may decline ``offline_access`` at consent)."""
        with self._lock:
            self._withheld = frozenset(scopes)

    def repeat_line(self, line_id: str, into: str | None = None) -> None:
        """From now on ``sales-daily`` lists the sales line ``line_id`` twice: in its own
        account and again in account ``into`` (by default the account listed after its own),
        as a line moved to another account while the day was read shows in both."""
        with self._lock:
            self._repeated_lines[line_id] = into

    def _with_repeats(self, sales: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            repeats = dict(self._repeated_lines)
        for line_id, into in repeats.items():
            found = [
                (number, line)
                for number, sale in enumerate(sales)
                for line in sale.get("salesLines", [])
                if line.get("id") == line_id
            ]
            if not found:
                continue
            number, line = found[0]
            names = [sale.get("accountFiscId") for sale in sales]
            target = names.index(into) if into in names else (number + 1) % len(sales)
            moved = dict(sales[target])  # shared with the cached day: copied, never mutated
            moved["salesLines"] = [*moved.get("salesLines", []), dict(line)]
            sales[target] = moved
        return sales

    def add_user(self, username: str, location_ids: Iterable[int]) -> None:
        """A Lightspeed user with access to these locations (replaces an existing one)."""
        ids = frozenset(location_ids)
        unknown = ids - set(self.locations)
        if unknown:
            raise ValueError(f"unknown location ids: {sorted(unknown)}")
        with self._lock:
            self._users[username] = ids

    def login_as(self, username: str) -> None:
        """The user the authorize endpoints sign in and consent as."""
        with self._lock:
            if username not in self._users:
                raise KeyError(f"no sandbox user {username!r}; add_user() first")
            self._current_user = username

    def issue_tokens(
        self,
        *,
        username: str | None = None,
        scopes: str = DEFAULT_SCOPES,
        client_id: str = DEFAULT_CLIENT_ID,
        version: str = "v2",
    ) -> dict[str, Any]:
        """The token-endpoint answer of a completed authorization, without any HTTP."""
        if version not in ("v1", "v2"):
            raise ValueError(f"version is 'v1' or 'v2', not {version!r}")
        with self._lock:
            user = username or self._current_user
            if user not in self._users:
                raise KeyError(f"no sandbox user {user!r}")
            grant = _Grant(client_id, user, self._granted_scopes(scopes.split(), version), version)
            return self._issue(grant)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        with self._lock:
            self._access.clear()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is refused (``invalid_grant``) from now on."""
        with self._lock:
            self._refresh.clear()

    def issued_scopes(self, token: str) -> frozenset[str] | None:
        """The scopes of a live access or refresh token, ``None`` if unknown."""
        with self._lock:
            record = self._access.get(token) or self._refresh.get(token)
            return frozenset(record.grant.scopes) if record else None

    def inject_error(
        self, status: int, *, path: str = ".*", times: int = 1, after: int = 0, retry_after: int = 1
    ) -> None:
        """Answer ``times`` matching requests with an error in Lightspeed's envelope: 429 with
        ``Retry-After``, 500 with the Financial V2 error body, others ``{"error": ...}``."""
        phrase = HTTPStatus(status).phrase
        headers: dict[str, str] = {}
        body: dict[str, Any] = {"error": phrase}
        if status == 429:
            headers["Retry-After"] = str(retry_after)
        if status >= 500:
            body = {
                "timestamp": iso_ms(self.clock.now()),
                "path": path,
                "status": status,
                "error": phrase,
                "requestId": str(uuid.uuid4()),
            }
        self.faults.add(Fault.status(status, body, headers), path=path, times=times, after=after)

    def expected_item_quantities(
        self, location_id: int, business_date: date, *, as_of: datetime | None = None
    ) -> dict[str, Decimal]:
        """Per sku, the signed quantity sold on a business day: SALE and REFUND sales that are
        not cancelled, every line (voids net out). ``as_of``: only sales closed before it."""
        return self.data.expected_item_quantities(location_id, business_date, as_of=as_of)

    # ---------------------------------------------------------------------------------------
    # OAuth

    def _guarded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            if self._over_limit(request.header("authorization") or ""):
                return Response.json({"error": "Too Many Requests"}, 429, {"Retry-After": "1"})
            try:
                return handler(request)
            except _Abort as abort:
                return abort.response

        return run

    def _over_limit(self, client: str) -> bool:
        """A sliding one-second window per client (per access token), on ``clock``: a test
        on a clock that stands still sees every request in one window however slow the
        machine (on real time, five requests crossed a second under load, and the third was
        let through)."""
        if self.rate_limit is None:
            return False
        now = self.clock.now().timestamp()
        with self._lock:
            window = self._windows.setdefault(client, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.rate_limit:
                self.throttled += 1
                return True
            window.append(now)
            return False

    def _redirect_allowed(self, uri: str) -> bool:
        try:
            parts = urlsplit(uri)
        except ValueError:
            return False
        if parts.scheme == "https":
            return bool(parts.netloc)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
        return self.plain_http_loopback and loopback

    def _granted_scopes(self, requested: list[str], version: str) -> tuple[str, ...]:
        scopes = [scope for scope in dict.fromkeys(requested) if scope not in self._withheld]
        if version == "v2":
            scopes += [extra for extra in ("profile", "email") if extra not in scopes]
        return tuple(scopes)

    def _authorize(self, request: Request, version: str) -> Response:
        client_id = request.arg("client_id") or ""
        redirect_uri = request.arg("redirect_uri") or ""
        with self._lock:
            known = client_id in self._clients
            user = self._current_user
        if not known:
            return _oauth_error("invalid_client", "Client not found.")
        if not redirect_uri or not self._redirect_allowed(redirect_uri):
            return _oauth_error("invalid_request", "Invalid parameter: redirect_uri")
        state = request.arg("state")

        def back(params: dict[str, str]) -> Response:
            if state is not None:
                params["state"] = state
            separator = "&" if "?" in redirect_uri else "?"
            return Response.redirect(f"{redirect_uri}{separator}{urlencode(params)}")

        if request.arg("response_type") != "code":
            return back(
                {
                    "error": "unsupported_response_type",
                    "error_description": "Missing or unsupported response_type (use code)",
                }
            )
        requested = (request.arg("scope") or "").split()
        bad = [
            scope
            for scope in requested
            if scope not in KNOWN_SCOPES and not scope.startswith("reservation-")
        ]
        if not requested or bad:
            return back(
                {
                    "error": "invalid_scope",
                    "error_description": f"Invalid scopes: {' '.join(bad) or '(none)'}",
                }
            )
        code = secrets.token_urlsafe(24)
        grant = _Grant(client_id, user, self._granted_scopes(requested, version), version)
        with self._lock:
            self._codes[code] = _Code(grant, redirect_uri, self.clock.now() + self.code_ttl)
        return back({"code": code})

    def _token_params(self, request: Request, version: str) -> dict[str, str]:
        if version == "v1":
            source = request.query  # V1 takes the grant in the query string (§2.1)
        else:
            content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
            if request.body and content_type != "application/x-www-form-urlencoded":
                raise _Abort(
                    _oauth_error(
                        "invalid_request", "Content type must be application/x-www-form-urlencoded"
                    )
                )
            source = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in source.items() if values}

    def _client_of(self, request: Request, params: dict[str, str]) -> str:
        """The authenticated client id (HTTP Basic, else client_id/client_secret params)."""
        client_id, secret = params.get("client_id"), params.get("client_secret")
        header = request.header("authorization") or ""
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, secret = decoded.partition(":")
        with self._lock:
            expected = self._clients.get(client_id or "")
        if expected is None or secret is None or not hmac.compare_digest(expected, secret):
            raise _Abort(
                _oauth_error("invalid_client", "Invalid client or Invalid client credentials", 401)
            )
        return client_id or ""

    def _token(self, request: Request, version: str) -> Response:
        params = self._token_params(request, version)
        client_id = self._client_of(request, params)
        grant_type = params.get("grant_type")
        now = self.clock.now()
        with self._lock:
            if grant_type == "authorization_code":
                code = self._codes.pop(params.get("code") or "", None)
                if code is None or code.expires_at <= now or code.grant.client_id != client_id:
                    return _oauth_error("invalid_grant", "Code not valid")
                if params.get("redirect_uri") != code.redirect_uri:
                    return _oauth_error("invalid_grant", "Incorrect redirect_uri")
                return Response.json(self._issue(code.grant))
            if grant_type == "refresh_token":
                token = params.get("refresh_token") or ""
                record = self._refresh.get(token)
                if record is None or (record.expires_at is not None and record.expires_at <= now):
                    self._refresh.pop(token, None)
                    return _oauth_error("invalid_grant", TOKEN_NOT_ACTIVE)
                if record.grant.client_id != client_id:
                    return _oauth_error(
                        "invalid_grant", "Token client and authorized client don't match"
                    )
                del self._refresh[token]  # single use: rotation
                return Response.json(self._issue(record.grant))
        if not grant_type:
            return _oauth_error("invalid_request", "Missing form parameter: grant_type")
        return _oauth_error("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")

    def _issue(self, grant: _Grant) -> dict[str, Any]:
        now = self.clock.now()
        access = f"lsk-sbx-at.{secrets.token_urlsafe(32)}"
        refresh = f"lsk-sbx-rt.{secrets.token_urlsafe(32)}"
        offline = "offline_access" in grant.scopes
        if grant.version == "v1":
            refresh_ttl: timedelta | None = self.v1_refresh_ttl
        else:
            refresh_ttl = None if offline else self.online_refresh_ttl
        with self._lock:
            self._access[access] = _Token(grant, now + self.access_token_ttl)
            self._refresh[refresh] = _Token(grant, now + refresh_ttl if refresh_ttl else None)
        expires_in = int(self.access_token_ttl.total_seconds())
        if grant.version == "v1":
            return {
                "access_token": access,
                "token_type": "bearer",
                "refresh_token": refresh,
                "expires_in": expires_in,
                "scope": " ".join(grant.scopes),
            }
        return {
            "access_token": access,
            "expires_in": expires_in,
            "refresh_expires_in": int(refresh_ttl.total_seconds()) if refresh_ttl else 0,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": str(uuid.uuid4()),
            "scope": " ".join(grant.scopes),
        }

    # ---------------------------------------------------------------------------------------
    # Guards shared by the API routes

    def _bearer(self, request: Request, scope: str) -> _Grant:
        """The grant behind a valid bearer token carrying ``scope``; 401/403 otherwise."""
        header = request.header("authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        with self._lock:
            record = self._access.get(token) if token else None
        if record is None or (record.expires_at and record.expires_at <= self.clock.now()):
            raise _Abort(
                Response.json(
                    {"error": AUTHENTICATION_FAILED},
                    401,
                    {"WWW-Authenticate": 'Bearer realm="k-series"'},
                )
            )
        if scope not in record.grant.scopes:
            raise _Abort(_error(ACCESS_DENIED, 403))
        return record.grant

    def _user_locations(self, grant: _Grant) -> frozenset[int]:
        with self._lock:
            return self._users.get(grant.username, frozenset())

    def _financial_location(self, request: Request, grant: _Grant) -> Location:
        """The path's location for a Financial route: 404 (Spring body) if unknown, 403 if the
        token's user cannot see it."""
        raw = request.params["bl"]
        location = self.locations.get(int(raw)) if raw.isdigit() else None
        if location is None:
            raise _Abort(
                Response.json(
                    {
                        "timestamp": self._spring_timestamp(),
                        "status": 404,
                        "error": "Not Found",
                        "exception": (
                            "com.ikentoo.financial.service.exceptions.ResourceNotFoundException"
                        ),
                        "message": f"Business Location Not found for {raw}",
                        "path": request.path,
                    },
                    404,
                )
            )
        if location.id not in self._user_locations(grant):
            raise _Abort(_error(WRONG_LOCATION, 403))
        return location

    def _spring_timestamp(self) -> str:
        now = self.clock.now()
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"

    def _items_error(
        self, status: int, message: str, sub: list[dict[str, str]] | None = None
    ) -> _Abort:
        """The Items envelope: ``status`` is a string there (§5)."""
        return _Abort(
            Response.json(
                {
                    "status": str(status),
                    "timestamp": iso_seconds(self.clock.now()).replace("Z", "+00:00"),
                    "message": message,
                    "apiSubExceptions": sub or [],
                },
                status,
            )
        )

    def _constraint(self, field: str, value: str, message: str) -> _Abort:
        return self._items_error(
            400,
            "Constraint violation",
            [{"field": field, "rejectedValue": value, "message": message}],
        )

    def _items_int(self, request: Request, name: str, default: int | None = None) -> int | None:
        raw = request.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise self._constraint(name, raw, "must be a number") from None

    def _items_location(self, request: Request, grant: _Grant) -> Location:
        location_id = self._items_int(request, "businessLocationId")
        if location_id is None:
            raise self._constraint("businessLocationId", "null", "must not be null")
        location = self.locations.get(location_id)
        if location is None:
            raise self._items_error(404, f"Business location {location_id} not found")
        if location.id not in self._user_locations(grant):
            raise _Abort(_error(WRONG_LOCATION, 403))
        return location

    # ---------------------------------------------------------------------------------------
    # Financial: businesses and reference data

    def _businesses(self, request: Request) -> Response:
        grant = self._bearer(request, "financial-api")
        numbers: dict[str, int] = {}
        for name, default in (("page", 0), ("size", 1000)):
            raw = request.arg(name) or str(default)
            if not raw.lstrip("-").isdigit() or int(raw) < (0 if name == "page" else 1):
                return Response.json(
                    {
                        "timestamp": self._spring_timestamp(),
                        "status": 400,
                        "error": "Bad Request",
                        "message": f"Invalid value for parameter '{name}': {raw}",
                        "path": request.path,
                    },
                    400,
                )
            numbers[name] = int(raw)
        page, size = numbers["page"], numbers["size"]
        allowed = self._user_locations(grant)
        visible = []
        for business in self.businesses:
            locations = [loc for loc in business.locations if loc.id in allowed]
            if locations:
                visible.append(
                    {
                        "businessName": business.name,
                        "businessId": business.id,
                        "currencyCode": business.currency,
                        "businessLocations": [
                            {
                                "blName": loc.name,
                                "blID": loc.id,
                                "country": loc.country,
                                "timezone": loc.timezone,
                            }
                            for loc in locations[:500]
                        ],
                    }
                )
        return Response.json(
            {
                "_embedded": {"businessList": visible[page * size : (page + 1) * size]},
                "_links": {
                    "self": {"href": f"{self.url}/f/data/businesses?page={page}&size={size}"}
                },
            }
        )

    def _hal(self, request: Request, key: str, rows: list[dict[str, Any]]) -> Response:
        return Response.json(
            {"_embedded": {key: rows}, "_links": {"self": {"href": f"{self.url}{request.path}"}}}
        )

    def _tax_rates(self, request: Request) -> Response:
        location = self._financial_location(request, self._bearer(request, "financial-api"))
        tax = location.tax
        row = {
            "code": tax.code,
            "description": tax.description,
            "rate": float(tax.multiplier),
            "taxIncluded": True,
            "accountingReference": tax.code,
        }
        return self._hal(request, "taxRateList", [row])

    def _payment_methods(self, request: Request) -> Response:
        location = self._financial_location(request, self._bearer(request, "financial-api"))
        methods = self.data.business(location.id).payment_methods.values()
        rows = [
            {
                "name": m.name,
                "code": m.code,
                "accountingReference": m.accounting_reference,
                "pmId": m.id,
            }
            for m in methods
        ]
        return self._hal(request, "paymentMethodList", rows)

    def _accounting_groups(self, request: Request) -> Response:
        location = self._financial_location(request, self._bearer(request, "financial-api"))
        groups = self.data.business(location.id).accounting_groups.values()
        rows = [
            {
                "accountingGroupId": group.id,
                "name": group.name,
                "statisticGroup": json.dumps(
                    [{"category": "default", "value": group.statistic_group}],
                    separators=(",", ":"),
                ),
                "code": group.code,
            }
            for group in groups
        ]
        return self._hal(request, "accountingGroupList", rows)

    # ---------------------------------------------------------------------------------------
    # Items

    def _items(self, request: Request) -> Response:
        grant = self._bearer(request, "items")
        location = self._items_location(request, grant)
        offset = self._items_int(request, "offset", 0) or 0
        amount = self._items_int(request, "amount", 100)
        assert amount is not None
        if offset < 0:
            raise self._constraint("offset", str(offset), "must be greater than or equal to 0")
        if amount > MAX_ITEMS_AMOUNT:
            raise self._constraint(
                "amount", str(amount), f"must be less than or equal to {MAX_ITEMS_AMOUNT}"
            )
        if amount < 1:
            raise self._constraint("amount", str(amount), "must be greater than or equal to 1")
        items = self.data.items(location.id)
        sku, name = request.arg("sku"), request.arg("name")
        for field, value, (low, high) in (("sku", sku, SKU_LENGTH), ("name", name, NAME_LENGTH)):
            if value is not None and not low <= len(value) <= high:
                raise self._constraint(field, value, f"size must be between {low} and {high}")
        if sku:
            items = [item for item in items if item.sku == sku]
        if name:
            items = [item for item in items if name.lower() in item.name.lower()]
        group_id = self._items_int(request, "accountingGroupId")
        if group_id is not None:
            items = [item for item in items if item.dto["accountingGroup"]["id"] == group_id]
        raw_ids = [part for value in request.query.get("itemIds", []) for part in value.split(",")]
        if raw_ids:
            if len(raw_ids) > MAX_ITEM_IDS:
                raise self._constraint(
                    "itemIds", str(len(raw_ids)), f"size must be between 0 and {MAX_ITEM_IDS}"
                )
            try:
                wanted = {int(part) for part in raw_ids if part.strip()}
            except ValueError:
                raise self._constraint("itemIds", ",".join(raw_ids), "must be numbers") from None
            return Response.json([item.dto for item in items if item.id in wanted])
        return Response.json([item.dto for item in items[offset : offset + amount]])

    def _item(self, request: Request) -> Response:
        grant = self._bearer(request, "items")
        raw = request.params["item"]
        if not raw.isdigit():
            raise self._constraint("id", raw, "must be a number")
        location = self._items_location(request, grant)
        for item in self.data.items(location.id):
            if item.id == int(raw):
                return Response.json(item.dto)
        raise self._items_error(404, "Item not found")

    # ---------------------------------------------------------------------------------------
    # Financial V2: sales

    @staticmethod
    def _includes(request: Request) -> set[str]:
        """The ``include`` list: the spec names the allowed values (``INCLUDE_VALUES``); any
        other is refused with a 400 in the Financial V2 envelope (its wording is ours)."""
        raw = ",".join(request.query.get("include", []))
        includes = {part.strip() for part in raw.split(",") if part.strip()}
        unknown = sorted(includes - set(INCLUDE_VALUES))
        if unknown:
            raise _Abort(
                _error(
                    f"Invalid include value(s): {', '.join(unknown)}. The allowed values are: "
                    f"{', '.join(INCLUDE_VALUES)}",
                    400,
                )
            )
        return includes

    @staticmethod
    def _shaped(sale: dict[str, Any], includes: set[str]) -> dict[str, Any]:
        """The sale as the include list exposes it: ``payments`` only with
        ``include=payments`` (the other include values change nothing here)."""
        if "payments" in includes:
            return sale
        return {key: value for key, value in sale.items() if key != "payments"}

    @staticmethod
    def _earliest_error(location: Location) -> _Abort:
        earliest = iso_seconds(location.earliest_instant)
        return _Abort(
            _error(
                "Invalid 'from' date query parameter. The requested business location was not "
                "operational on the provided date.\nPlease specify a date and time after: "
                f"{earliest}, which is the earliest available date for this location.\n",
                400,
            )
        )

    def _sales_daily(self, request: Request) -> Response:
        location = self._financial_location(request, self._bearer(request, "financial-api"))
        raw = request.arg("date")
        if not raw:
            return _error(
                "Required request parameter 'date' for method parameter type LocalDate is not "
                "present",
                400,
            )
        try:
            business_date = parse_date(raw)
        except ValueError:
            return _error(f"Invalid date format: {raw}", 400)
        if business_date < location.earliest_date:
            raise self._earliest_error(location)
        day = self.data.day(location.id, business_date)
        now = self.clock.now()
        includes = self._includes(request)
        sales = self._with_repeats(
            [
                self._shaped(sale, includes)
                for sale, closed in zip(day.sales, day.closed, strict=True)
                if closed < now
            ]
        )
        return Response.json(
            {
                "sales": sales,
                "nextStartOfDayAsIso8601": location.next_start_of_day(business_date),
                "dataComplete": now >= day.end,
            }
        )

    def _instant(self, raw: str) -> datetime:
        try:
            return parse_date_time(raw)
        except ValueError:
            raise _Abort(_error(f"Invalid date format: {raw}", 400)) from None

    def _sales(self, request: Request) -> Response:
        location = self._financial_location(request, self._bearer(request, "financial-api"))
        raw_from, raw_to = request.arg("from"), request.arg("to")
        if not raw_from:
            return _error(
                "Required request parameter 'from' for method parameter type OffsetDateTime is "
                "not present",
                400,
            )
        start = self._instant(raw_from)
        now = self.clock.now()
        requested_end = self._instant(raw_to) if raw_to else now
        if start > requested_end:
            return _error(
                f"Invalid date range: 'from' date {raw_from} should not be after 'to' date "
                f"{raw_to or iso_seconds(now)}",
                400,
            )
        if requested_end - start > MAX_RANGE:
            return _error(
                "Invalid date range: the range between 'from' and 'to' cannot exceed 365 days",
                400,
            )
        if start < location.earliest_instant:
            raise self._earliest_error(location)
        end = min(requested_end, now)
        raw_size = request.arg("pageSize") or "50"
        if not raw_size.lstrip("-").isdigit():
            return _error(f"Invalid pageSize: {raw_size}", 400)
        page_size = int(raw_size)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            return _error(
                f"Invalid pageSize: {page_size}. It must be between 1 and {MAX_PAGE_SIZE}", 400
            )
        after = self._cursor(request.arg("nextPageToken") or "")
        includes = self._includes(request)
        page: list[dict[str, Any]] = []
        more = False
        last: tuple[datetime, str] | None = None
        for closed, fisc_id, sale in self.data.sales_between(location.id, start, end, after=after):
            if len(page) == page_size:
                more = True
                break
            page.append(self._shaped(sale, includes))
            last = (closed, fisc_id)
        body: dict[str, Any] = {"sales": page}
        if more and last is not None:
            body["nextPageToken"] = self._token_for(last)
        return Response.json(body)

    @staticmethod
    def _token_for(cursor: tuple[datetime, str]) -> str:
        raw = json.dumps({"tclosed": iso_ms(cursor[0]), "id": cursor[1]}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _cursor(token: str) -> tuple[datetime, str] | None:
        if not token:
            return None
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            return parse_instant(data["tclosed"]), str(data["id"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise _Abort(_error(f"Invalid nextPageToken: {token}", 400)) from None
