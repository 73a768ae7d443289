"""The ASSUMED SIDES API (reference §6), in one place: the route table, query parameters,
headers, error codes, paging limits and the JSON shape of every resource.

No public SIDES API documentation exists, so every path and key below is a proposal. When the
real API is known, this is the module to correct; ``server.py`` and ``data.py`` hold no path
or key names of their own.

Conventions (§6.1): paths under ``/api/v1``, snake_case keys, money as 2-dp strings,
quantities as JSON numbers, timestamps ISO 8601 with the store's UTC offset, dates
``YYYY-MM-DD``. Every key is always present, ``null`` where it does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from stockpot.sandbox.sides.data import (
    TENANT_KEY,
    TENANT_NAME,
    TENANT_TIMEZONE,
    Day,
    Order,
    Payment,
    Position,
    Product,
    Store,
    Summary,
)

# --------------------------------------------------------------------------- routes

BASE = "/api/v1"
LOGIN = f"{BASE}/auth/login"
LOGOUT = f"{BASE}/auth/logout"
ME = f"{BASE}/me"
STORES = f"{BASE}/stores"
STORE = rf"{BASE}/stores/(?P<store_id>\d+)"
PRODUCTS = f"{BASE}/products"
PRODUCT = rf"{BASE}/products/(?P<product_id>\d+)"
DAILY_REPORT = rf"{BASE}/stores/(?P<store_id>\d+)/daily-reports/(?P<business_date>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    """A regular expression over the path; named groups are the path parameters."""
    handler: str
    """Name of the ``SidesSandbox`` method that answers."""
    auth: bool = True
    """Needs ``Authorization: Bearer <token>``."""


ROUTES: tuple[Route, ...] = (
    Route("POST", LOGIN, "login", auth=False),
    Route("POST", LOGOUT, "logout"),
    Route("GET", ME, "me"),
    Route("GET", STORES, "list_stores"),
    Route("GET", STORE, "get_store"),
    Route("GET", PRODUCTS, "list_products"),
    Route("GET", PRODUCT, "get_product"),
    Route("GET", DAILY_REPORT, "daily_report"),
)

# --------------------------------------------------------------------------- parameters

PAGE = "page"
PER_PAGE = "per_page"
ACTIVE = "active"
TYPE = "type"
STORE_ID = "store_id"
UPDATED_SINCE = "updated_since"
LOGIN_USERNAME = "username"
LOGIN_PASSWORD = "password"


@dataclass(frozen=True)
class Paging:
    default: int
    maximum: int
    """A larger ``per_page`` is clamped silently (§6.9)."""


STORES_PAGING = Paging(default=50, maximum=200)
PRODUCTS_PAGING = Paging(default=100, maximum=500)
REPORT_PAGING = Paging(default=100, maximum=500)

# --------------------------------------------------------------------------- headers

AUTHORIZATION = "Authorization"
BEARER = "Bearer"
REQUEST_ID = "X-Request-Id"
RETRY_AFTER = "Retry-After"
RATE_LIMIT_LIMIT = "X-RateLimit-Limit"
RATE_LIMIT_REMAINING = "X-RateLimit-Remaining"
RATE_LIMIT_RESET = "X-RateLimit-Reset"
WWW_AUTHENTICATE = "WWW-Authenticate"

# --------------------------------------------------------------------------- limits (§6.11)

REQUESTS_PER_MINUTE = 120
"""Per token; the sandbox enforces it only when asked to (``requests_per_minute``)."""
LOGIN_FAILURES_PER_MINUTE = 10
"""Per username; the next attempt within the minute gets 429 ``rate_limited``."""
TOKEN_PREFIX = "sdt_"

# --------------------------------------------------------------------------- errors (§6.10)


class Code(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INVALID_DATE = "invalid_date"
    INVALID_CREDENTIALS = "invalid_credentials"
    UNAUTHORIZED = "unauthorized"
    TOKEN_EXPIRED = "token_expired"
    ACCOUNT_DISABLED = "account_disabled"
    STORE_FORBIDDEN = "store_forbidden"
    STORE_NOT_FOUND = "store_not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    DATE_IN_FUTURE = "date_in_future"
    DATE_OUT_OF_RANGE = "date_out_of_range"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    MAINTENANCE = "maintenance"


DEFAULT_MESSAGES: dict[str, str] = {
    Code.INVALID_REQUEST: "The request is malformed.",
    Code.INVALID_DATE: "The business date must be a valid YYYY-MM-DD date.",
    Code.INVALID_CREDENTIALS: "Username or password is wrong.",
    Code.UNAUTHORIZED: "A valid bearer token is required.",
    Code.TOKEN_EXPIRED: "The access token has expired; log in again.",
    Code.ACCOUNT_DISABLED: "The account is disabled.",
    Code.STORE_FORBIDDEN: "The user has no access to this store.",
    Code.STORE_NOT_FOUND: "The store does not exist or is not accessible.",
    Code.PRODUCT_NOT_FOUND: "The product does not exist.",
    Code.NOT_FOUND: "Not found.",
    Code.METHOD_NOT_ALLOWED: "Method not allowed.",
    Code.DATE_IN_FUTURE: "The business date lies in the future.",
    Code.DATE_OUT_OF_RANGE: "The business date is older than the retention period.",
    Code.RATE_LIMITED: "Too many requests; retry later.",
    Code.INTERNAL_ERROR: "Internal server error.",
    Code.UPSTREAM_UNAVAILABLE: "An upstream service is unavailable.",
    Code.MAINTENANCE: "The API is down for maintenance.",
}


def error_json(status: int, code: str, message: str, request_id: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "request_id": request_id}}


# --------------------------------------------------------------------------- values


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def quantity(value: Decimal) -> int | float:
    """A JSON number: an integer when whole, else a (binary-exact) fraction like 0.5."""
    return int(value) if value == value.to_integral_value() else float(value)


def timestamp(instant: datetime | None, timezone: ZoneInfo) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(timezone).isoformat(timespec="seconds")


def _money_or_null(value: Decimal | None) -> str | None:
    return money(value) if value is not None else None


# --------------------------------------------------------------------------- envelopes


def page_json(
    data: list[Any], page: int, per_page: int, total: int, next_url: str | None
) -> dict[str, Any]:
    return {
        "data": data,
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "total_pages": -(-total // per_page),
        },
        "links": {"next": next_url},
    }


# --------------------------------------------------------------------------- auth (§6.2)


TENANT = (TENANT_KEY, TENANT_NAME)
"""Every user's tenant (key, name) unless a test gives one another."""


