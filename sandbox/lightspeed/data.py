"""Deterministic data for the Lightspeed K-Series sandbox: businesses, locations, the item
catalogue and sales days.

Nothing is precomputed: a business day is generated when first asked for, from a
``random.Random`` seeded with a SHA-256 digest of (seed, location id, business date), so two
sandboxes with the same seed answer byte for byte the same, and months of history cost nothing
until read. One day is fixed whatever the seed: location 45454565682155 on 2026-03-14 returns the
four sales of the reference's §9.2 example.

Conventions (reference §6.4-§6.5): money amounts are decimal strings (2 dp, 6 dp for amounts
before tax and tax), quantities strings with 3 decimals; prices are tax inclusive; a voided line
is followed by a negative line carrying ``voidReason`` so the signed sum nets to zero; a refund
is its own sale of type ``REFUND`` with negative quantities, amounts and payment and
``source.previousAccountId`` pointing at the refunded sale; a cancelled account has
``cancelled: true``, a ``voidReason`` on the account and each line, and no payments.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import random
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

GOLDEN_LOCATION_ID = 45454565682155
GOLDEN_DATE = date(2026, 3, 14)

_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
_MILLI = Decimal("0.001")
_EPOCH = date(2025, 1, 1)
"""Day numbers (for account, line and payment ids) count from here."""

VOID_REASONS = (
    "Broken",
    "Cooking",
    "Other",
    "Taste",
    "Unhappy Client",
    "User Mistake",
    "Waited too long",
)


# --------------------------------------------------------------------------------------------
# Formatting helpers


def money(value: Decimal) -> str:
    """A 2-decimal amount string, never ``-0.00``."""
    return _fmt(value, _CENT)


def money6(value: Decimal) -> str:
    return _fmt(value, _MICRO)


def quantity(value: Decimal) -> str:
    return _fmt(value, _MILLI)


def _fmt(value: Decimal, places: Decimal) -> str:
    rounded = value.quantize(places, rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)
    return str(rounded)


def iso_ms(instant: datetime) -> str:
    """``2026-03-14T19:02:11.512Z``: UTC with milliseconds, as Lightspeed writes instants."""
    t = instant.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def iso_seconds(instant: datetime) -> str:
    """Seconds precision in the instant's own offset, ``Z`` for a zero offset."""
    text = instant.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_instant(text: str) -> datetime:
    """An aware datetime from ISO-8601 (``Z`` or an offset); ``ValueError`` otherwise."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError(f"no offset in {text!r}")
    return value


def seeded_random(*parts: object) -> random.Random:
    """A generator seeded from a SHA-256 digest of the parts (never ``hash()``)."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# --------------------------------------------------------------------------------------------
# Businesses and locations


@dataclass(frozen=True)
class TaxRate:
    code: str
    description: str
    percent: Decimal
    tax_id: str

    @property
    def multiplier(self) -> Decimal:
        return 1 + self.percent / 100


@dataclass(frozen=True)
class AccountingGroup:
    id: int
    name: str
    code: str
    statistic_group: str


@dataclass(frozen=True)
class PaymentMethod:
    id: int
    code: str
    name: str
    accounting_reference: str


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class Device:
    id: int
    name: str


