"""The assumed SIDES API (reference sides.md §6): every path and key name, in one module.

Keys are snake_case; ``field`` also accepts the camelCase spelling, since either is plausible.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from stockpot.core.pos.pacing import RatePolicy

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/me"
STORES = "/api/v1/stores"
PRODUCTS = "/api/v1/products"


def daily_report(store_id: str, business_date: date) -> str:
    return f"/api/v1/stores/{store_id}/daily-reports/{business_date.isoformat()}"


# Pagination (§6.9)
PAGE, PER_PAGE = "page", "per_page"
DATA, META, TOTAL_PAGES, LINKS, NEXT = "data", "meta", "total_pages", "links", "next"
STORES_PER_PAGE, PRODUCTS_PER_PAGE, REPORT_PER_PAGE = 200, 500, 500

# Sign-in (§6.2) and errors (§6.10)
USERNAME, PASSWORD, ACCESS_TOKEN, EXPIRES_IN = "username", "password", "access_token", "expires_in"
USER, TENANT, STORE_IDS, NAME, KEY = "user", "tenant", "store_ids", "name", "key"
ERROR, ERROR_CODE, ERROR_MESSAGE = "error", "code", "message"
TOKEN_ERRORS = frozenset({"token_expired", "unauthorized"})
INVALID_CREDENTIALS, ACCOUNT_DISABLED = "invalid_credentials", "account_disabled"

# Rate limits (§6.11): 120 requests a minute per token, in fixed windows, with
# X-RateLimit-Remaining / X-RateLimit-Reset on every answer (the client pauses when 0 remain).
REQUESTS_PER_MINUTE = 120
RATE_POLICY = RatePolicy(per_second=REQUESTS_PER_MINUTE / 60)

# Stores (§6.4)
ID, NUMBER, TIMEZONE, BUSINESS_DAY_START, ACTIVE = (
    "id",
    "number",
    "timezone",
    "business_day_start",
    "active",
)

# Products (§6.5)
ITEM_NUMBER, TYPE, UPDATED_SINCE, STORE_ID = "item_number", "type", "updated_since", "store_id"
SALES_ITEM, TOPPING, MENU = "sales_item", "topping", "menu"
SOLD_PRODUCT_TYPES = (SALES_ITEM, TOPPING, MENU)

# Daily reports (§6.6)
IS_CLOSED, STATUS, ORDER_TYPE = "is_closed", "status", "order_type"
BILL_POSITIONS, POSITION_TYPE, PARENT_ID, PRODUCT_ID = (
    "bill_positions",
    "position_type",
    "parent_id",
    "product_id",
)
QUANTITY, PORTAL_ITEM_NAME, RESTOCK = "quantity", "portal_item_name", "restock"
ORDER_CANCELLED, POSITION_VOIDED, REFUND = "cancelled", "voided", "refund"
ITEM, MENU_COMPONENT, TOPPING_ADDED, TOPPING_REMOVED = (
    "item",
    "menu_component",
    "topping_added",
    "topping_removed",
)
NON_ITEM_POSITIONS = frozenset(
    {"deposit", "discount", "surcharge", "delivery_fee", "tip", "voucher_sale"}
)


def field(data: dict[str, Any], name: str, default: Any = None) -> Any:
    """``data[name]``, or its camelCase spelling (``bill_positions`` → ``billPositions``)."""
    if name in data:
        return data[name]
    return data.get(camel(name), default)


def spelled(data: dict[str, Any], name: str) -> str:
    """The spelling of ``name`` that ``data`` uses, for messages naming a field."""
    return name if name in data else camel(name)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