def login_json(
    token: str, expires_in: int, user_id: int, username: str, tenant_key: str = TENANT_KEY
) -> dict[str, Any]:
    return {
        "access_token": token,
        "token_type": BEARER,
        "expires_in": expires_in,
        "user": {"id": user_id, "username": username, "tenant_key": tenant_key},
    }


def me_json(
    user_id: int,
    username: str,
    name: str,
    user_group: str,
    store_ids: Sequence[int],
    tenant: tuple[str, str] = TENANT,
) -> dict[str, Any]:
    return {
        "user": {"id": user_id, "username": username, "name": name, "user_group": user_group},
        "tenant": {"key": tenant[0], "name": tenant[1]},
        "store_ids": list(store_ids),
    }


# --------------------------------------------------------------------------- stores (§6.4)


def store_json(store: Store) -> dict[str, Any]:
    partner = store.franchise_partner
    return {
        "id": store.id,
        "number": store.number,
        "name": store.name,
        "active": store.active,
        "franchise_partner": {"id": partner[0], "name": partner[1]} if partner else None,
        "address": {
            "street": store.street,
            "zip": store.zip,
            "city": store.city,
            "country": store.country,
        },
        "timezone": store.timezone,
        "currency": store.currency,
        "business_day_start": store.day_start.strftime("%H:%M"),
        "channels": dict(store.channels),
        "updated_at": timestamp(store.updated_at, store.tz),
    }


# --------------------------------------------------------------------------- products (§6.5)


