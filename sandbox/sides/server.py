"""A fake SIDES POS API on loopback: the assumed API of reference §6, answered from the
deterministic tenant in ``data.py``.

    with SidesSandbox(clock=Clock(now)).running() as sides:
        httpx.post(f"{sides.url}/api/v1/auth/login", json={...})

Every response carries ``X-Request-Id``; every error body has the §6.10 shape and repeats
that id. Time (token expiry, "today", ``is_closed``, rate-limit windows, ``updated_at`` of
catalogue edits) comes from ``self.clock``, so tests never sleep.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from stockpot.sandbox.formats import parse_date, parse_date_time
from stockpot.sandbox.http import Clock, Fault, Request, Response, SandboxServer
from stockpot.sandbox.sides import api
from stockpot.sandbox.sides.api import Code
from stockpot.sandbox.sides.data import (
    GROUP_PIZZA,
    PRODUCT_TYPES,
    VAT_7,
    VAT_19,
    Day,
    DayGenerator,
    Price,
    Product,
    Store,
    build_catalogue,
    build_stores,
    consumption,
    summarize,
)

DEFAULT_USERNAME = "inventory@pizzeria-beispiel.de"
DEFAULT_PASSWORD = "s3cret"
DEFAULT_STORE_IDS = (36, 41)
_API_PATHS_BUT_AUTH = r"^/api/v1/(?!auth/)"


class ApiError(Exception):
    """An error answer in the §6.10 format."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or api.DEFAULT_MESSAGES.get(code, code))
        self.status = status
        self.code = code
        self.message = message or api.DEFAULT_MESSAGES.get(code, code)
        self.headers = headers or {}


@dataclass
class User:
    id: int
    username: str
    password: str
    store_ids: tuple[int, ...]
    disabled: bool = False
    name: str = ""
    user_group: str = "Filiale"
    token_ttl: timedelta | None = None
    """None: the sandbox's ``token_ttl``."""
    tenant: tuple[str, str] = api.TENANT
    """(key, name): a user of another tenant signs in to the same host (§6.2's
    ``tenant_key``); the sandbox serves it this tenant's data all the same."""


@dataclass
class _Session:
    token: str
    username: str
    expires_at: datetime
    window: int = -1
    """The rate-limit minute (epoch seconds // 60) that ``used`` counts."""
    used: int = 0


Handler = Callable[[Request, User], Response]