@dataclass(frozen=True)
class Location:
    id: int
    name: str
    business_id: int
    country: str
    timezone: str
    day_start: time
    """Local wall-clock start of the business day (not published by the API, §4.1)."""
    earliest_date: date
    """First business date with data; earlier dates and instants are refused with a 400."""
    pos_id: int
    """The number inside fiscal ids: ``A<pos_id>.<seq>``."""
    tax: TaxRate
    staff: tuple[Person, ...]
    """The first one is the manager (who does refunds)."""
    table_devices: tuple[Device, ...]
    counter: Device
    closed_weekday: int | None = None
    """``date.weekday()`` on which the location is closed (an empty business day)."""
    volume: float = 1.0
    late_night: bool = True
    """Serves after local midnight on Thursday to Saturday nights."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_day_start(self, business_date: date) -> datetime:
        """The aware local start of a business day, built from the wall clock (DST-safe)."""
        return datetime.combine(business_date, self.day_start, tzinfo=self.zone)

    def day_window(self, business_date: date) -> tuple[datetime, datetime]:
        """``[start, end)`` of a business day in UTC; 23 or 25 hours long on DST changes."""
        start = self.local_day_start(business_date).astimezone(UTC)
        end = self.local_day_start(business_date + timedelta(days=1)).astimezone(UTC)
        return start, end

    def next_start_of_day(self, business_date: date) -> str:
        """``nextStartOfDayAsIso8601`` for a business date, in the local offset in force at
        that instant (reference §6.3): a start inside a spring-forward gap (02:30 in Berlin)
        is the instant after the gap, ``03:30+02:00`` (Python's wall clock wrote the
        ``02:30+01:00`` no Berlin clock shows; Java, the API's, moves a gap's time later)."""
        start = self.local_day_start(business_date + timedelta(days=1))
        return iso_seconds(start.astimezone(UTC).astimezone(self.zone))

    def business_date_of(self, instant: datetime) -> date:
        """The business date whose window holds ``instant`` (by the window itself: a local
        time compared with the start misplaced the hour after a start inside a DST gap)."""
        day = instant.astimezone(self.zone).date()
        start, end = self.day_window(day)
        if instant < start:
            return day - timedelta(days=1)
        if instant >= end:
            return day + timedelta(days=1)
        return day

    @property
    def earliest_instant(self) -> datetime:
        return self.day_window(self.earliest_date)[0]


@dataclass(frozen=True)
class Business:
    id: int
    name: str
    currency: str
    locations: tuple[Location, ...]
    accounting_groups: dict[str, AccountingGroup]
    """By kind: ``food``, ``soft``, ``alcohol``, ``hot``."""
    payment_methods: dict[str, PaymentMethod]
    """By code: ``CASH``, ``CARD``."""
    revenue_centers: dict[str, int]
    brand: str
    """Replaces "Harbour" in item names."""


def _groups(base: int) -> dict[str, AccountingGroup]:
    return {
        "food": AccountingGroup(base + 45, "Food", "4000", "Food"),
        "soft": AccountingGroup(base + 46, "Soft drinks", "4100", "Drinks"),
        "alcohol": AccountingGroup(base + 47, "Alcohol", "4200", "Drinks"),
        "hot": AccountingGroup(base + 48, "Hot drinks", "4300", "Drinks"),
    }


def _payment_methods(base: int) -> dict[str, PaymentMethod]:
    return {
        "CASH": PaymentMethod(base + 24, "CASH", "Cash", "cash-payment"),
        "CARD": PaymentMethod(base + 30, "CARD", "Card", "card-payment"),
    }


def _revenue_centers(base: int) -> dict[str, int]:
    return {"Restaurant": base + 22, "Takeaway": base + 23, "Bar": base + 26}


_VAT20 = TaxRate("VAT20", "VAT 20%", Decimal("20.00"), "41910290874374")

BRIGHTON = Location(
    id=45454565682155,
    name="Harbour Kitchen - Brighton",
    business_id=100421,
    country="GB",
    timezone="Europe/London",
    day_start=time(5, 0),
    earliest_date=date(2025, 6, 1),
    pos_id=81234,
    tax=_VAT20,
    staff=(
        Person(1, "Manager"),
        Person(14670, "Sam"),
        Person(18048, "Ana"),
        Person(18112, "Tom"),
        Person(18230, "Priya"),
    ),
    table_devices=(Device(75124, "iPad 1"), Device(75125, "iPad 2")),
    counter=Device(75126, "Counter"),
)
HOVE = Location(
    id=45454565682301,
    name="Harbour Kitchen - Hove",
    business_id=100421,
    country="GB",
    timezone="Europe/London",
    day_start=time(5, 0),
    earliest_date=date(2025, 9, 15),
    pos_id=81301,
    tax=_VAT20,
    staff=(
        Person(2, "Manager"),
        Person(18301, "Olu"),
        Person(18302, "Jess"),
        Person(18303, "Marek"),
    ),
    table_devices=(Device(75301, "iPad 1"),),
    counter=Device(75302, "Counter"),
    closed_weekday=0,
    volume=0.7,
    late_night=False,
)
BROOKLYN = Location(
    id=45454565690017,
    name="Copper Pot - Brooklyn",
    business_id=200873,
    country="US",
    timezone="America/New_York",
    day_start=time(4, 0),
    earliest_date=date(2025, 6, 1),
    pos_id=90017,
    tax=TaxRate("TAX8", "Sales tax 8%", Decimal("8.00"), "52910290870017"),
    staff=(
        Person(3, "Manager"),
        Person(29001, "Dana"),
        Person(29002, "Luis"),
        Person(29003, "Keisha"),
        Person(29004, "Mike"),
    ),
    table_devices=(Device(76001, "iPad A"), Device(76002, "iPad B")),
    counter=Device(76003, "Register"),
    volume=1.2,
)
BERLIN = Location(
    id=45454565690452,
    name="Copper Pot - Berlin Mitte",
    business_id=200873,
    country="DE",
    timezone="Europe/Berlin",
    day_start=time(0, 0),
    earliest_date=date(2025, 11, 3),
    pos_id=90452,
    tax=TaxRate("MWST19", "MwSt 19%", Decimal("19.00"), "62910290870452"),
    staff=(
        Person(4, "Manager"),
        Person(39001, "Lena"),
        Person(39002, "Jonas"),
        Person(39003, "Aylin"),
    ),
    table_devices=(Device(77001, "iPad 1"),),
    counter=Device(77002, "Kasse"),
    volume=0.8,
    late_night=False,
)


def default_businesses() -> tuple[Business, ...]:
    return (
        Business(
            id=100421,
            name="Harbour Kitchen Group",
            currency="GBP",
            locations=(BRIGHTON, HOVE),
            accounting_groups=_groups(141948669132800),
            payment_methods=_payment_methods(141948669132800),
            revenue_centers=_revenue_centers(141948669132800),
            brand="Harbour",
        ),
        Business(
            id=200873,
            name="Copper Pot Hospitality",
            currency="USD",
            locations=(BROOKLYN, BERLIN),
            accounting_groups=_groups(241948669132800),
            payment_methods=_payment_methods(241948669132800),
            revenue_centers=_revenue_centers(241948669132800),
            brand="Copper",
        ),
    )


# --------------------------------------------------------------------------------------------
# Item catalogue


@dataclass(frozen=True)
class Item:
    """One catalogue entry: the ``ItemDTO`` the Items API returns, plus what sales need."""

    dto: dict[str, Any]
    kind: str
    """Category key: burger, main, starter, salad, side, dessert, soft, beer, wine, spirit, hot,
    modifier, group."""
    price: Decimal
    cost: Decimal
    group: AccountingGroup
    statistic_group: str
    weighed: bool = False

    @property
    def id(self) -> int:
        return int(self.dto["id"])

    @property
    def sku(self) -> str:
        return str(self.dto["sku"])

    @property
    def name(self) -> str:
        return str(self.dto["name"])

    @functools.cached_property
    def price_text(self) -> str:
        return money(self.price)

    @functools.cached_property
    def cost_text(self) -> str:
        return money(self.cost)

    @property
    def sellable(self) -> bool:
        return bool(self.dto["active"]) and self.kind != "group"


@dataclass(frozen=True)
class _Category:
    kind: str
    prefix: str
    statistic_group: str
    group: str
    names: tuple[str, ...]
    price: tuple[float, float]
    inventory: str = "PRODUCED"
    item_type: str = "ITEM"
    volume_ml: tuple[int, ...] = ()


def _combine(left: Sequence[str], right: Sequence[str], pattern: str = "{} {}") -> tuple[str, ...]:
    return tuple(pattern.format(a, b).strip() for a in left for b in right)


_CATEGORIES: tuple[_Category, ...] = (
    _Category(
        "burger",
        "BRG",
        "Mains",
        "food",
        tuple(
            f"{name} Burger"
            for name in (
                "Harbour",
                "Smokehouse",
                "Double Stack",
                "Blue Cheese",
                "BBQ Bacon",
                "Crispy Chicken",
                "Spicy Chicken",
                "Mushroom & Swiss",
                "Halloumi",
                "Plant",
                "Jalapeño",
                "Truffle",
                "Breakfast",
                "Kids",
                "Lamb",
                "Pulled Pork",
                "Fish",
                "Chilli",
                "Classic",
                "Hawaiian",
            )
        ),
        (9.5, 15.5),
    ),
    _Category(
        "main",
        "MNS",
        "Mains",
        "food",
        _combine(
            ("Grilled", "Roast", "Pan-fried", "Braised", "Smoked"),
            (
                "Salmon",
                "Chicken",
                "Pork Belly",
                "Lamb Shank",
                "Sea Bass",
                "Hake",
                "Duck",
                "Short Rib",
            ),
        ),
        (13.0, 24.0),
    ),
    _Category(
        "starter",
        "STR",
        "Starters",
        "food",
        _combine(
            ("Crispy", "Grilled", "Spiced", "Garlic", "Chilli", "Salt & Pepper"),
            ("Calamari", "Prawns", "Wings", "Halloumi", "Mushrooms"),
        ),
        (5.5, 9.5),
    ),
    _Category(
        "salad",
        "SAL",
        "Salads",
        "food",
        (
            "Caesar Salad",
            *_combine(("Chicken", "Halloumi", "Quinoa", "Greek", "Niçoise"), ("Bowl", "Plate")),
            "House Salad",
            "Beetroot Salad",
            "Caprese Salad",
            "Cobb Salad",
        ),
        (8.0, 13.0),
    ),
    _Category(
        "side",
        "SID",
        "Sides",
        "food",
        (
            "Skin-on Fries",
            *_combine(
                ("Sweet Potato", "Garlic", "Truffle", "Cajun", "Parmesan"),
                ("Fries", "Wedges", "Mash", "Greens", "Slaw"),
            ),
        ),
        (3.5, 5.5),
    ),
    _Category(
        "dessert",
        "DST",
        "Desserts",
        "food",
        _combine(
            ("Chocolate", "Salted Caramel", "Lemon", "Vanilla", "Raspberry"),
            ("Tart", "Cheesecake", "Sundae", "Brownie"),
        ),
        (5.0, 8.0),
    ),
    _Category(
        "soft",
        "DRK",
        "Drinks",
        "soft",
        (
            "Cola 330ml",
            *_combine(
                (
                    "Diet Cola",
                    "Lemonade",
                    "Orange Juice",
                    "Apple Juice",
                    "Ginger Beer",
                    "Tonic",
                    "Soda Water",
                    "Still Water",
                    "Sparkling Water",
                    "Iced Tea",
                ),
                ("330ml", "500ml", "Jug"),
            )[:29],
        ),
        (2.5, 5.0),
        inventory="PURCHASED",
        volume_ml=(330, 500, 1000),
    ),
    _Category(
        "beer",
        "BER",
        "Beer",
        "alcohol",
        _combine(
            (
                "House Lager",
                "Pale Ale",
                "IPA",
                "Stout",
                "Pilsner",
                "Wheat Beer",
                "Cider",
                "Session IPA",
                "Porter",
                "Amber Ale",
            ),
            ("Half", "Pint", "Bottle"),
        ),
        (3.0, 7.0),
        inventory="PURCHASED",
        volume_ml=(284, 568, 330),
    ),
    _Category(
        "wine",
        "WIN",
        "Wine",
        "alcohol",
        _combine(
            ("Pinot Grigio", "Sauvignon Blanc", "Chardonnay", "Rioja", "Malbec", "Merlot", "Rosé"),
            ("125ml", "175ml", "250ml", "Bottle"),
        ),
        (5.5, 32.0),
        inventory="PURCHASED",
        volume_ml=(125, 175, 250, 750),
    ),
    _Category(
        "spirit",
        "SPR",
        "Spirits",
        "alcohol",
        _combine(
            ("Gin", "Vodka", "Rum", "Whisky", "Tequila"), ("Single", "Double", "& Tonic", "Premium")
        ),
        (4.5, 12.0),
        inventory="PURCHASED",
        volume_ml=(25, 50, 25, 25),
    ),
    _Category(
        "hot",
        "HOT",
        "Hot drinks",
        "hot",
        _combine(
            (
                "Espresso",
                "Americano",
                "Latte",
                "Cappuccino",
                "Flat White",
                "Mocha",
                "Tea",
                "Hot Chocolate",
            ),
            ("", "Large"),
        ),
        (2.2, 4.2),
    ),
    _Category(
        "modifier",
        "MOD",
        "Extras",
        "food",
        (
            "Extra Cheese",
            "Extra Bacon",
            "Extra Patty",
            "Avocado",
            "Fried Egg",
            "Jalapeños",
            "Gluten-free Bun",
            "Onion Rings",
            "Chorizo",
            "Truffle Mayo",
            "Blue Cheese Sauce",
            "Pickles",
            "Caramelised Onions",
            "Mushrooms",
            "Pineapple",
            "Hash Brown",
            "Garlic Butter",
            "Peppercorn Sauce",
            "Chimichurri",
            "Extra Chicken",
            "Halloumi Slice",
            "Smoked Salmon",
            "Side Salad Upgrade",
            "Sweet Potato Upgrade",
            "Large Portion",
        ),
        (0.5, 3.0),
        inventory="PURCHASED",
        item_type="SUB_ITEM",
    ),
    _Category(
        "group",
        "GRP",
        "Menus",
        "food",
        ("Burger Meal", "Lunch Set", "Kids Menu", "Tasting Menu"),
        (12.0, 35.0),
        item_type="GROUP",
    ),
)

_GOLDEN_ITEMS: dict[str, dict[str, Any]] = {
    "BRG-01": {
        "id": 141948669132862,
        "name": "Harbour Burger",
        "docketName": "BURGER",
        "sku": "BRG-01",
        "active": True,
        "barcodes": [],
        "accountingGroup": {"id": 141948669132845, "name": "Food"},
        "statisticGroups": [{"category": "default", "value": "Mains"}],
        "costPrice": 3.8,
        "prices": [{"amount": 12.0, "name": "Default"}, {"amount": 10.0, "name": "Happy hour"}],
        "sharingType": "SHARED",
        "priceMode": "AMOUNT",
        "inventorySource": "PRODUCED",
        "disabled": True,
        "contentDimension": "DIMENSION_LESS",
        "itemType": "ITEM",
    },
    "MOD-CHS": {
        "id": 141948669132870,
        "name": "Extra Cheese",
        "docketName": "+CHEESE",
        "sku": "MOD-CHS",
        "active": True,
        "barcodes": [],
        "accountingGroup": {"id": 141948669132845, "name": "Food"},
        "statisticGroups": [{"category": "default", "value": "Extras"}],
        "costPrice": 0.25,
        "prices": [{"amount": 1.0, "name": "Default"}],
        "sharingType": "SHARED",
        "priceMode": "AMOUNT",
        "inventorySource": "PURCHASED",
        "disabled": True,
        "contentDimension": "DIMENSION_LESS",
        "itemType": "SUB_ITEM",
    },
    "SID-FRY": {
        "id": 141948669132881,
        "name": "Skin-on Fries",
        "docketName": "FRIES",
        "sku": "SID-FRY",
        "active": True,
        "barcodes": [],
        "accountingGroup": {"id": 141948669132845, "name": "Food"},
        "statisticGroups": [{"category": "default", "value": "Sides"}],
        "costPrice": 0.9,
        "prices": [{"amount": 4.5, "name": "Default"}],
        "sharingType": "SHARED",
        "priceMode": "AMOUNT",
        "inventorySource": "PRODUCED",
        "disabled": True,
        "contentDimension": "DIMENSION_LESS",
        "itemType": "ITEM",
    },
    "DRK-COLA": {
        "id": 141948669132890,
        "name": "Cola 330ml",
        "docketName": "COLA",
        "sku": "DRK-COLA",
        "active": True,
        "barcode": "5000112637922",
        "barcodes": ["5000112637922"],
        "accountingGroup": {"id": 141948669132846, "name": "Soft drinks"},
        "statisticGroups": [{"category": "default", "value": "Drinks"}],
        "costPrice": 0.55,
        "prices": [{"amount": 3.0, "name": "Default"}],
        "sharingType": "SHARED",
        "priceMode": "AMOUNT",
        "inventorySource": "PURCHASED",
        "disabled": False,
        "contentDimension": "VOLUME",
        "contentUom": "ml",
        "contentValue": 330,
        "itemType": "ITEM",
    },
}
"""The reference's §5 example items (its ``null`` fields omitted: the ItemDTO schema types them
as plain strings/numbers, so ``null`` would not validate)."""

_GOLDEN_SKUS = {
    "Harbour Burger": "BRG-01",
    "Extra Cheese": "MOD-CHS",
    "Skin-on Fries": "SID-FRY",
    "Cola 330ml": "DRK-COLA",
    "Caesar Salad": "SAL-CSR",
}
_GOLDEN_PRICES = {"SAL-CSR": (Decimal("9.50"), Decimal("2.10"))}


def build_catalogue(business: Business) -> list[Item]:
    """About 300 items for a business, the same whatever the sandbox seed."""
    rng = seeded_random("catalogue", business.id)
    golden = business.id == BRIGHTON.business_id
    next_id = 141948669140000 if golden else 241948669140000
    items: list[Item] = []
    for category in _CATEGORIES:
        group = business.accounting_groups[category.group]
        for index, base_name in enumerate(category.names):
            sku = _GOLDEN_SKUS.get(base_name, f"{category.prefix}-{index + 1:02d}")
            name = base_name.replace("Harbour", business.brand)
            if golden and sku in _GOLDEN_ITEMS:
                dto = dict(_GOLDEN_ITEMS[sku])
                price = Decimal(str(dto["prices"][0]["amount"])).quantize(_CENT)
                cost = Decimal(str(dto["costPrice"])).quantize(_CENT)
                items.append(Item(dto, category.kind, price, cost, group, category.statistic_group))
                continue
            low, high = category.price
            price = (Decimal(str(round(rng.uniform(low, high) * 2) / 2))).quantize(_CENT)
            if golden and sku in _GOLDEN_PRICES:
                price, cost = _GOLDEN_PRICES[sku]
            else:
                cost = (price * Decimal(str(round(rng.uniform(0.18, 0.38), 2)))).quantize(_CENT)
            next_id += rng.randint(3, 41)
            dto = {
                "id": next_id,
                "name": name,
                "docketName": name.upper()[:64],
                "sku": sku,
                "active": index == 0 or rng.random() > 0.04,
                "barcodes": [],
                "accountingGroup": {"id": group.id, "name": group.name},
                "statisticGroups": [{"category": "default", "value": category.statistic_group}],
                "costPrice": float(cost),
                "prices": [{"amount": float(price), "name": "Default"}],
                "sharingType": "SHARED",
                "priceMode": "AMOUNT",
                "inventorySource": category.inventory,
                "disabled": category.inventory == "PRODUCED" or rng.random() < 0.2,
                "contentDimension": "VOLUME" if category.volume_ml else "DIMENSION_LESS",
                "itemType": category.item_type,
            }
            if category.volume_ml:
                dto["contentUom"] = "ml"
                dto["contentValue"] = category.volume_ml[index % len(category.volume_ml)]
                barcode = f"50{rng.randrange(10**10, 10**11)}"
                dto["barcode"] = barcode
                dto["barcodes"] = [barcode]
            if category.kind in ("beer", "wine", "spirit") and rng.random() < 0.3:
                happy = (price * Decimal("0.8")).quantize(_CENT)
                dto["prices"].append({"amount": float(happy), "name": "Happy hour"})
            items.append(Item(dto, category.kind, price, cost, group, category.statistic_group))
    # One item sold by weight: fractional quantities on sales lines.
    group = business.accounting_groups["food"]
    next_id += 17
    dto = {
        "id": next_id,
        "name": "Fresh Crab (per kg)",
        "docketName": "CRAB KG",
        "sku": "MNS-KG1",
        "active": True,
        "barcodes": [],
        "accountingGroup": {"id": group.id, "name": group.name},
        "statisticGroups": [{"category": "default", "value": "Mains"}],
        "costPrice": 14.0,
        "prices": [{"amount": 42.0, "name": "Default"}],
        "sharingType": "SHARED",
        "priceMode": "AMOUNT",
        "inventorySource": "PURCHASED",
        "disabled": False,
        "contentDimension": "MASS",
        "contentUom": "kg",
        "contentValue": 1,
        "itemType": "ITEM",
    }
    items.append(Item(dto, "main", Decimal("42.00"), Decimal("14.00"), group, "Mains", True))
    items.sort(key=lambda item: item.id)
    return items


# --------------------------------------------------------------------------------------------
# Sales days


@dataclass(frozen=True)
class SalesDay:
    location: Location
    business_date: date
    start: datetime
    """Inclusive UTC start of the business day."""
    end: datetime
    """Exclusive UTC end: the next business day's start."""
    sales: tuple[dict[str, Any], ...]
    """As ``sales-daily`` lists them (time-closed order, except the golden day's reference
    order). Shared: never mutate."""
    closed: tuple[datetime, ...] = field(default=())
    """``timeClosed`` of each sale, parallel to ``sales``."""

    def chronological(self) -> list[tuple[datetime, str, dict[str, Any]]]:
        """``(timeClosed, accountFiscId, sale)`` sorted the way the range endpoint sorts."""
        rows = [
            (c, str(s["accountFiscId"]), s) for c, s in zip(self.closed, self.sales, strict=True)
        ]
        rows.sort(key=lambda row: (row[0], row[1]))
        return rows