def product_json(
    product: Product, visible_store_ids: Iterable[int], store_id: int | None
) -> dict[str, Any]:
    """``store_id`` limits prices to one store and answers ``active_in_store`` for it;
    without it, prices cover every store the user can see and ``active_in_store`` is null."""
    stores = {store_id} if store_id is not None else set(visible_store_ids)
    group = product.commodity_group
    return {
        "id": product.id,
        "item_number": product.item_number,
        "name": product.name,
        "short_name": product.short_name or product.name,
        "kitchen_name": product.kitchen_name or product.name,
        "type": product.type,
        "active": product.active,
        "active_in_store": (
            product.active and store_id not in product.inactive_in_stores
            if store_id is not None
            else None
        ),
        "discountable": product.discountable,
        "commodity_group": {"id": group[0], "name": group[1]} if group else None,
        "vat": {
            "in_house": _money_or_null(product.vat_in_house),
            "takeaway": _money_or_null(product.vat_takeaway),
        },
        "prices": [
            {
                "store_id": price.store_id,
                "price_category": price.category,
                "price": money(price.price),
            }
            for price in product.prices
            if price.store_id in stores
        ],
        "recipe_toppings": [
            {"product_id": topping_id, "quantity": quantity(amount)}
            for topping_id, amount in product.recipe_toppings
        ],
        "topping_group_ids": list(product.topping_group_ids),
        "deposit_product_id": product.deposit_product_id,
        "menu_groups": (
            [
                {
                    "id": group.id,
                    "name": group.name,
                    "min": group.min,
                    "max": group.max,
                    "product_ids": list(group.product_ids),
                }
                for group in product.menu_groups
            ]
            if product.menu_groups is not None
            else None
        ),
        "updated_at": timestamp(product.updated_at, ZoneInfo(TENANT_TIMEZONE)),
    }


# --------------------------------------------------------------------------- reports (§6.6)


def position_json(position: Position, timezone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": position.id,
        "line": position.line,
        "parent_id": position.parent_id,
        "position_type": position.position_type,
        "product_id": position.product_id,
        "item_number": position.item_number,
        "name": position.name,
        "portal_item_name": position.portal_item_name,
        "commodity_group_id": position.commodity_group_id,
        "menu_group_id": position.menu_group_id,
        "quantity": quantity(position.quantity),
        "unit_quantity": (
            quantity(position.unit_quantity) if position.unit_quantity is not None else None
        ),
        "unit_price": money(position.unit_price),
        "total": money(position.total),
        "vat_rate": _money_or_null(position.vat_rate),
        "vat_split": (
            [{"vat_rate": money(rate), "gross": money(gross)} for rate, gross in position.vat_split]
            if position.vat_split is not None
            else None
        ),
        "in_house": position.in_house,
        "status": position.status,
        "voided_at": timestamp(position.voided_at, timezone),
        "void_reason": position.void_reason,
        "restock": position.restock,
        "voucher_code": position.voucher_code,
    }


def payment_json(payment: Payment) -> dict[str, Any]:
    return {"method": payment.method, "provider": payment.provider, "amount": money(payment.amount)}


def order_json(order: Order, timezone: ZoneInfo) -> dict[str, Any]:
    employee = order.employee
    return {
        "id": order.id,
        "number": order.number,
        "store_id": order.store_id,
        "business_date": order.business_date.isoformat(),
        "order_type": order.order_type,
        "status": order.status,
        "reference_order_id": order.reference_order_id,
        "channel": order.channel,
        "portal": order.portal,
        "fulfillment": order.fulfillment,
        "table": order.table,
        "employee": {"id": employee[0], "name": employee[1]} if employee else None,
        "created_at": timestamp(order.created_at, timezone),
        "completed_at": timestamp(order.completed_at, timezone),
        "cancelled_at": timestamp(order.cancelled_at, timezone),
        "cancellation_reason": order.cancellation_reason,
        "currency": order.currency,
        "total_gross": money(order.total_gross),
        "payments": [payment_json(payment) for payment in order.payments],
        "bill_positions": [position_json(position, timezone) for position in order.positions],
    }


def report_header_json(
    day: Day, is_closed: bool, closed_at: datetime | None, summary: Summary
) -> dict[str, Any]:
    """The report header, repeated on every page."""
    tz = day.store.tz
    return {
        "store_id": day.store.id,
        "business_date": day.business_date.isoformat(),
        "timezone": day.store.timezone,
        "period": {"from": timestamp(day.start, tz), "to": timestamp(day.end, tz)},
        "is_closed": is_closed,
        "closed_at": timestamp(closed_at, tz),
        "currency": day.store.currency,
        "summary": {
            "orders": summary.orders,
            "completed": summary.completed,
            "cancelled": summary.cancelled,
            "refunds": summary.refunds,
            "gross_completed": money(summary.gross_completed),
        },
    }
