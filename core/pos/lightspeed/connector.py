"""The Lightspeed connector: businesses → locations, items, and one business day of sales.

Sales semantics (reference §6.5): every sale is stored raw; cancelled accounts are skipped;
only SALE and REFUND accounts count, summed signed; no line is ever dropped (a void is a
negative line that nets against its original); modifiers and sub-items are lines of their own
pointing at their parent; accounts are de-duplicated by ``accountFiscId``, lines by their
``id`` (``core.pos.paging.Seen``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec

from stockpot.core.business_day import day_start_at, known_zone
from stockpot.core.models import PosItemKind
from stockpot.core.pos.base import (
    ConnectionCheck,
    FetchedDay,
    LocationRef,
    RemoteItem,
    RemoteLocation,
    decode,
    request,
    send,
)
from stockpot.core.pos.errors import DayNotComplete, PosRequestRefused, PosUnavailable
from stockpot.core.pos.pacing import RatePolicy
from stockpot.core.pos.paging import Pages, Seen
from stockpot.core.transfer.lines import LineKind, RawInput, SaleLine, item_key

SERVICE = "Lightspeed"
RATE_POLICY = RatePolicy(per_second=5)
"""Lightspeed publishes no number; its guidance is sequential requests per token with a
client-side cap of about 5 a second, and 429 with ``Retry-After`` beyond (reference §7)."""
ITEMS_PAGE = 100
BUSINESSES_PAGE = 1000
SALES_INCLUDE = "payments,staff,table,revenue_center,account_profile"
REVENUE_TYPES = frozenset({"SALE", "REFUND"})
ITEM_KINDS = {
    "SUB_ITEM": PosItemKind.MODIFIER,
    "GROUP": PosItemKind.MENU,
    "SEQUENCE": PosItemKind.MENU,
}


class LightspeedConnector:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def close(self) -> None:
        self._client.close()

    def test(self) -> ConnectionCheck:
        """Who the tokens read for: the businesses (``tenant``: their ids, comma-separated,
        and names) and every location reachable (``location_ids``)."""
        businesses = self._businesses()
        names = ", ".join(_business_shown(b) for b in businesses) or "no business"
        reachable = self._locations_of(businesses)
        ids = sorted({str(b["businessId"]) for b in businesses if b.get("businessId") is not None})
        return ConnectionCheck(
            account=names,
            locations=len(reachable),
            location_ids=frozenset(location.external_id for location in reachable),
            tenant=(",".join(ids), names) if ids else None,
        )

    def locations(self) -> list[RemoteLocation]:
        return [
            RemoteLocation(
                external_id=loc.external_id,
                name=loc.name,
                timezone=loc.timezone,
                business_day_start=self._day_start(loc),
            )
            for loc in self._locations_of(self._businesses())
        ]

    def items(
        self, locations: list[LocationRef], since: datetime | None = None
    ) -> Iterator[RemoteItem]:
        """Every item of every location (Lightspeed cannot list changes only: ``since`` is
        ignored)."""
        seen: set[str] = set()
        for location in locations:
            pages = Pages(SERVICE)
            offset = 0
            while True:
                body = send(
                    self._client,
                    "GET",
                    "/items/v1/items",
                    service=SERVICE,
                    params={
                        "businessLocationId": location.external_id,
                        "offset": offset,
                        "amount": ITEMS_PAGE,
                    },
                )
                page = _item_list(body)
                pages.check("GET /items/v1/items", page)
                for item in page:
                    remote = _remote_item(item)
                    if remote.key not in seen:
                        seen.add(remote.key)
                        yield remote
                if len(page) < ITEMS_PAGE:
                    break
                offset += ITEMS_PAGE

    def fetch_day(self, location: LocationRef, business_date: date) -> FetchedDay:
        response = request(
            self._client,
            "GET",
            f"/f/v2/business-location/{location.external_id}/sales-daily",
            service=SERVICE,
            params={"date": business_date.isoformat(), "include": SALES_INCLUDE},
        )
        day = _sales_day(response)
        if day.sales is None:
            raise PosUnavailable(f"{SERVICE} answered the day's sales without a 'sales' list")
        if not day.data_complete:
            raise DayNotComplete(
                f"{SERVICE} says {business_date} is not complete yet for '{location.name}': the "
                "business day has not closed. Transfer it once it has (automatic transfers wait "
                "for it)"
            )
        return FetchedDay(
            raw=RawInput(source="lightspeed:sales-daily", body=response.text),
            lines=sales_lines(day.sales),
            business_day_start=_day_start_of(
                day.next_start_of_day_as_iso8601, location.timezone, location.business_day_start
            ),
        )

    def _businesses(self) -> list[dict[str, Any]]:
        businesses: list[dict[str, Any]] = []
        pages = Pages(SERVICE)
        page = 0
        while True:
            body = send(
                self._client,
                "GET",
                "/f/data/businesses",
                service=SERVICE,
                params={"page": page, "size": BUSINESSES_PAGE},
            )
            batch = (body.get("_embedded") or {}).get("businessList") or []
            pages.check("GET /f/data/businesses", batch)
            businesses.extend(batch)
            if len(batch) < BUSINESSES_PAGE:
                return businesses
            page += 1

    @staticmethod
    def _locations_of(businesses: list[dict[str, Any]]) -> list[RemoteLocation]:
        locations = []
        for business in businesses:
            for location in business.get("businessLocations") or []:
                external_id = location.get("blID", location.get("blId"))
                if external_id is None:
                    continue
                locations.append(
                    RemoteLocation(
                        external_id=str(external_id),
                        name=str(location.get("blName") or external_id),
                        timezone=str(location.get("timezone") or "UTC"),
                        business_day_start=None,
                    )
                )
        return locations

    def _day_start(self, location: RemoteLocation) -> time | None:
        """Lightspeed tells a location's day start only with its sales: ask for today's. A
        location that refuses (not operational yet) learns it from a transfer. Today's next
        start just after a spring-forward gap (synced on the eve: 03:30 summer time stands for
        a 02:30 start as for a 03:30 one) is asked of the day before, whose next start is
        today's: a first sync that evening left the start unset (00:00) until a transfer."""
        today = datetime.now(UTC).date()
        for day in (today, today - timedelta(days=1)):
            try:
                response = request(
                    self._client,
                    "GET",
                    f"/f/v2/business-location/{location.external_id}/sales-daily",
                    service=SERVICE,
                    params={"date": day.isoformat()},
                )
            except PosRequestRefused:
                return None
            start: _WireDayStart = decode(response, service=SERVICE, shape=_DAY_START_DECODER)
            found = _day_start_of(start.next_start_of_day_as_iso8601, location.timezone)
            if found is not None:
                return found
        return None