def signed_item_quantities(
    sales: Sequence[dict[str, Any]], *, as_of: datetime | None = None
) -> dict[str, Decimal]:
    """Per sku, the signed sum of line quantities over ``SALE`` and ``REFUND`` sales that are
    not cancelled (all lines, voids netting out), optionally only sales closed before
    ``as_of``."""
    totals: dict[str, Decimal] = {}
    for sale in sales:
        if sale.get("cancelled") or sale.get("type") not in ("SALE", "REFUND"):
            continue
        if as_of is not None and parse_instant(sale["timeClosed"]) >= as_of:
            continue
        for line in sale.get("salesLines", []):
            sku = line.get("sku")
            if sku:
                totals[sku] = totals.get(sku, Decimal(0)) + Decimal(line["quantity"])
    return totals


class LightspeedData:
    """Businesses, catalogues and (lazily generated, cached) sales days for one seed."""

    def __init__(self, seed: int = 1, *, cache_days: int = 256, volume: float = 1.0) -> None:
        self.seed = seed
        self.volume = volume
        """Scales every location's sales per day (benchmarks ask for busier days)."""
        self.businesses: tuple[Business, ...] = default_businesses()
        self.locations: dict[int, Location] = {
            location.id: location for business in self.businesses for location in business.locations
        }
        self._business_by_id = {business.id: business for business in self.businesses}
        self._catalogues: dict[int, list[Item]] = {
            business.id: build_catalogue(business) for business in self.businesses
        }
        self._menus: dict[int, dict[str, tuple[list[Item], list[float]]]] = {
            business.id: _menu(self._catalogues[business.id]) for business in self.businesses
        }
        self._cache: OrderedDict[tuple[int, date], SalesDay] = OrderedDict()
        self._cache_days = cache_days
        self._lock = threading.Lock()

    def clear_cache(self) -> None:
        """Forget generated days (they are regenerated, identical, when asked again)."""
        with self._lock:
            self._cache.clear()

    def business(self, location_id: int) -> Business:
        return self._business_by_id[self.locations[location_id].business_id]

    def items(self, location_id: int) -> list[Item]:
        """The catalogue of the location's business, by ascending id."""
        return self._catalogues[self.locations[location_id].business_id]

    def day(self, location_id: int, business_date: date) -> SalesDay:
        """One business day of one location (empty before its earliest date)."""
        key = (location_id, business_date)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        day = self._build_day(self.locations[location_id], business_date)
        with self._lock:
            self._cache[key] = day
            while len(self._cache) > self._cache_days:
                self._cache.popitem(last=False)
        return day

    def sales_between(
        self,
        location_id: int,
        start: datetime,
        end: datetime,
        *,
        after: tuple[datetime, str] | None = None,
    ) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
        """Sales with ``start <= timeClosed < end`` in ``(timeClosed, accountFiscId)`` order,
        strictly after the ``after`` cursor when given. Days are generated as the walk reaches
        them, so a page costs only the days it spans."""
        location = self.locations[location_id]
        begin = max(start, after[0]) if after else start
        current = max(location.business_date_of(begin), location.earliest_date)
        last = location.business_date_of(end)
        while current <= last:
            for closed, fisc_id, sale in self.day(location_id, current).chronological():
                if not start <= closed < end:
                    continue
                if after is not None and (closed, fisc_id) <= after:
                    continue
                yield closed, fisc_id, sale
            current += timedelta(days=1)

    def expected_item_quantities(
        self, location_id: int, business_date: date, *, as_of: datetime | None = None
    ) -> dict[str, Decimal]:
        return signed_item_quantities(self.day(location_id, business_date).sales, as_of=as_of)

    def _build_day(self, location: Location, business_date: date) -> SalesDay:
        start, end = location.day_window(business_date)
        if location.id == GOLDEN_LOCATION_ID and business_date == GOLDEN_DATE:
            sales = tuple(GOLDEN_SALES)
        elif business_date < location.earliest_date or business_date.weekday() == (
            location.closed_weekday
        ):
            sales = ()
        else:
            builder = _DayBuilder(
                self.seed,
                replace(location, volume=location.volume * self.volume),
                self.business(location.id),
                self._menus[location.business_id],
                business_date,
            )
            sales = tuple(builder.build())
        closed = tuple(parse_instant(sale["timeClosed"]) for sale in sales)
        return SalesDay(location, business_date, start, end, sales, closed)