class SidesSandbox(SandboxServer):
    """The fake SIDES API. See the module docstring and ``api.py`` for the routes."""

    def __init__(
        self,
        *,
        seed: int = 1,
        clock: Clock | None = None,
        token_ttl: timedelta = timedelta(hours=1),
        retention_days: int = 400,
        requests_per_minute: int | None = None,
    ) -> None:
        """``requests_per_minute`` turns on the per-token limit of §6.11 (the API's assumed
        value is ``api.REQUESTS_PER_MINUTE``) with its ``X-RateLimit-*`` headers; off by
        default so a fixed test clock never locks a client out."""
        super().__init__(clock=clock)
        self.seed = seed
        self.token_ttl = token_ttl
        self.retention_days = retention_days
        self.requests_per_minute = requests_per_minute
        self.stores: dict[int, Store] = build_stores()
        self.products: dict[int, Product] = build_catalogue()
        """The live catalogue; the edit helpers change it. Reports never do."""
        self.users: dict[str, User] = {}
        self._generator = DayGenerator(seed, self.stores, build_catalogue())
        self._tokens: dict[str, _Session] = {}
        self._failed_logins: dict[str, list[datetime]] = {}
        self._lock = threading.Lock()
        self._forced = threading.local()
        self.add_user(
            DEFAULT_USERNAME,
            DEFAULT_PASSWORD,
            DEFAULT_STORE_IDS,
            user_id=311,
            name="Inventory API",
            user_group="Inventur/Warenwirtschaft",
        )
        for route in api.ROUTES:
            handler = getattr(self, f"_handle_{route.handler}")
            self.route(route.method, route.pattern, self._endpoint(handler, route.auth))

    def start(self, port: int = 0, host: str = "127.0.0.1") -> SidesSandbox:
        super().start(port, host)
        if self._server is not None:
            # The base handler writes headers and body separately; without TCP_NODELAY, Nagle
            # plus the peer's delayed ACK add ~40 ms to every keep-alive answer.
            self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        return self

    # ------------------------------------------------------------------ helpers for tests

    def add_branches(self, count: int, *, like: int = 36, first_id: int = 1000) -> list[int]:
        """A bigger tenant: ``count`` more stores trading every day like store ``like`` (each
        with its own deterministic sales), visible to every user who sees ``like``."""
        model = self.stores[like]
        added = list(range(first_id, first_id + count))
        with self._lock:
            for store_id in added:
                self.stores[store_id] = replace(
                    model,
                    id=store_id,
                    number=f"{store_id:04d}",
                    name=f"{model.name} {store_id}",
                    closed_weekdays=frozenset(),
                    price_list=like,
                )
            for username, user in list(self.users.items()):
                if like in user.store_ids:
                    self.users[username] = replace(user, store_ids=(*user.store_ids, *added))
        return added

    def add_user(
        self,
        username: str,
        password: str,
        store_ids: Iterable[int],
        disabled: bool = False,
        *,
        user_id: int | None = None,
        name: str | None = None,
        user_group: str = "Filiale",
        token_ttl: timedelta | None = None,
        tenant: tuple[str, str] = api.TENANT,
    ) -> User:
        with self._lock:
            user = User(
                id=user_id or max((u.id for u in self.users.values()), default=311) + 1,
                username=username,
                password=password,
                store_ids=tuple(store_ids),
                disabled=disabled,
                name=name or username,
                user_group=user_group,
                token_ttl=token_ttl,
                tenant=tenant,
            )
            self.users[_key(username)] = user
            return user

    def disable_user(self, username: str, disabled: bool = True) -> None:
        """Lock (or unlock) an account; its tokens then get 403 ``account_disabled``."""
        with self._lock:
            self.users[_key(username)].disabled = disabled

    def expire_tokens(self) -> None:
        """Every token issued so far answers 401 ``token_expired`` from now on."""
        now = self._now()
        with self._lock:
            for session in self._tokens.values():
                session.expires_at = min(session.expires_at, now)

    def fail_next(
        self,
        status: int,
        code: str,
        times: int = 1,
        *,
        path: str = _API_PATHS_BUT_AUTH,
        after: int = 0,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with a §6.10 error (fresh request id;
        ``Retry-After`` defaults to 1 s on 429 and 503). The default path is every API route
        except ``/auth/``, so e.g. ``fail_next(401, "token_expired", 2)`` leaves login alone."""
        if retry_after is None and status in (429, 503):
            retry_after = 1
        headers = {api.RETRY_AFTER: str(retry_after)} if retry_after is not None else {}
        if status == 401:
            headers[api.WWW_AUTHENTICATE] = api.BEARER

        def force() -> None:
            self._forced.error = ApiError(status, code, message, headers)

        self.faults.add(Fault(before=force), path=path, times=times, after=after)

    def truncate_next(self, times: int = 1, *, path: str = _API_PATHS_BUT_AUTH) -> None:
        """Send half of the next matching bodies, then close the connection."""
        self.faults.add(Fault(truncate=True), path=path, times=times)

    def drop_next(self, times: int = 1, *, path: str = _API_PATHS_BUT_AUTH) -> None:
        """Close the connection of the next matching requests without answering."""
        self.faults.add(Fault(drop=True), path=path, times=times)

    def rename_product(self, product_id: int, name: str) -> Product:
        return self._edit(product_id, name=name)

    def deactivate_product(self, product_id: int) -> Product:
        return self._edit(product_id, active=False)

    def add_product(
        self,
        name: str,
        *,
        type: str = "sales_item",
        price: Decimal | str | None = None,
        item_number: str | None = None,
        product_id: int | None = None,
        commodity_group: tuple[int, str] | None = GROUP_PIZZA,
        deposit_product_id: int | None = None,
    ) -> Product:
        """A new tenant product; ``price`` applies to every category of stores 36 and 41."""
        if type not in PRODUCT_TYPES:
            raise ValueError(f"unknown product type {type!r}")
        with self._lock:
            new_id = product_id or max(self.products) + 1
            if new_id in self.products:
                raise ValueError(f"product {new_id} exists")
            prices = (
                tuple(
                    Price(store_id, category, Decimal(price))
                    for store_id in (36, 41)
                    for category in ("in_house", "pickup", "delivery")
                )
                if price is not None
                else ()
            )
            product = Product(
                id=new_id,
                item_number=item_number or f"N-{new_id}",
                name=name,
                type=type,
                commodity_group=commodity_group,
                updated_at=self._now(),
                vat_in_house=VAT_19 if type in ("sales_item", "topping") else None,
                vat_takeaway=VAT_7 if type in ("sales_item", "topping") else None,
                prices=prices,
                deposit_product_id=deposit_product_id,
                menu_groups=() if type == "menu" else None,
            )
            self.products[new_id] = product
            return product

    def report(self, store_id: int, business_date: date) -> Day:
        """The whole business day behind the report (all orders, whatever the clock says)."""
        return self._generator.day(store_id, business_date)

    def expected_consumption(
        self,
        store_id: int,
        business_date: date,
        *,
        refunds_need_restock: bool = True,
        expand_menus: bool = False,
        include_toppings: bool = True,
    ) -> dict[str, Decimal]:
        """Reference §6.7 applied to the orders the report shows at the sandbox clock.

        Keys are product ids as strings, or ``"name:<name>"`` for lines without a product id;
        toppings added count up and removed count down; zero totals are left out."""
        orders = self.report(store_id, business_date).visible(self._now())
        return consumption(
            orders,
            self._generator.catalogue,
            refunds_need_restock=refunds_need_restock,
            expand_menus=expand_menus,
            include_toppings=include_toppings,
        )

    # ------------------------------------------------------------------ plumbing

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def _edit(self, product_id: int, **changes: Any) -> Product:
        with self._lock:
            product = replace(self.products[product_id], updated_at=self._now(), **changes)
            self.products[product_id] = product
            return product

    def dispatch(self, request: Request) -> Response:
        request_id = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}"
        forced: ApiError | None = getattr(self._forced, "error", None)
        self._forced.error = None
        try:
            if forced is not None:
                raise forced
            response = super().dispatch(request)
        except ApiError as error:
            response = Response.json(
                api.error_json(error.status, error.code, error.message, request_id),
                error.status,
                dict(error.headers),
            )
        except Exception as error:  # a sandbox bug still answers in the API's format
            response = Response.json(
                api.error_json(500, Code.INTERNAL_ERROR, f"sandbox error: {error!r}", request_id),
                500,
            )
        response.headers[api.REQUEST_ID] = request_id
        return response

    def not_found(self, request: Request) -> Response:
        if any(pattern.match(request.path) for _, pattern, _ in self._routes):
            raise ApiError(405, Code.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here")
        raise ApiError(404, Code.NOT_FOUND, f"No route for {request.method} {request.path}.")

    def _endpoint(self, handler: Handler, auth: bool) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            if not auth:
                return handler(request, _NOBODY)
            user, headers = self._authenticate(request)
            response = handler(request, user)
            response.headers.update(headers)
            return response

        return answer

    def _authenticate(self, request: Request) -> tuple[User, dict[str, str]]:
        challenge = {api.WWW_AUTHENTICATE: api.BEARER}
        scheme, _, token = (request.header(api.AUTHORIZATION) or "").partition(" ")
        now = self._now()
        with self._lock:
            session = self._tokens.get(token.strip())
            if scheme.lower() != api.BEARER.lower() or session is None:
                raise ApiError(401, Code.UNAUTHORIZED, headers=challenge)
            if now >= session.expires_at:
                raise ApiError(401, Code.TOKEN_EXPIRED, headers=challenge)
            user = self.users[_key(session.username)]
            if user.disabled:
                raise ApiError(403, Code.ACCOUNT_DISABLED)
            return user, self._count(session, now)

    def _count(self, session: _Session, now: datetime) -> dict[str, str]:
        """Fixed one-minute windows per token (§6.11); called under the lock."""
        limit = self.requests_per_minute
        if limit is None:
            return {}
        window = int(now.timestamp()) // 60
        if window != session.window:
            session.window, session.used = window, 0
        reset = (window + 1) * 60
        headers = {
            api.RATE_LIMIT_LIMIT: str(limit),
            api.RATE_LIMIT_RESET: str(reset),
        }
        if session.used >= limit:
            retry = max(1, math.ceil(reset - now.timestamp()))
            headers |= {api.RATE_LIMIT_REMAINING: "0", api.RETRY_AFTER: str(retry)}
            raise ApiError(429, Code.RATE_LIMITED, headers=headers)
        session.used += 1
        headers[api.RATE_LIMIT_REMAINING] = str(limit - session.used)
        return headers

    # ------------------------------------------------------------------ auth

    def _handle_login(self, request: Request, _: User) -> Response:
        try:
            body = request.json()
        except ValueError as error:
            raise ApiError(400, Code.INVALID_REQUEST, "The body is not valid JSON.") from error
        username = body.get(api.LOGIN_USERNAME) if isinstance(body, dict) else None
        password = body.get(api.LOGIN_PASSWORD) if isinstance(body, dict) else None
        if not isinstance(username, str) or not isinstance(password, str):
            raise ApiError(400, Code.INVALID_REQUEST, "username and password are required.")
        now = self._now()
        key = _key(username)
        with self._lock:
            failures = [t for t in self._failed_logins.get(key, []) if now - t < _MINUTE]
            self._failed_logins[key] = failures
            if len(failures) >= api.LOGIN_FAILURES_PER_MINUTE:
                retry = max(1, math.ceil((failures[0] + _MINUTE - now).total_seconds()))
                raise ApiError(
                    429,
                    Code.RATE_LIMITED,
                    "Too many failed logins for this username.",
                    {api.RETRY_AFTER: str(retry)},
                )
            user = self.users.get(key)
            if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
                failures.append(now)
                raise ApiError(401, Code.INVALID_CREDENTIALS)
            if user.disabled:
                raise ApiError(403, Code.ACCOUNT_DISABLED)
            self._failed_logins.pop(key, None)
            ttl = user.token_ttl or self.token_ttl
            token = f"{api.TOKEN_PREFIX}{secrets.token_hex(10)}"
            self._tokens[token] = _Session(token, user.username, now + ttl)
        body = api.login_json(
            token, int(ttl.total_seconds()), user.id, user.username, user.tenant[0]
        )
        return Response.json(body)

    def _handle_logout(self, request: Request, _: User) -> Response:
        token = (request.header(api.AUTHORIZATION) or "").partition(" ")[2].strip()
        with self._lock:
            self._tokens.pop(token, None)
        return Response(204)

    def _handle_me(self, request: Request, user: User) -> Response:
        store_ids = sorted(s for s in user.store_ids if s in self.stores)
        return Response.json(
            api.me_json(user.id, user.username, user.name, user.user_group, store_ids, user.tenant)
        )

    # ------------------------------------------------------------------ stores

    def _store(self, user: User, raw_id: str | None) -> Store:
        store_id = _int(raw_id, api.STORE_ID)
        store = self.stores.get(store_id)
        if store is None:
            raise ApiError(
                404, Code.STORE_NOT_FOUND, f"Store {store_id} does not exist or is not accessible."
            )
        if store_id not in user.store_ids:
            raise ApiError(403, Code.STORE_FORBIDDEN, f"No access to store {store_id}.")
        return store

    def _handle_list_stores(self, request: Request, user: User) -> Response:
        active = _bool(request.arg(api.ACTIVE), api.ACTIVE)
        stores = [
            store
            for store in self.stores.values()
            if store.id in user.store_ids and (active is None or store.active == active)
        ]
        stores.sort(key=lambda store: (not store.active, store.id))
        return self._paged(request, [api.store_json(s) for s in stores], api.STORES_PAGING)

    def _handle_get_store(self, request: Request, user: User) -> Response:
        return Response.json(api.store_json(self._store(user, request.params["store_id"])))

    # ------------------------------------------------------------------ products

    def _product_store(self, request: Request, user: User) -> int | None:
        raw = request.arg(api.STORE_ID)
        return self._store(user, raw).id if raw not in (None, "") else None

    def _handle_list_products(self, request: Request, user: User) -> Response:
        store_id = self._product_store(request, user)
        types = _types(request.arg(api.TYPE))
        active = _bool(request.arg(api.ACTIVE), api.ACTIVE)
        since = _instant(request.arg(api.UPDATED_SINCE), api.UPDATED_SINCE)
        with self._lock:
            products = sorted(self.products.values(), key=lambda product: product.id)
        selected = []
        for product in products:
            if types is not None and product.type not in types:
                continue
            if since is not None and product.updated_at < since:
                continue
            if active is not None:
                live = product.active and (
                    store_id is None or store_id not in product.inactive_in_stores
                )
                if live != active:
                    continue
            selected.append(product)
        data = [api.product_json(p, user.store_ids, store_id) for p in selected]
        return self._paged(request, data, api.PRODUCTS_PAGING)

    def _handle_get_product(self, request: Request, user: User) -> Response:
        store_id = self._product_store(request, user)
        product_id = int(request.params["product_id"])
        product = self.products.get(product_id)
        if product is None:
            raise ApiError(404, Code.PRODUCT_NOT_FOUND, f"Product {product_id} does not exist.")
        return Response.json(api.product_json(product, user.store_ids, store_id))

    # ------------------------------------------------------------------ daily reports

    def _handle_daily_report(self, request: Request, user: User) -> Response:
        store = self._store(user, request.params["store_id"])
        raw = request.params["business_date"]
        try:
            business_date = parse_date(raw)
        except ValueError as error:
            raise ApiError(400, Code.INVALID_DATE, f"{raw!r} is not a YYYY-MM-DD date.") from error
        now = self._now()
        today = store.business_date(now)
        if business_date > today:
            raise ApiError(422, Code.DATE_IN_FUTURE, f"{business_date} is after today ({today}).")
        oldest = today - timedelta(days=self.retention_days)
        if business_date < oldest:
            raise ApiError(
                422,
                Code.DATE_OUT_OF_RANGE,
                f"{business_date} is older than the retention period (oldest: {oldest}).",
            )
        day = self._generator.day(store.id, business_date)
        closed = day.is_closed(now)
        orders = day.visible(now)
        header = api.report_header_json(
            day, closed, day.closed_at if closed else None, summarize(orders)
        )
        data = [api.order_json(order, store.tz) for order in orders]
        return self._paged(request, data, api.REPORT_PAGING, header)

    # ------------------------------------------------------------------ paging

    def _paged(
        self,
        request: Request,
        items: Sequence[Any],
        paging: api.Paging,
        header: dict[str, Any] | None = None,
    ) -> Response:
        page = _int(request.arg(api.PAGE), api.PAGE, default=1)
        per_page = min(
            _int(request.arg(api.PER_PAGE), api.PER_PAGE, default=paging.default), paging.maximum
        )
        start = (page - 1) * per_page
        chunk = list(items[start : start + per_page])
        next_url = None
        if start + per_page < len(items):
            query = {k: v for k, v in request.query.items() if k not in (api.PAGE, api.PER_PAGE)}
            query |= {api.PAGE: [str(page + 1)], api.PER_PAGE: [str(per_page)]}
            host = request.header("host") or self.url.removeprefix("http://")
            next_url = f"http://{host}{request.path}?{urlencode(query, doseq=True)}"
        body = {**(header or {}), **api.page_json(chunk, page, per_page, len(items), next_url)}
        return Response.json(body)


_MINUTE = timedelta(minutes=1)
_NOBODY = User(id=0, username="", password="", store_ids=())


def _key(username: str) -> str:
    return username.strip().lower()


def _int(raw: str | None, name: str, *, default: int | None = None) -> int:
    if not raw and default is not None:
        return default
    try:
        value = int(raw or "")
    except ValueError as error:
        raise ApiError(400, Code.INVALID_REQUEST, f"{name} must be a positive integer.") from error
    if value < 1:
        raise ApiError(400, Code.INVALID_REQUEST, f"{name} must be a positive integer.")
    return value


def _bool(raw: str | None, name: str) -> bool | None:
    if not raw:
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ApiError(400, Code.INVALID_REQUEST, f"{name} must be true or false.")


def _types(raw: str | None) -> set[str] | None:
    if not raw:
        return None
    types = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(types - set(PRODUCT_TYPES))
    if unknown:
        raise ApiError(
            400,
            Code.INVALID_REQUEST,
            f"Unknown product type {', '.join(unknown)}; known: {', '.join(PRODUCT_TYPES)}.",
        )
    return types


def _instant(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = parse_date_time(raw)
    except ValueError as error:
        raise ApiError(
            400,
            Code.INVALID_REQUEST,
            f"{name} must be an ISO 8601 timestamp with its UTC offset, e.g. "
            "2025-03-14T19:02:11+01:00 (a + percent-encoded as %2B).",
        ) from error
    return value.astimezone(UTC)