def _business_shown(business: dict[str, Any]) -> str:
    """A business as its owner knows it, with its id (two businesses may share a name)."""
    name = business.get("businessName") or "?"
    known = business.get("businessId")
    return f"{name} (business {known})" if known is not None else str(name)


def _item_list(body: Any) -> list[dict[str, Any]]:
    """The items of a page: the API documents one object, real servers send a list."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("items", "data"):
            if isinstance(body.get(key), list):
                return body[key]
        if "id" in body:
            return [body]
    return []


def _remote_item(item: dict[str, Any]) -> RemoteItem:
    sku = (item.get("sku") or "").strip() or None
    name = str(item.get("name") or sku or item.get("id"))
    return RemoteItem(
        key=item_key(sku, name),
        external_id=sku,
        name=name,
        kind=ITEM_KINDS.get(str(item.get("itemType")), PosItemKind.ITEM),
    )


def _day_start_of(text: Any, timezone: str, known: time | None = None) -> time | None:
    """The day start ``nextStartOfDayAsIso8601`` stands for on the location's clock (it may
    come in UTC, ``Z``, and a start inside a spring-forward gap comes as the instant after
    it: ``business_day.day_start_at``)."""
    if not isinstance(text, str):
        return None
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None or not known_zone(timezone):
        return instant.time()
    return day_start_at(instant, ZoneInfo(timezone), known)


def _quantity(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(1)
    except InvalidOperation:
        raise PosUnavailable(f"{SERVICE} sent a sales line with quantity {value!r}") from None


class _WireLine(msgspec.Struct, rename="camel"):
    """A sales line of ``sales-daily``: the fields Stockpot reads, nothing else. Each is any
    JSON type, checked where it is read, but ``sku``: a string (the API's type), which the
    line's code is stripped as."""

    id: Any = None
    sku: str | None = None
    parent_line_id: Any = None
    name_override: Any = None
    name: Any = None
    quantity: Any = None


class _WireSale(msgspec.Struct, rename="camel"):
    account_fisc_id: Any = None
    account_reference: Any = None
    type: Any = None
    cancelled: Any = None
    sales_lines: list[_WireLine] | None = None


class _WireDay(msgspec.Struct, rename="camel"):
    sales: list[_WireSale] | None = None
    data_complete: Any = False
    next_start_of_day_as_iso8601: Any = None


class _WireDayStart(msgspec.Struct, rename="camel"):
    """All a sync reads of today's ``sales-daily`` answer (the sales are not looked at)."""

    next_start_of_day_as_iso8601: Any = None


_DAY_DECODER = msgspec.json.Decoder(_WireDay)
_DAY_START_DECODER = msgspec.json.Decoder(_WireDayStart)


def _sales_day(response: httpx.Response) -> _WireDay:
    """A ``sales-daily`` answer, reading only the fields above: a busy day is megabytes of
    JSON (payments, staff, tables, taxes for every line), and building all of it as Python
    objects was most of a migrated day's CPU (100 ms of a 6 MB day, against 10 ms)."""
    day: _WireDay = decode(response, service=SERVICE, shape=_DAY_DECODER)
    return day


def sales_lines(sales: list[_WireSale]) -> list[SaleLine]:
    lines: list[SaleLine] = []
    accounts, line_ids = Seen(), Seen()
    for sale in sales:
        sale_id = str(sale.account_fisc_id or sale.account_reference or "")
        if not sale_id or not accounts.first(sale_id):
            continue
        sale_type = str(sale.type or "SALE").upper()
        skip = None if sale_type in REVENUE_TYPES else f"sale_type_{sale_type.lower()}"
        for index, line in enumerate(sale.sales_lines or []):
            # A line moved to another account while the day was read shows in both.
            if not line_ids.first(str(line.id or "")):
                continue
            sku = (line.sku or "").strip() or None
            parent = line.parent_line_id or None
            lines.append(
                SaleLine(
                    sale_id=sale_id,
                    line_id=str(line.id or f"#{index}"),
                    pos_code=sku,
                    name=str(line.name_override or line.name or sku or "?"),
                    quantity=_quantity(line.quantity),
                    parent_line_id=str(parent) if parent else None,
                    cancelled=bool(sale.cancelled),
                    kind=LineKind.MODIFIER if parent else LineKind.ITEM,
                    skip_reason=skip,
                )
            )
    return lines
