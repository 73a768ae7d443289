"""The SIDES connector: sign-in, stores, products and the daily report, with the consumption
rules of reference sides.md §6.7.

Completed orders count, sales and refunds alike; active positions count, voided ones and
their children are skipped; menus and their components are lines of their own; an added
topping counts, a removed one counts back; a refund counts back only when the goods were put
back in stock (``refunds_need_restock``, default on); deposits, discounts, fees, tips and
vouchers are never inventory.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx

from stockpot.core.db import utcnow
from stockpot.core.models import PosItemKind
from stockpot.core.pos.base import (
    ConnectionCheck,
    FetchedDay,
    LocationRef,
    RemoteItem,
    RemoteLocation,
    WrongShape,
    decode,
    message_of,
    request,
    unreadable,
)
from stockpot.core.pos.errors import DayNotComplete, PosAuthError, PosUnavailable
from stockpot.core.pos.paging import Pages, Seen
from stockpot.core.pos.sides import api, wire
from stockpot.core.pos.sides.api import field
from stockpot.core.transfer.lines import LineKind, RawInput, SaleLine

SERVICE = "SIDES"
PRODUCT_KINDS = {api.TOPPING: PosItemKind.TOPPING, api.MENU: PosItemKind.MENU}
TOKEN_MARGIN = timedelta(seconds=30)
T = TypeVar("T")


@dataclass(frozen=True)
class SidesCredentials:
    username: str
    password: str


class SidesAuth(httpx.Auth):
    """Signs in lazily, keeps the token until shortly before it expires, and signs in again
    once when the API says the token expired. SIDES refusing the user, at sign-in or later
    (locked while signed in), is one ``PosAuthError`` said one way (``REFUSALS``)."""

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
            response = yield request
        if response.status_code == 403 and _refusal_code(response) == api.ACCOUNT_DISABLED:
            raise self._refused(response)

    def _login_request(self) -> httpx.Request:
        body = {api.USERNAME: self._credentials.username, api.PASSWORD: self._credentials.password}
        return httpx.Request("POST", self._login_url, json=body)

    def _accept(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise self._refused(response)
        if response.status_code >= 400:
            raise PosUnavailable(
                f"SIDES sign-in failed (HTTP {response.status_code}: {message_of(response)})"
            )
        self._token, expires_in = _read(response, _signed_in)
        self._expires_at = utcnow() + timedelta(seconds=expires_in)

    def _refused(self, response: httpx.Response) -> PosAuthError:
        user = f"'{self._credentials.username}'"
        if (code := _refusal_code(response)) in REFUSALS:
            return PosAuthError(REFUSALS[code].format(user=user))
        return PosAuthError(
            f"SIDES refused the sign-in of {user} ({message_of(response).rstrip('.')}): "
            "check the username and password"
        )


REFUSALS = {
    api.INVALID_CREDENTIALS: "SIDES knows no user {user} with this password: check the username "
    "and password",
    api.ACCOUNT_DISABLED: "SIDES has locked or deactivated the user {user}: ask your SIDES "
    "admin to unlock it, or sign in as another user",
}
"""A sign-in refusal in one sentence ("refused: Username or password is wrong. Check the
username and password" said it twice); SIDES's own words only for a code not known here."""


def _refusal_code(response: httpx.Response) -> str | None:
    """The code of a refusal, in §6.10's shape or as a bare string; any other answer to a
    sign-in is still a refusal, told in SIDES's words."""
    try:
        error = response.json().get(api.ERROR)
    except (ValueError, AttributeError):
        return None
    code = error.get(api.ERROR_CODE) if isinstance(error, dict) else error
    return code if isinstance(code, str) else None


def _signed_in(body: Any) -> tuple[str, int]:
    answer = wire.obj(body)
    expires_in = wire.int_field(answer, api.EXPIRES_IN)
    return wire.text_field(answer, api.ACCESS_TOKEN), 3600 if expires_in is None else expires_in


def _error_code(response: httpx.Response) -> str | None:
    """The code of an error answer; ``None`` when it is not JSON (a proxy's page, say)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return _shaped(response, body, _code_of)


def _code_of(body: Any) -> str | None:
    return wire.within(
        wire.obj(body), api.ERROR, lambda error: wire.optional_text_field(error, api.ERROR_CODE)
    )


def _read(response: httpx.Response, read: Callable[[Any], T], *, page: int = 1) -> T:
    """What ``read`` makes of a JSON answer; an answer it cannot read is refused as
    transient, naming the field (and the page, after the first)."""
    return _shaped(response, decode(response, service=SERVICE), read, page=page)


def _shaped(response: httpx.Response, body: Any, read: Callable[[Any], T], *, page: int = 1) -> T:
    try:
        return read(body)
    except WrongShape as error:
        detail = f"{error} on page {page}" if page > 1 else error
        raise unreadable(response, SERVICE, detail) from None


class SidesConnector:
    def __init__(self, client: httpx.Client, *, refunds_need_restock: bool = True) -> None:
        self._client = client
        self.refunds_need_restock = refunds_need_restock

    def close(self) -> None:
        self._client.close()

    def test(self) -> ConnectionCheck:
        return _read(request(self._client, "GET", api.ME, service=SERVICE), _connection_check)

    def locations(self) -> list[RemoteLocation]:
        return list(self._listing(api.STORES, api.STORES_PER_PAGE, _remote_location))

    def items(
        self, locations: list[LocationRef], since: datetime | None = None
    ) -> Iterator[RemoteItem]:
        params: dict[str, Any] = {api.TYPE: ",".join(api.SOLD_PRODUCT_TYPES)}
        if since is not None:
            params[api.UPDATED_SINCE] = since.isoformat()
        yield from self._listing(api.PRODUCTS, api.PRODUCTS_PER_PAGE, _remote_item, params)

    def fetch_day(self, location: LocationRef, business_date: date) -> FetchedDay:
        texts: list[str] = []
        lines: list[SaleLine] = []
        pages = self._page_answers(
            api.daily_report(location.external_id, business_date),
            api.REPORT_PER_PAGE,
            partial(_report_page, refunds_need_restock=self.refunds_need_restock),
        )
        orders = Seen()
        for response, (closed, page_orders) in pages:
            if not closed:
                raise DayNotComplete(
                    f"{SERVICE} says {business_date} is not closed yet for '{location.name}'. "
                    "Transfer it once it has closed (automatic transfers wait for it)"
                )
            texts.append(response.text)
            for order_id, order_lines in page_orders:
                # Pages are separate requests: an order that moved to the next page between
                # two of them comes back on both, and counts once.
                if orders.first(order_id):
                    lines.extend(order_lines)
        return FetchedDay(
            raw=RawInput(source="sides:daily-report", body="[" + ",".join(texts) + "]"),
            lines=lines,
        )

    def _listing(
        self,
        path: str,
        per_page: int,
        make: Callable[[dict[str, Any]], T],
        params: dict[str, Any] | None = None,
    ) -> Iterator[T]:
        """``make`` of every object a listing's pages hold."""
        for _, made in self._page_answers(
            path, per_page, lambda body: wire.each(body, api.DATA, make), params
        ):
            yield from made

    def _page_answers(
        self,
        path: str,
        per_page: int,
        read: Callable[[dict[str, Any]], T],
        params: dict[str, Any] | None = None,
    ) -> Iterator[tuple[httpx.Response, T]]:
        """Each page of a listing, as received and as ``read`` makes it out, until the last
        (``Pages``: pages that repeat or never end are refused)."""
        pages = Pages(SERVICE)
        page = 1
        while True:
            response = request(
                self._client,
                "GET",
                path,
                service=SERVICE,
                params={**(params or {}), api.PAGE: page, api.PER_PAGE: per_page},
            )
            made, more = _read(response, partial(_page, read, page), page=page)
            pages.check(f"GET {response.request.url.path}", made)
            yield response, made
            if not more:
                return
            page += 1


def _page(read: Callable[[dict[str, Any]], T], page: int, body: Any) -> tuple[T, bool]:
    """What ``read`` makes of a page, and whether another follows."""
    answer = wire.obj(body)
    return read(answer), _has_next(answer, page)


def _has_next(body: dict[str, Any], page: int) -> bool:
    total = wire.within(body, api.META, lambda meta: wire.int_field(meta, api.TOTAL_PAGES))
    if total is not None:
        return page < total
    return bool(wire.within(body, api.LINKS, lambda links: field(links, api.NEXT)))


def _connection_check(body: Any) -> ConnectionCheck:
    me = wire.obj(body)
    user = wire.within(me, api.USER, lambda user: field(user, api.USERNAME, "?"))
    tenant, key = wire.within(
        me, api.TENANT, lambda tenant: (field(tenant, api.NAME, "?"), field(tenant, api.KEY))
    )
    stores = wire.list_field(me, api.STORE_IDS)
    return ConnectionCheck(
        account=f"{user} ({tenant})",
        locations=len(stores),
        location_ids=frozenset(str(store) for store in stores),
        tenant=None if key is None else (str(key), str(tenant)),
    )


def _remote_location(store: dict[str, Any]) -> RemoteLocation:
    return RemoteLocation(
        external_id=str(field(store, api.ID)),
        name=str(field(store, api.NAME)),
        timezone=str(field(store, api.TIMEZONE) or "UTC"),
        business_day_start=_day_start(field(store, api.BUSINESS_DAY_START)),
        active=bool(field(store, api.ACTIVE, True)),
    )


def _remote_item(product: dict[str, Any]) -> RemoteItem:
    return RemoteItem(
        key=str(field(product, api.ID)),
        external_id=wire.optional_text_field(product, api.ITEM_NUMBER, numbers=True),
        name=str(field(product, api.NAME)),
        kind=PRODUCT_KINDS.get(str(field(product, api.TYPE)), PosItemKind.ITEM),
    )


def _day_start(text: Any) -> time | None:
    try:
        return time.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _report_page(
    body: dict[str, Any], *, refunds_need_restock: bool
) -> tuple[bool, list[tuple[str, list[SaleLine]]]]:
    """Whether a daily report page says the day is closed, and then its orders: each
    order's id and lines."""
    if not field(body, api.IS_CLOSED, False):
        return False, []
    read = partial(_order_lines, refunds_need_restock=refunds_need_restock)
    return True, wire.each(body, api.DATA, read)


def _order_lines(
    order: dict[str, Any], *, refunds_need_restock: bool
) -> tuple[str, list[SaleLine]]:
    order_id = str(field(order, api.ID))
    cancelled = field(order, api.STATUS) == api.ORDER_CANCELLED
    counts_back = refunds_need_restock and field(order, api.ORDER_TYPE) == api.REFUND
    restocked = _restocked(order) if counts_back else {}
    line = partial(_position_line, order_id, cancelled, counts_back, restocked)
    return order_id, wire.each(order, api.BILL_POSITIONS, line)


def _restocked(order: dict[str, Any]) -> dict[str, bool]:
    """Which positions of a refund were put back in stock, by id (their children follow)."""
    return {
        str(field(p, api.ID)): field(p, api.RESTOCK) is True
        for p in wire.each(order, api.BILL_POSITIONS, lambda position: position)
    }


def _position_line(
    sale_id: str,
    cancelled: bool,
    needs_restock: bool,
    restocked: dict[str, bool],
    position: dict[str, Any],
) -> SaleLine:
    """One bill position as a line. ``needs_restock``: this is a refund that counts back only
    what was put back in stock; a child follows its parent unless it says otherwise."""
    kind_text = str(field(position, api.POSITION_TYPE))
    parent = field(position, api.PARENT_ID)
    parent_id = str(parent) if parent is not None else None
    quantity = wire.decimal_field(position, api.QUANTITY)
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