def _menu(catalogue: list[Item]) -> dict[str, tuple[list[Item], list[float]]]:
    """Sellable items per kind with cumulative popularity weights (a long tail: the first
    items of each kind, including the reference's skus, sell most)."""
    menu: dict[str, tuple[list[Item], list[float]]] = {}
    by_kind: dict[str, list[Item]] = {}
    for item in sorted(catalogue, key=lambda entry: (entry.kind, entry.sku)):
        if item.sellable:
            by_kind.setdefault(item.kind, []).append(item)
    for kind, items in by_kind.items():
        # The reference skus (letter codes) lead their kind; the weighed item trails.
        items.sort(key=lambda entry: (entry.weighed, entry.sku[4:].isdigit(), entry.sku))
        cumulative: list[float] = []
        total = 0.0
        for rank in range(len(items)):
            total += 1.0 / (rank + 1) ** 0.8
            cumulative.append(total)
        menu[kind] = (items, cumulative)
    return menu


@functools.lru_cache(maxsize=16384)
def _line_amounts(
    price: Decimal, qty: Decimal, discount_rate: Decimal | None, multiplier: Decimal
) -> tuple[str, str, str, str]:
    """(total with tax, total without tax, tax, discount) of a tax-inclusive line."""
    gross = (price * qty).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    discount = Decimal(0)
    if discount_rate:
        discount = (gross * discount_rate).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    total = gross - discount
    without = (total / multiplier).quantize(_MICRO, rounding=ROUND_HALF_EVEN)
    return money(total), money6(without), money6(total - without), money(discount)


