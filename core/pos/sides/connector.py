"""The SIDES connector: sign-in, stores, products and the daily report, with the consumption
rules of reference sides.md §6.7.

Completed orders count, sales and refunds alike; active positions count, voided ones and
their children are skipped; menus and their components are lines of their own; an added
topping counts, a removed one counts back; a refund counts back only when the goods were put
back in stock (``refunds_need_restock``, default on); deposits, discounts, fees, tips and
vouchers are never inventory.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from stockpot.core.db import utcnow
from stockpot.core.models import PosItemKind
from stockpot.core.pos.base import (
    ConnectionCheck,
    FetchedDay,
    LocationRef,
    RemoteItem,
    RemoteLocation,
    decode,
    message_of,
    request,
    send,
)
from stockpot.core.pos.errors import DayNotComplete, PosAuthError, PosUnavailable
from stockpot.core.pos.sides import api
from stockpot.core.pos.sides.api import field
from stockpot.core.transfer.lines import LineKind, RawInput, SaleLine

SERVICE = "SIDES"
PRODUCT_KINDS = {"topping": PosItemKind.TOPPING, "menu": PosItemKind.MENU}
TOKEN_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class SidesCredentials:
    username: str
    password: str


class SidesAuth(httpx.Auth):
    """Signs in lazily, keeps the token until shortly before it expires, and signs in again
    once when the API says the token expired."""

    requires_response_body = True

    def __init__(self, base_url: str, credentials: SidesCredentials) -> None:
        self._login_url = base_url.rstrip("/") + api.LOGIN
        self._credentials = credentials
        self._token: str | None = None
        self._expires_at = utcnow()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._expires_at - TOKEN_MARGIN <= utcnow():
            self._accept((yield self._login_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401 and _error_code(response) in api.TOKEN_ERRORS:
            self._accept((yield self._login_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _login_request(self) -> httpx.Request:
        body = {api.USERNAME: self._credentials.username, api.PASSWORD: self._credentials.password}
        return httpx.Request("POST", self._login_url, json=body)

    def _accept(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise PosAuthError(
                f"SIDES refused the sign-in of '{self._credentials.username}': "
                f"{message_of(response).rstrip('.')}. Check the username and password"
            )
        if response.status_code >= 400:
            raise PosUnavailable(
                f"SIDES sign-in failed (HTTP {response.status_code}: {message_of(response)})"
            )
        body = response.json()
        self._token = str(field(body, api.ACCESS_TOKEN))
        self._expires_at = utcnow() + timedelta(seconds=int(field(body, api.EXPIRES_IN, 3600)))


def _error_code(response: httpx.Response) -> str | None:
    try:
        error = response.json().get(api.ERROR)
    except (ValueError, AttributeError):
        return None
    return error.get(api.ERROR_CODE) if isinstance(error, dict) else None


class SidesConnector:
    def __init__(self, client: httpx.Client, *, refunds_need_restock: bool = True) -> None:
        self._client = client
        self.refunds_need_restock = refunds_need_restock

    def close(self) -> None:
        self._client.close()

    def test(self) -> ConnectionCheck:
        me = send(self._client, "GET", api.ME, service=SERVICE)
        user = field(me, api.USER) or {}
        tenant = field(me, api.TENANT) or {}
        account = f"{field(user, api.USERNAME, '?')} ({field(tenant, api.NAME, '?')})"
        return ConnectionCheck(account=account, locations=len(field(me, api.STORE_IDS) or []))

    def locations(self) -> list[RemoteLocation]:
        return [
            RemoteLocation(
                external_id=str(field(store, api.ID)),
                name=str(field(store, api.NAME)),
                timezone=str(field(store, api.TIMEZONE) or "UTC"),
                business_day_start=_day_start(field(store, api.BUSINESS_DAY_START)),
                active=bool(field(store, api.ACTIVE, True)),
            )
            for store in self._pages(api.STORES, api.STORES_PER_PAGE)
        ]

    def items(
        self, locations: list[LocationRef], since: datetime | None = None
    ) -> Iterator[RemoteItem]:
        params: dict[str, Any] = {api.TYPE: ",".join(api.SOLD_PRODUCT_TYPES)}
        if since is not None:
            params[api.UPDATED_SINCE] = since.isoformat()
        for product in self._pages(api.PRODUCTS, api.PRODUCTS_PER_PAGE, params):
            yield RemoteItem(
                key=str(field(product, api.ID)),
                external_id=field(product, api.ITEM_NUMBER),
                name=str(field(product, api.NAME)),
                kind=PRODUCT_KINDS.get(str(field(product, api.TYPE)), PosItemKind.ITEM),
            )

    def fetch_day(self, location: LocationRef, business_date: date) -> FetchedDay:
        texts: list[str] = []
        orders: list[dict[str, Any]] = []
        pages = self._page_answers(
            api.daily_report(location.external_id, business_date), api.REPORT_PER_PAGE
        )
        for response, body in pages:
            if not field(body, api.IS_CLOSED, False):
                raise DayNotComplete(
                    f"{SERVICE} says {business_date} is not closed yet for '{location.name}'. "
                    "Transfer it once it has closed (automatic transfers wait for it)"
                )
            texts.append(response.text)
            orders.extend(field(body, api.DATA) or [])
        return FetchedDay(
            raw=RawInput(source="sides:daily-report", body="[" + ",".join(texts) + "]"),
            lines=order_lines(orders, refunds_need_restock=self.refunds_need_restock),
        )

    def _pages(
        self, path: str, per_page: int, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        for _, body in self._page_answers(path, per_page, params):
            yield from field(body, api.DATA) or []

    def _page_answers(
        self, path: str, per_page: int, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[httpx.Response, dict[str, Any]]]:
        """Each page of a listing, as received and decoded, until the last."""
        page = 1
        while True:
            response = request(
                self._client,
                "GET",
                path,
                service=SERVICE,
                params={**(params or {}), api.PAGE: page, api.PER_PAGE: per_page},
            )
            body = decode(response, service=SERVICE)
            yield response, body
            if not _has_next(body, page):
                return
            page += 1


def _has_next(body: dict[str, Any], page: int) -> bool:
    meta = field(body, api.META) or {}
    total = field(meta, api.TOTAL_PAGES)
    if total is not None:
        return page < int(total)
    return bool((field(body, api.LINKS) or {}).get(api.NEXT))


def _day_start(text: Any) -> time | None:
    try:
        return time.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def order_lines(orders: list[dict[str, Any]], *, refunds_need_restock: bool) -> list[SaleLine]:
    lines: list[SaleLine] = []
    for order in orders:
        sale_id = str(field(order, api.ID))
        cancelled = field(order, api.STATUS) == api.ORDER_CANCELLED
        refund = field(order, api.ORDER_TYPE) == api.REFUND
        positions = field(order, api.BILL_POSITIONS) or []
        restocked = {str(field(p, api.ID)): field(p, api.RESTOCK) is True for p in positions}
        counts_back = refund and refunds_need_restock
        lines.extend(
            _position_line(sale_id, position, cancelled, counts_back, restocked)
            for position in positions
        )
    return lines


def _position_line(
    sale_id: str,
    position: dict[str, Any],
    cancelled: bool,
    needs_restock: bool,
    restocked: dict[str, bool],
) -> SaleLine:
    """One bill position as a line. ``needs_restock``: this is a refund that counts back only
    what was put back in stock; a child follows its parent unless it says otherwise."""
    kind_text = str(field(position, api.POSITION_TYPE))
    parent = field(position, api.PARENT_ID)
    parent_id = str(parent) if parent is not None else None
    quantity = Decimal(str(field(position, api.QUANTITY) or 0))
    kind = LineKind.ITEM
    skip = None
    if kind_text == api.MENU_COMPONENT:
        kind = LineKind.MENU_COMPONENT
    elif kind_text in (api.TOPPING_ADDED, api.TOPPING_REMOVED):
        kind = LineKind.TOPPING
        if kind_text == api.TOPPING_REMOVED:
            quantity = -quantity
    elif kind_text in api.NON_ITEM_POSITIONS:
        kind = LineKind.NON_ITEM
    elif kind_text != api.ITEM:
        skip = f"position_type_{kind_text}"
    line_id = str(field(position, api.ID))
    if needs_restock and skip is None and kind is not LineKind.NON_ITEM:
        own = field(position, api.RESTOCK)
        put_back = own is True if own is not None else restocked.get(parent_id or "", False)
        if not put_back:
            skip = "refund_not_restocked"
    product = field(position, api.PRODUCT_ID)
    return SaleLine(
        sale_id=sale_id,
        line_id=line_id,
        pos_code=str(product) if product is not None else None,
        name=str(field(position, api.NAME) or field(position, api.PORTAL_ITEM_NAME) or "?"),
        quantity=quantity,
        parent_line_id=parent_id,
        voided=field(position, api.STATUS) == api.POSITION_VOIDED,
        cancelled=cancelled,
        kind=kind,
        skip_reason=skip,
    )