@dataclass
class _Plan:
    opened: datetime
    closed: datetime
    service: str
    dine_in: bool


class _DayBuilder:
    """Generates one ordinary business day."""

    def __init__(
        self,
        seed: int,
        location: Location,
        business: Business,
        menu: dict[str, tuple[list[Item], list[float]]],
        business_date: date,
    ) -> None:
        self.location = location
        self.business = business
        self.menu = menu
        self.date = business_date
        self.rng = seeded_random(seed, location.id, business_date.isoformat())
        self.start, self.end = location.day_window(business_date)
        day_number = (business_date - _EPOCH).days + 1
        self._account_seq = day_number * 1000
        self._receipt_seq = day_number * 1000
        self._line_seq = day_number * 100000
        self._payment_seq = day_number * 10000
        self._multiplier = location.tax.multiplier
        self._tax_rate = str(self._multiplier.normalize())
        self._tax_percent = money(location.tax.percent)

    # ---- ids

    def _next(self, attribute: str, prefix: str) -> str:
        value = getattr(self, attribute) + 1
        setattr(self, attribute, value)
        return f"{prefix}{self.location.pos_id}.{value}"

    def _uuid(self, urlsafe: bool = False) -> str:
        raw = self.rng.getrandbits(128).to_bytes(16, "big")
        return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()

    # ---- the day

    def build(self) -> list[dict[str, Any]]:
        plans = sorted(self._plans(), key=lambda plan: plan.opened)
        sales = [self._sale(plan) for plan in plans]
        refunds = self._refunds(sales)
        everything = sales + refunds
        everything.sort(key=lambda sale: (sale["timeClosed"], sale["accountFiscId"]))
        return everything

    def _local(self, minutes: float) -> datetime:
        """A local wall-clock time ``minutes`` after midnight starting the business date (may
        pass midnight), as a UTC instant with milliseconds."""
        naive = datetime.combine(self.date, time(0)) + timedelta(minutes=minutes)
        naive += timedelta(milliseconds=self.rng.randrange(60000))
        return naive.replace(tzinfo=self.location.zone).astimezone(UTC)

    def _plans(self) -> list[_Plan]:
        rng = self.rng
        weekday = self.date.weekday()
        base = (24, 24, 28, 32, 46, 58, 42)[weekday]
        count = max(8, round(base * self.location.volume * rng.uniform(0.8, 1.2)))
        late = self.location.late_night and weekday in (3, 4, 5)
        late_count = rng.randint(2, 5) if late else 0
        plans: list[_Plan] = []
        for index in range(count + late_count):
            if index >= count:
                service, minute = "late", rng.uniform(23 * 60 + 10, 25 * 60 + 40)
            elif rng.random() < 0.42:
                service, minute = "lunch", rng.uniform(11 * 60 + 30, 14 * 60 + 45)
            else:
                service, minute = "dinner", rng.uniform(17 * 60, 21 * 60 + 40)
            dine_in = rng.random() < {"lunch": 0.6, "dinner": 0.8, "late": 0.95}[service]
            opened = self._local(minute)
            duration = rng.uniform(35, 115) if dine_in else rng.uniform(1.5, 12)
            closed = opened + timedelta(minutes=duration, milliseconds=rng.randrange(1000))
            if self.start <= opened and closed < self.end:
                plans.append(_Plan(opened, closed, service, dine_in))
        return plans

    def _pick(self, kind: str) -> Item:
        items, cumulative = self.menu[kind]
        return self.rng.choices(items, cum_weights=cumulative)[0]

    def _drink_kind(self, service: str) -> str:
        options = {
            "lunch": (("soft", 50), ("beer", 20), ("wine", 15), ("hot", 15)),
            "dinner": (("soft", 30), ("beer", 30), ("wine", 30), ("spirit", 10)),
            "late": (("beer", 45), ("wine", 20), ("spirit", 35)),
        }[service]
        return self.rng.choices([k for k, _ in options], weights=[w for _, w in options])[0]

    def _order(self, plan: _Plan, covers: int) -> list[tuple[Item, Decimal, list[Item]]]:
        """What was ordered: (item, quantity, modifiers), identical plain items merged."""
        rng = self.rng
        picks: list[tuple[Item, list[Item]]] = []
        for _ in range(covers):
            if plan.service == "late":
                for _ in range(rng.randint(1, 3)):
                    picks.append((self._pick(self._drink_kind("late")), []))
                continue
            if rng.random() < 0.25 and plan.dine_in:
                picks.append((self._pick("starter"), []))
            if rng.random() < 0.92:
                kind = rng.choices(("burger", "main", "salad"), weights=(45, 40, 15))[0]
                main = self._pick(kind)
                modifiers: list[Item] = []
                if kind in ("burger", "main") and not main.weighed and rng.random() < 0.35:
                    for _ in range(rng.randint(1, 2)):
                        modifier = self._pick("modifier")
                        if modifier not in modifiers:
                            modifiers.append(modifier)
                picks.append((main, modifiers))
            if rng.random() < 0.4:
                picks.append((self._pick("side"), []))
            if rng.random() < 0.92:
                picks.append((self._pick(self._drink_kind(plan.service)), []))
            if plan.dine_in and rng.random() < 0.2:
                picks.append((self._pick("dessert"), []))
        order: list[tuple[Item, Decimal, list[Item]]] = []
        merged: dict[str, int] = {}
        for item, modifiers in picks:
            if item.weighed:
                weight = Decimal(rng.randrange(250, 900, 5)) / 1000
                order.append((item, weight, []))
            elif modifiers or item.sku not in merged:
                if not modifiers:
                    merged[item.sku] = len(order)
                order.append((item, Decimal(1), modifiers))
            else:
                index = merged[item.sku]
                previous = order[index]
                order[index] = (previous[0], previous[1] + 1, previous[2])
        return order

    def _line(
        self,
        item: Item,
        qty: Decimal,
        at: datetime,
        context: dict[str, Any],
        *,
        parent: str | None = None,
        discount_rate: Decimal | None = None,
        void_reason: str | None = None,
    ) -> dict[str, Any]:
        total, without, tax, discount = _line_amounts(
            item.price, qty, discount_rate, self._multiplier
        )
        group = item.group
        line: dict[str, Any] = {"id": self._next("_line_seq", "S")}
        if parent:
            line["parentLineId"] = parent
        line.update(
            {
                "totalNetAmountWithTax": total,
                "totalNetAmountWithoutTax": without,
                "menuListPrice": item.price_text,
                "unitCostPrice": item.cost_text,
                "serviceCharge": "0.00",
                "serviceChargeType": "NO_SERVICE_CHARGE",
                "serviceChargeRate": "0.00",
                "discountAmount": discount,
            }
        )
        if discount_rate:
            line.update(
                {
                    "discountType": "DISCOUNT",
                    "discountCode": "10PCT",
                    "discountName": "10% Discount",
                }
            )
        line.update(
            {
                "taxCode": self.location.tax.code,
                "taxAmount": tax,
                "taxRatePercentage": self._tax_percent,
                "taxLines": [
                    {
                        "taxId": self.location.tax.tax_id,
                        "taxCode": self.location.tax.code,
                        "taxRate": self._tax_rate,
                        "taxAmount": tax,
                        "taxIncluded": True,
                    }
                ],
                "accountDiscountAmount": "0.00",
                "totalDiscountAmount": discount,
                "sku": item.sku,
                "name": item.name,
                "statisticGroup": item.statistic_group,
                "quantity": quantity(qty),
                "accountingGroup": {
                    "accountingGroupId": group.id,
                    "name": group.name,
                    "statisticGroup": group.statistic_group,
                    "code": group.code,
                },
                "currency": self.business.currency,
                "tags": [],
                "revenueCenter": context["revenueCenter"],
                "revenueCenterId": context["revenueCenterId"],
                "categories": [{"category": "default", "value": item.statistic_group}],
                "timeOfSale": iso_ms(at),
                "staffId": context["staff"].id,
                "staffName": context["staff"].name,
                "deviceId": context["device"].id,
                "deviceName": context["device"].name,
            }
        )
        if not parent:
            line["accountProfileCode"] = context["profile"]
        if void_reason:
            line["voidReason"] = void_reason
        return line

    def _negated(
        self, line: dict[str, Any], at: datetime, *, units: Decimal | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A negative copy of ``line`` (all of it, or ``units`` of it at menu price)."""
        negative = dict(line)
        negative["id"] = self._next("_line_seq", "S")
        qty = Decimal(line["quantity"]) if units is None else units
        share = qty / Decimal(line["quantity"])

        def scaled(key: str, places: Decimal) -> str:
            return _fmt(-(Decimal(line[key]) * share), places)

        for key in ("totalNetAmountWithTax", "discountAmount", "totalDiscountAmount"):
            negative[key] = scaled(key, _CENT)
        for key in ("totalNetAmountWithoutTax", "taxAmount"):
            negative[key] = scaled(key, _MICRO)
        negative["taxLines"] = [
            {**tax_line, "taxAmount": negative["taxAmount"]} for tax_line in line["taxLines"]
        ]
        negative["quantity"] = quantity(-qty)
        negative["timeOfSale"] = iso_ms(at)
        negative.pop("parentLineId", None)
        negative.update(extra)
        return negative

    def _sale(self, plan: _Plan) -> dict[str, Any]:
        rng = self.rng
        location = self.location
        account = self._next("_account_seq", "A")
        staff = rng.choice(location.staff[1:])
        device = rng.choice(location.table_devices) if plan.dine_in else location.counter
        center = "Restaurant" if plan.dine_in else "Takeaway"
        center = "Bar" if plan.service == "late" else center
        online = not plan.dine_in and rng.random() < 0.15
        profile = "DINEIN" if plan.dine_in else ("DELIVERY" if online else "TAKEAWAY")
        covers = rng.choices((1, 2, 3, 4, 5, 6), weights=(20, 40, 15, 15, 5, 5))[0]
        if not plan.dine_in:
            covers = rng.choice((1, 1, 1, 2))
        context = {
            "staff": staff,
            "device": device,
            "profile": profile,
            "revenueCenter": center,
            "revenueCenterId": self.business.revenue_centers[center],
        }
        cancelled = rng.random() < 0.03
        reason = rng.choice(VOID_REASONS) if cancelled else None
        span = (plan.closed - plan.opened).total_seconds()
        lines: list[dict[str, Any]] = []
        discount_line = rng.randrange(20) if rng.random() < 0.08 and not cancelled else -1
        order = self._order(plan, covers)
        for position, (item, qty, modifiers) in enumerate(order):
            at = plan.opened + timedelta(seconds=span * 0.05 + position * rng.uniform(0.5, 20))
            rate = Decimal("0.10") if position == discount_line else None
            parent = self._line(item, qty, at, context, discount_rate=rate, void_reason=reason)
            lines.append(parent)
            for modifier in modifiers:
                at += timedelta(milliseconds=rng.randint(10, 40))
                lines.append(
                    self._line(modifier, qty, at, context, parent=parent["id"], void_reason=reason)
                )
        if not cancelled and len(lines) >= 2 and rng.random() < 0.08:
            children = {line.get("parentLineId") for line in lines}
            candidates = [
                line
                for line in lines
                if "parentLineId" not in line
                and line["id"] not in children
                and line["discountAmount"] == "0.00"
                and not line["sku"].endswith("KG1")
            ]
            if candidates:
                voided = rng.choice(candidates)
                at = parse_instant(voided["timeOfSale"]) + timedelta(seconds=rng.uniform(20, 300))
                at = min(at, plan.closed - timedelta(seconds=5))
                lines.append(
                    self._negated(voided, at, units=Decimal(1), voidReason=rng.choice(VOID_REASONS))
                )
        sale: dict[str, Any] = {
            "accountReference": self._uuid(),
            "accountFiscId": account,
        }
        if not cancelled:
            sale["receiptId"] = self._next("_receipt_seq", "R")
        sale["source"] = {"initialAccountId": account}
        sale["salesLines"] = lines
        sale["payments"] = [] if cancelled else self._payments(lines, plan, context)
        sale["timeOfOpening"] = iso_ms(plan.opened)
        sale["timeClosed"] = iso_ms(plan.closed)
        sale["cancelled"] = cancelled
        if plan.dine_in:
            table = rng.randint(1, 30)
            room = "Bar" if plan.service == "late" else rng.choice(("Main Room", "Terrace"))
            sale["tableNumber"] = str(table)
            sale["tableName"] = f"{room}, Table {table}"
        sale["accountProfileCode"] = profile
        sale["ownerName"] = staff.name
        sale["ownerId"] = staff.id
        sale["type"] = "SALE"
        sale["externalReferences"] = (
            [f"TASK:OO-{location.id}-{rng.randrange(10**7, 10**8)}"] if online else []
        )
        sale["nbCovers"] = float(covers)
        sale["dineIn"] = plan.dine_in
        sale["deviceId"] = device.id
        sale["deviceName"] = device.name
        if reason:
            sale["voidReason"] = reason
        return sale

    def _payment(
        self,
        method: PaymentMethod,
        amount: Decimal,
        tip: Decimal,
        at: datetime,
        context: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "code": method.code,
            "description": method.name,
            "paymentMethodId": method.id,
            "netAmountWithTax": money(amount),
            "currency": self.business.currency,
            "tip": money(tip),
            "type": "NORMAL",
            "deviceId": str(context["device"].id),
            "deviceName": context["device"].name,
            "staffId": context["staff"].id,
            "staffName": context["staff"].name,
            "revenueCenter": context["revenueCenter"],
            "revenueCenterId": context["revenueCenterId"],
            "fiscId": self._next("_payment_seq", "T"),
            "uuid": self._uuid(urlsafe=True),
            "fiscDate": iso_ms(at),
            "surcharge": "0.00",
            "roundingAmount": "0.00",
        }

    def _payments(
        self, lines: list[dict[str, Any]], plan: _Plan, context: dict[str, Any]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        total = sum((Decimal(line["totalNetAmountWithTax"]) for line in lines), Decimal(0))
        methods = self.business.payment_methods
        at = plan.closed - timedelta(milliseconds=rng.randint(40, 900))
        parts: list[tuple[PaymentMethod, Decimal]]
        if plan.dine_in and total >= 20 and rng.random() < 0.1:
            first = (total * Decimal(str(round(rng.uniform(0.3, 0.7), 2)))).quantize(_CENT)
            parts = [(methods["CARD"], first), (rng.choice(list(methods.values())), total - first)]
        else:
            parts = [(methods["CARD"] if rng.random() < 0.72 else methods["CASH"], total)]
        payments = []
        for index, (method, amount) in enumerate(parts):
            tip = Decimal(0)
            if plan.dine_in and method.code == "CARD" and rng.random() < 0.55:
                tip = (amount * Decimal(str(round(rng.uniform(0.08, 0.15), 3)))).quantize(_CENT)
            stamp = at - timedelta(seconds=(len(parts) - 1 - index) * rng.uniform(5, 40))
            payments.append(self._payment(method, amount, tip, stamp, context))
        return payments

    def _refunds(self, sales: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rng = self.rng
        weekend = self.date.weekday() >= 4
        count = sum(1 for _ in range(2 if weekend else 1) if rng.random() < 0.4)
        refunds: list[dict[str, Any]] = []
        candidates = [sale for sale in sales if not sale["cancelled"] and sale["payments"]]
        for _ in range(count):
            if not candidates:
                break
            original = rng.choice(candidates)
            candidates.remove(original)
            voided = {line["sku"] for line in original["salesLines"] if "voidReason" in line}
            parents = [
                line
                for line in original["salesLines"]
                if "parentLineId" not in line
                and line["discountAmount"] == "0.00"
                and line["sku"] not in voided
            ]
            closed_original = parse_instant(original["timeClosed"])
            opened = closed_original + timedelta(minutes=rng.uniform(10, 90))
            closed = opened + timedelta(seconds=rng.uniform(15, 60))
            if not parents or closed >= self.end:
                continue
            refunds.append(self._refund(original, rng.choice(parents), opened, closed))
        return refunds

    def _refund(
        self,
        original: dict[str, Any],
        refunded: dict[str, Any],
        opened: datetime,
        closed: datetime,
    ) -> dict[str, Any]:
        location = self.location
        manager = location.staff[0]
        device = location.counter
        center = "Takeaway"
        account = self._next("_account_seq", "A")
        context = {
            "staff": manager,
            "device": device,
            "revenueCenter": center,
            "revenueCenterId": self.business.revenue_centers[center],
        }
        weighed = refunded["sku"].endswith("KG1")
        units = Decimal(refunded["quantity"]) if weighed else Decimal(1)
        at = opened + timedelta(seconds=5)
        who = {
            "staffId": manager.id,
            "staffName": manager.name,
            "deviceId": device.id,
            "deviceName": device.name,
            "revenueCenter": center,
            "revenueCenterId": context["revenueCenterId"],
        }
        parent = self._negated(refunded, at, units=units, **who)
        parent.pop("accountProfileCode", None)
        lines = [parent]
        for child in original["salesLines"]:
            if child.get("parentLineId") == refunded["id"]:
                negative = self._negated(child, at, units=units, **who)
                negative["parentLineId"] = parent["id"]
                lines.append(negative)
        total = sum((Decimal(line["totalNetAmountWithTax"]) for line in lines), Decimal(0))
        code = original["payments"][0]["code"]
        method = self.business.payment_methods[code]
        payment = self._payment(
            method, total, Decimal(0), closed - timedelta(milliseconds=50), context
        )
        initial = original["source"]["initialAccountId"]
        return {
            "accountReference": self._uuid(),
            "accountFiscId": account,
            "receiptId": self._next("_receipt_seq", "R"),
            "source": {"initialAccountId": initial, "previousAccountId": original["accountFiscId"]},
            "salesLines": lines,
            "payments": [payment],
            "timeOfOpening": iso_ms(opened),
            "timeClosed": iso_ms(closed),
            "cancelled": False,
            "ownerName": manager.name,
            "ownerId": manager.id,
            "type": "REFUND",
            "externalReferences": [],
            "nbCovers": 0.0,
            "dineIn": False,
            "deviceId": device.id,
            "deviceName": device.name,
        }


# --------------------------------------------------------------------------------------------
# The golden day: reference §9.2, verbatim.

GOLDEN_SALES: list[dict[str, Any]] = [
    {
        "accountReference": "m0Hc2xQkT3aJ7Qm1XbYk8w==",
        "accountFiscId": "A81234.101",
        "receiptId": "R81234.87",
        "source": {"initialAccountId": "A81234.101"},
        "salesLines": [
            {
                "id": "S81234.501",
                "totalNetAmountWithTax": "12.00",
                "totalNetAmountWithoutTax": "10.000000",
                "menuListPrice": "12.00",
                "unitCostPrice": "3.80",
                "serviceCharge": "0.00",
                "serviceChargeType": "NO_SERVICE_CHARGE",
                "serviceChargeRate": "0.00",
                "discountAmount": "0.00",
                "taxCode": "VAT20",
                "taxAmount": "2.000000",
                "taxRatePercentage": "20.00",
                "taxLines": [
                    {
                        "taxId": "41910290874374",
                        "taxCode": "VAT20",
                        "taxRate": "1.2",
                        "taxAmount": "2.000000",
                        "taxIncluded": True,
                    }
                ],
                "accountDiscountAmount": "0.00",
                "totalDiscountAmount": "0.00",
                "sku": "BRG-01",
                "name": "Harbour Burger",
                "statisticGroup": "Mains",
                "quantity": "1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132845,
                    "name": "Food",
                    "statisticGroup": "Food",
                    "code": "4000",
                },
                "currency": "GBP",
                "tags": [],
                "revenueCenter": "Restaurant",
                "revenueCenterId": 141948669132822,
                "categories": [{"category": "default", "value": "Mains"}],
                "timeOfSale": "2026-03-14T19:02:11.512Z",
                "staffId": 14670,
                "staffName": "Sam",
                "deviceId": 75125,
                "deviceName": "iPad 2",
                "accountProfileCode": "DINEIN",
            },
            {
                "id": "S81234.502",
                "parentLineId": "S81234.501",
                "totalNetAmountWithTax": "1.00",
                "totalNetAmountWithoutTax": "0.833333",
                "menuListPrice": "1.00",
                "unitCostPrice": "0.25",
                "serviceCharge": "0.00",
                "serviceChargeType": "NO_SERVICE_CHARGE",
                "discountAmount": "0.00",
                "taxCode": "VAT20",
                "taxAmount": "0.166667",
                "taxRatePercentage": "20.00",
                "taxLines": [
                    {
                        "taxId": "41910290874374",
                        "taxCode": "VAT20",
                        "taxRate": "1.2",
                        "taxAmount": "0.166667",
                        "taxIncluded": True,
                    }
                ],
                "totalDiscountAmount": "0.00",
                "sku": "MOD-CHS",
                "name": "Extra Cheese",
                "statisticGroup": "Extras",
                "quantity": "1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132845,
                    "name": "Food",
                    "statisticGroup": "Food",
                    "code": "4000",
                },
                "currency": "GBP",
                "revenueCenter": "Restaurant",
                "revenueCenterId": 141948669132822,
                "timeOfSale": "2026-03-14T19:02:11.530Z",
                "staffId": 14670,
                "staffName": "Sam",
                "deviceId": 75125,
                "deviceName": "iPad 2",
            },
            {
                "id": "S81234.503",
                "totalNetAmountWithTax": "9.00",
                "totalNetAmountWithoutTax": "7.500000",
                "menuListPrice": "4.50",
                "unitCostPrice": "0.90",
                "serviceCharge": "0.00",
                "serviceChargeType": "NO_SERVICE_CHARGE",
                "discountAmount": "0.00",
                "taxCode": "VAT20",
                "taxAmount": "1.500000",
                "taxRatePercentage": "20.00",
                "totalDiscountAmount": "0.00",
                "sku": "SID-FRY",
                "name": "Skin-on Fries",
                "statisticGroup": "Sides",
                "quantity": "2.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132845,
                    "name": "Food",
                    "statisticGroup": "Food",
                    "code": "4000",
                },
                "currency": "GBP",
                "revenueCenter": "Restaurant",
                "revenueCenterId": 141948669132822,
                "timeOfSale": "2026-03-14T19:02:11.548Z",
                "staffId": 14670,
                "staffName": "Sam",
                "deviceId": 75125,
                "deviceName": "iPad 2",
            },
            {
                "id": "S81234.504",
                "totalNetAmountWithTax": "3.00",
                "totalNetAmountWithoutTax": "2.500000",
                "menuListPrice": "3.00",
                "unitCostPrice": "0.55",
                "serviceCharge": "0.00",
                "discountAmount": "0.00",
                "taxCode": "VAT20",
                "taxAmount": "0.500000",
                "taxRatePercentage": "20.00",
                "totalDiscountAmount": "0.00",
                "sku": "DRK-COLA",
                "name": "Cola 330ml",
                "quantity": "1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132846,
                    "name": "Soft drinks",
                    "code": "4100",
                },
                "currency": "GBP",
                "timeOfSale": "2026-03-14T19:03:40.002Z",
                "staffId": 14670,
                "staffName": "Sam",
                "deviceId": 75125,
                "deviceName": "iPad 2",
            },
            {
                "id": "S81234.505",
                "totalNetAmountWithTax": "-3.00",
                "totalNetAmountWithoutTax": "-2.500000",
                "menuListPrice": "3.00",
                "unitCostPrice": "0.55",
                "serviceCharge": "0.00",
                "discountAmount": "0.00",
                "taxCode": "VAT20",
                "taxAmount": "-0.500000",
                "taxRatePercentage": "20.00",
                "totalDiscountAmount": "0.00",
                "sku": "DRK-COLA",
                "name": "Cola 330ml",
                "quantity": "-1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132846,
                    "name": "Soft drinks",
                    "code": "4100",
                },
                "currency": "GBP",
                "timeOfSale": "2026-03-14T19:05:02.441Z",
                "staffId": 14670,
                "staffName": "Sam",
                "deviceId": 75125,
                "deviceName": "iPad 2",
                "voidReason": "User Mistake",
            },
        ],
        "payments": [
            {
                "code": "CARD",
                "description": "Card",
                "paymentMethodId": 141948669132830,
                "netAmountWithTax": "22.00",
                "currency": "GBP",
                "tip": "2.00",
                "type": "NORMAL",
                "deviceId": "75125",
                "deviceName": "iPad 2",
                "staffId": 14670,
                "staffName": "Sam",
                "revenueCenter": "Restaurant",
                "revenueCenterId": 141948669132822,
                "fiscId": "T81234.212",
                "uuid": "Qk1xv3aGQ8mWn4Zl1oYpTg==",
                "fiscDate": "2026-03-14T20:11:45.120Z",
                "surcharge": "0.00",
                "roundingAmount": "0.00",
            }
        ],
        "timeOfOpening": "2026-03-14T19:00:03.771Z",
        "timeClosed": "2026-03-14T20:11:45.206Z",
        "cancelled": False,
        "tableNumber": "12",
        "tableName": "Main Room, Table 12",
        "accountProfileCode": "DINEIN",
        "ownerName": "Sam",
        "ownerId": 14670,
        "type": "SALE",
        "externalReferences": [],
        "nbCovers": 2.0,
        "dineIn": True,
        "deviceId": 75125,
        "deviceName": "iPad 2",
    },
    {
        "accountReference": "Zq5v7bHgRk2n3c1pL8yUeA==",
        "accountFiscId": "A81234.102",
        "receiptId": "R81234.88",
        "source": {"initialAccountId": "A81234.102"},
        "salesLines": [
            {
                "id": "S81234.510",
                "totalNetAmountWithTax": "8.55",
                "totalNetAmountWithoutTax": "7.125000",
                "menuListPrice": "9.50",
                "unitCostPrice": "2.10",
                "serviceCharge": "0.00",
                "serviceChargeType": "NO_SERVICE_CHARGE",
                "discountAmount": "0.95",
                "discountType": "DISCOUNT",
                "discountCode": "10PCT",
                "discountName": "10% Discount",
                "taxCode": "VAT20",
                "taxAmount": "1.425000",
                "taxRatePercentage": "20.00",
                "totalDiscountAmount": "0.95",
                "sku": "SAL-CSR",
                "name": "Caesar Salad",
                "quantity": "1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132845,
                    "name": "Food",
                    "code": "4000",
                },
                "currency": "GBP",
                "revenueCenter": "Takeaway",
                "revenueCenterId": 141948669132823,
                "timeOfSale": "2026-03-14T12:31:09.010Z",
                "staffId": 18048,
                "staffName": "Ana",
                "deviceId": 75126,
                "deviceName": "Counter",
                "accountProfileCode": "TAKEAWAY",
            }
        ],
        "payments": [
            {
                "code": "CASH",
                "description": "Cash",
                "paymentMethodId": 141948669132824,
                "netAmountWithTax": "8.55",
                "currency": "GBP",
                "tip": "0.00",
                "type": "NORMAL",
                "deviceId": "75126",
                "deviceName": "Counter",
                "staffId": 18048,
                "staffName": "Ana",
                "fiscId": "T81234.205",
                "uuid": "a8Gx0Vb1S5iQ2r9dKfZ3nw==",
                "fiscDate": "2026-03-14T12:32:00.400Z",
                "surcharge": "0.00",
                "roundingAmount": "0.00",
            }
        ],
        "timeOfOpening": "2026-03-14T12:30:51.002Z",
        "timeClosed": "2026-03-14T12:32:00.455Z",
        "cancelled": False,
        "accountProfileCode": "TAKEAWAY",
        "ownerName": "Ana",
        "ownerId": 18048,
        "type": "SALE",
        "externalReferences": [],
        "nbCovers": 1.0,
        "dineIn": False,
        "deviceId": 75126,
        "deviceName": "Counter",
    },
    {
        "accountReference": "c3Rv0Jm2Tq6Xx1fD4wPbkg==",
        "accountFiscId": "A81234.109",
        "receiptId": "R81234.94",
        "source": {"initialAccountId": "A81234.101", "previousAccountId": "A81234.101"},
        "salesLines": [
            {
                "id": "S81234.560",
                "totalNetAmountWithTax": "-4.50",
                "totalNetAmountWithoutTax": "-3.750000",
                "menuListPrice": "4.50",
                "unitCostPrice": "0.90",
                "serviceCharge": "0.00",
                "discountAmount": "0.00",
                "taxCode": "VAT20",
                "taxAmount": "-0.750000",
                "taxRatePercentage": "20.00",
                "totalDiscountAmount": "0.00",
                "sku": "SID-FRY",
                "name": "Skin-on Fries",
                "quantity": "-1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132845,
                    "name": "Food",
                    "code": "4000",
                },
                "currency": "GBP",
                "timeOfSale": "2026-03-14T21:40:12.000Z",
                "staffId": 1,
                "staffName": "Manager",
                "deviceId": 75126,
                "deviceName": "Counter",
            }
        ],
        "payments": [
            {
                "code": "CARD",
                "description": "Card",
                "paymentMethodId": 141948669132830,
                "netAmountWithTax": "-4.50",
                "currency": "GBP",
                "tip": "0.00",
                "type": "NORMAL",
                "deviceId": "75126",
                "deviceName": "Counter",
                "staffId": 1,
                "staffName": "Manager",
                "fiscId": "T81234.230",
                "uuid": "pW0m2Qx9Rj6s1Lk3Ve8aYg==",
                "fiscDate": "2026-03-14T21:40:30.000Z",
                "surcharge": "0.00",
                "roundingAmount": "0.00",
            }
        ],
        "timeOfOpening": "2026-03-14T21:39:58.000Z",
        "timeClosed": "2026-03-14T21:40:30.050Z",
        "cancelled": False,
        "ownerName": "Manager",
        "ownerId": 1,
        "type": "REFUND",
        "externalReferences": [],
        "nbCovers": 0.0,
        "dineIn": False,
        "deviceId": 75126,
        "deviceName": "Counter",
    },
    {
        "accountReference": "H2n8Qy4cSvOtq0b7EaJm1w==",
        "accountFiscId": "A81234.110",
        "source": {"initialAccountId": "A81234.110"},
        "salesLines": [
            {
                "id": "S81234.570",
                "totalNetAmountWithTax": "12.00",
                "totalNetAmountWithoutTax": "10.000000",
                "menuListPrice": "12.00",
                "taxCode": "VAT20",
                "taxAmount": "2.000000",
                "taxRatePercentage": "20.00",
                "sku": "BRG-01",
                "name": "Harbour Burger",
                "quantity": "1.000",
                "accountingGroup": {
                    "accountingGroupId": 141948669132845,
                    "name": "Food",
                    "code": "4000",
                },
                "currency": "GBP",
                "timeOfSale": "2026-03-14T22:05:00.000Z",
                "voidReason": "Waited too long",
            }
        ],
        "payments": [],
        "timeOfOpening": "2026-03-14T22:04:41.000Z",
        "timeClosed": "2026-03-14T22:20:00.000Z",
        "cancelled": True,
        "voidReason": "Waited too long",
        "ownerName": "Sam",
        "ownerId": 14670,
        "type": "SALE",
        "nbCovers": 1.0,
        "dineIn": True,
        "deviceId": 75125,
        "deviceName": "iPad 2",
    },
]
