"""The fake SIDES tenant's data: stores, the product catalogue and daily sales reports.

Everything here is plain data with no JSON key names (those live in ``api.py``). Instants are
kept in UTC and only turned into the store's local offset when serialised, because Python
compares and subtracts two datetimes that share a ``tzinfo`` by wall-clock time, which is
wrong across a DST change.

Business day ``D`` of a store is ``[D + day_start, D+1 + day_start)`` built from local
wall-clock times (reference §6.8), so DST days last 23 or 25 hours. An order belongs to the
day that holds its ``completed_at`` (cancelled orders: ``cancelled_at``).

Store 36 on 2025-03-14 is the golden day of reference §6.6, written out by hand. Every other
day is generated on demand from ``random.Random`` seeded with a SHA-256 digest of
``(seed, store, date)``, so the same seed always gives the same day, and a day never depends
on the catalogue edits a test makes later (fiscal records are immutable).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

TENANT_KEY = "5f0c1a2b3d4e5"
TENANT_NAME = "Pizzeria Beispiel GmbH"
TENANT_TIMEZONE = "Europe/Berlin"
"""Catalogue timestamps are shown with the tenant's (Berlin) offset."""

PRODUCT_TYPES = (
    "sales_item",
    "topping",
    "menu",
    "raw_material",
    "credit",
    "packaging",
    "deposit",
)
PRICE_CATEGORIES = ("in_house", "pickup", "delivery")


def money(value: Decimal | str | int) -> Decimal:
    """Two decimal places, and never ``-0.00``."""
    amount = Decimal(value).quantize(CENT)
    return amount if amount != 0 else ZERO


def at(text: str) -> datetime:
    """An ISO 8601 timestamp with offset, as a UTC instant."""
    return datetime.fromisoformat(text).astimezone(UTC)


# --------------------------------------------------------------------------- stores


@dataclass(frozen=True)
class Store:
    id: int
    number: str
    name: str
    active: bool
    franchise_partner: tuple[int, str] | None
    street: str
    zip: str
    city: str
    country: str
    timezone: str
    currency: str
    day_start: time
    channels: tuple[tuple[str, bool], ...]
    updated_at: datetime
    closed_weekdays: frozenset[int] = frozenset()
    """Weekdays (Monday = 0) the store does not trade: those days are empty."""
    sales_until: date | None = None
    """Last trading day of a store that has shut down."""
    price_list: int | None = None
    """A branch sells the products of this store at its prices (``None``: its own)."""

    @property
    def price_list_id(self) -> int:
        return self.price_list if self.price_list is not None else self.id

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window(self, day: date) -> tuple[datetime, datetime]:
        """``[start, end)`` of business date ``day`` as UTC instants, from local wall times."""
        start = datetime.combine(day, self.day_start, tzinfo=self.tz)
        end = datetime.combine(day + ONE_DAY, self.day_start, tzinfo=self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def business_date(self, instant: datetime) -> date:
        """The business date whose window holds ``instant``."""
        day = instant.astimezone(self.tz).date()
        start, end = self.window(day)
        if instant < start:
            return day - ONE_DAY
        if instant >= end:
            return day + ONE_DAY
        return day

    def trades_on(self, day: date) -> bool:
        if day.weekday() in self.closed_weekdays:
            return False
        return self.sales_until is None or day <= self.sales_until


def _channels(**flags: bool) -> tuple[tuple[str, bool], ...]:
    names = ("pos", "webshop", "mobile_webshop", "app", "callcenter", "portal")
    return tuple((name, flags.get(name, False)) for name in names)


def build_stores() -> dict[int, Store]:
    """The three stores of reference §6.4."""
    stores = [
        Store(
            id=36,
            number="036",
            name="Pizzeria Beispiel Teltow",
            active=True,
            franchise_partner=(7, "Beispiel Gastro UG"),
            street="Hauptstraße 1",
            zip="14513",
            city="Teltow",
            country="DE",
            timezone="Europe/Berlin",
            currency="EUR",
            day_start=time(5, 0),
            channels=_channels(pos=True, webshop=True, mobile_webshop=True, app=True, portal=True),
            updated_at=at("2025-02-20T10:11:00+01:00"),
            closed_weekdays=frozenset({0}),
        ),
        Store(
            id=41,
            number="041",
            name="Pizzeria Beispiel Delivery Kitchen Mitte",
            active=True,
            franchise_partner=None,
            street="Torstraße 99",
            zip="10119",
            city="Berlin",
            country="DE",
            timezone="Europe/Berlin",
            currency="EUR",
            day_start=time(0, 0),
            channels=_channels(
                webshop=True, mobile_webshop=True, app=True, callcenter=True, portal=True
            ),
            updated_at=at("2025-01-05T08:00:00+01:00"),
        ),
        Store(
            id=12,
            number="012",
            name="Alt-Standort (geschlossen)",
            active=False,
            franchise_partner=None,
            street="Bahnhofstr. 3",
            zip="8001",
            city="Zürich",
            country="CH",
            timezone="Europe/Zurich",
            currency="CHF",
            day_start=time(4, 0),
            channels=_channels(pos=True),
            updated_at=at("2024-06-30T23:00:00+02:00"),
            sales_until=date(2024, 6, 30),
        ),
    ]
    return {store.id: store for store in stores}


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Price:
    store_id: int
    category: str
    price: Decimal


@dataclass(frozen=True)
class MenuGroup:
    id: int
    name: str
    min: int
    max: int
    product_ids: tuple[int, ...]


@dataclass(frozen=True)
class Product:
    id: int
    item_number: str
    name: str
    type: str
    commodity_group: tuple[int, str] | None
    updated_at: datetime
    short_name: str | None = None
    kitchen_name: str | None = None
    active: bool = True
    discountable: bool = True
    vat_in_house: Decimal | None = None
    vat_takeaway: Decimal | None = None
    prices: tuple[Price, ...] = ()
    recipe_toppings: tuple[tuple[int, Decimal], ...] = ()
    topping_group_ids: tuple[int, ...] = ()
    deposit_product_id: int | None = None
    menu_groups: tuple[MenuGroup, ...] | None = None
    inactive_in_stores: frozenset[int] = frozenset()

    def price_for(self, store_id: int, category: str) -> Decimal | None:
        """The store's price for ``category``, falling back to another category."""
        prices = {p.category: p.price for p in self.prices if p.store_id == store_id}
        for name in (category, "in_house", "pickup", "delivery"):
            if name in prices:
                return prices[name]
        return None

    def sellable_in(self, store_id: int) -> bool:
        return (
            self.active
            and store_id not in self.inactive_in_stores
            and self.price_for(store_id, "in_house") is not None
        )


GROUP_PIZZA = (278, "Pizza")
GROUP_DRINKS = (279, "Getränke")
GROUP_PASTA = (280, "Pasta")
GROUP_DESSERT = (281, "Dessert")
GROUP_SALAD = (282, "Salate")
GROUP_SNACKS = (283, "Snacks & Vorspeisen")
GROUP_DIPS = (284, "Dips & Saucen")
GROUP_TOPPINGS = (285, "Toppings")
GROUP_RAW = (286, "Rohstoffe")
GROUP_VOUCHERS = (289, "Gutscheine")
GROUP_MENUS = (290, "Menüs")

TOPPING_GROUP_PIZZA = 12
TOPPING_GROUP_PASTA = 13
TOPPING_GROUP_PIZZA_IDS = (7001, 7035)
"""Toppings 7001..7035 form topping group 12 (pizza); 7036..7040 group 13 (pasta)."""

VAT_19 = Decimal("19.00")
VAT_7 = Decimal("7.00")
VAT_0 = Decimal("0.00")

_CATALOGUE_DATE = at("2025-02-01T09:00:00+01:00")
_OLD_DATE = at("2024-01-01T00:00:00+01:00")


def _d(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _prices(
    in_house: str | None, pickup: str | None = None, delivery: str | None = None
) -> tuple[Price, ...]:
    """Store 36 gets exactly the given prices; 41 (delivery only) pickup and delivery; 12 CHF."""
    ih, pu, de = _d(in_house), _d(pickup), _d(delivery)
    prices = [
        Price(36, name, value)
        for name, value in (("in_house", ih), ("pickup", pu), ("delivery", de))
        if value is not None
    ]
    pickup_41 = pu or ih
    delivery_41 = de or pu or ih
    if pickup_41 is not None:
        prices.append(Price(41, "pickup", pickup_41))
    if delivery_41 is not None:
        prices.append(Price(41, "delivery", delivery_41))
    base = ih or pu or de
    if base is not None:
        chf = (base * Decimal("1.6")).quantize(Decimal("0.1")).quantize(CENT)
        prices += [Price(12, "in_house", chf), Price(12, "pickup", chf)]
    return tuple(prices)


def _uniform(price: str, delivery_extra: str = "1.00") -> tuple[Price, ...]:
    delivery = str(Decimal(price) + Decimal(delivery_extra))
    return _prices(price, price, delivery)


TOPPINGS: tuple[tuple[int, str, str, str | None], ...] = (
    # id, item number, name, price (None: no surcharge, e.g. the base cheese)
    (7001, "T-01", "Mozzarella", None),
    (7002, "T-02", "Salami", "1.00"),
    (7003, "T-05", "Basilikum", None),
    (7004, "T-03", "Kochschinken", "1.50"),
    (7005, "T-04", "Champignons", "1.00"),
    (7006, "T-06", "Ananas", "1.00"),
    (7007, "T-07", "Scharfe Salami", "1.50"),
    (7008, "T-08", "Peperoni", "1.00"),
    (7009, "T-09", "Gorgonzola", "1.50"),
    (7010, "T-10", "Parmesan", "1.50"),
    (7011, "T-11", "Edamer", "1.00"),
    (7012, "T-12", "Paprika", "1.00"),
    (7013, "T-13", "Zwiebeln", "1.00"),
    (7014, "T-14", "Oliven", "1.00"),
    (7015, "T-15", "Spinat", "1.00"),
    (7016, "T-16", "Knoblauch", "0.50"),
    (7017, "T-17", "Artischocken", "1.50"),
    (7018, "T-18", "Rucola", "1.00"),
    (7019, "T-19", "Parmaschinken", "2.00"),
    (7020, "T-20", "Meeresfrüchte", "2.50"),
    (7021, "T-21", "Crème fraîche", "1.00"),
    (7022, "T-22", "Speck", "1.50"),
    (7023, "T-23", "Thunfisch", "1.50"),
    (7024, "T-24", "Hähnchenbrust", "2.00"),
    (7025, "T-25", "Mais", "1.00"),
    (7026, "T-26", "Jalapeños", "1.00"),
    (7027, "T-27", "Kirschtomaten", "1.00"),
    (7028, "T-28", "Feta", "1.50"),
    (7029, "T-29", "Sardellen", "1.50"),
    (7030, "T-30", "Ei", "1.00"),
    (7031, "T-31", "Brokkoli", "1.00"),
    (7032, "T-32", "Getrocknete Tomaten", "1.50"),
    (7033, "T-33", "Extra Käse", "1.50"),
    (7034, "T-34", "Büffelmozzarella", "2.50"),
    (7035, "T-35", "Trüffelöl", "2.00"),
    (7036, "P-01", "Extra Parmesan (Pasta)", "1.00"),
    (7037, "P-02", "Chiliflocken", "0.50"),
    (7038, "P-03", "Extra Soße", "1.00"),
    (7039, "P-04", "Garnelen", "3.00"),
    (7040, "P-05", "Glutenfreie Pasta", "1.50"),
)

PIZZAS: tuple[tuple[int, str, str, str, str, tuple[int, ...], bool], ...] = (
    # id, number, name, short, in-house price, recipe toppings, active
    (5018, "103", "Pizza Prosciutto", "Prosc.", "9.50", (7001, 7004), True),
    (5019, "104", "Pizza Funghi", "Funghi", "9.00", (7001, 7005), True),
    (5020, "105", "Pizza Hawaii", "Hawaii", "9.90", (7001, 7004, 7006), True),
    (5021, "106", "Pizza Diavola", "Diavola", "10.50", (7001, 7007, 7008), True),
    (5022, "107", "Pizza Quattro Formaggi", "4Form.", "10.90", (7001, 7009, 7010, 7011), True),
    (5023, "108", "Pizza Vegetaria", "Veget.", "10.50", (7001, 7005, 7012, 7013, 7014), True),
    (5024, "109", "Pizza Spinaci", "Spinaci", "9.90", (7001, 7015, 7016), True),
    (5025, "110", "Pizza Capricciosa", "Capric.", "10.90", (7001, 7004, 7005, 7017), True),
    (5026, "111", "Calzone", "Calzone", "10.90", (7001, 7004, 7005), True),
    (5027, "112", "Pizza Rucola", "Rucola", "11.90", (7001, 7018, 7019, 7010), True),
    (5028, "113", "Pizza Frutti di Mare", "Frutti", "12.50", (7001, 7020, 7016), True),
    (5029, "114", "Pizza Bianca (Saison)", "Bianca", "11.50", (7001, 7021, 7022), False),
)

FAMILY_PIZZAS: tuple[tuple[int, str, str, str, tuple[int, ...]], ...] = tuple(
    (5102 + i, str(151 + i), f"Familienpizza {name}", price, recipe)
    for i, (name, price, recipe) in enumerate(
        (
            ("Margherita", "17.90", (7001, 7003)),
            ("Salami", "18.90", (7001, 7002)),
            ("Prosciutto", "19.50", (7001, 7004)),
            ("Funghi", "18.90", (7001, 7005)),
            ("Hawaii", "19.90", (7001, 7004, 7006)),
            ("Diavola", "20.50", (7001, 7007, 7008)),
            ("Vegetaria", "20.50", (7001, 7005, 7012, 7013, 7014)),
            ("Tonno", "20.50", (7001, 7023, 7013)),
            ("Quattro Formaggi", "21.50", (7001, 7009, 7010, 7011)),
            ("Capricciosa", "21.50", (7001, 7004, 7005, 7017)),
        )
    )
)

PASTA: tuple[tuple[str, str], ...] = (
    ("Spaghetti Bolognese", "9.50"),
    ("Spaghetti Carbonara", "9.90"),
    ("Spaghetti Aglio e Olio", "7.90"),
    ("Penne Arrabbiata", "8.50"),
    ("Tagliatelle al Salmone", "12.50"),
    ("Lasagne al Forno", "10.50"),
    ("Rigatoni al Forno", "10.50"),
    ("Tortellini Panna", "9.90"),
    ("Gnocchi Gorgonzola", "10.50"),
    ("Spaghetti Napoli", "7.90"),
    ("Penne Pollo", "11.50"),
    ("Farfalle Pesto", "9.50"),
    ("Spaghetti Frutti di Mare", "13.90"),
    ("Maccheroni al Formaggio", "9.50"),
    ("Ravioli Spinat-Ricotta", "10.90"),
    ("Linguine Scampi", "14.50"),
)
SALADS: tuple[tuple[str, str], ...] = (
    ("Insalata Mista", "6.50"),
    ("Caesar Salad", "9.50"),
    ("Thunfischsalat", "9.50"),
    ("Insalata Caprese", "8.90"),
    ("Chefsalat", "9.90"),
    ("Rucola-Salat", "8.50"),
    ("Griechischer Salat", "8.90"),
    ("Hähnchensalat", "10.50"),
    ("Kleiner Salat", "4.50"),
    ("Salat Frutti di Mare", "12.90"),
)
SNACKS: tuple[tuple[str, str], ...] = (
    ("Pizzabrötchen 6 Stk", "4.90"),
    ("Knoblauchbrot", "4.50"),
    ("Bruschetta", "5.50"),
    ("Chicken Wings 8 Stk", "8.90"),
    ("Mozzarella Sticks", "6.50"),
    ("Pommes Frites", "3.90"),
    ("Süßkartoffel-Pommes", "4.90"),
    ("Onion Rings", "4.90"),
    ("Antipasti-Teller", "11.50"),
    ("Oliven mariniert", "4.50"),
    ("Focaccia Rosmarin", "5.50"),
    ("Chicken Nuggets 9 Stk", "6.90"),
    ("Falafel 6 Stk", "6.50"),
    ("Calamari fritti", "9.50"),
    ("Garlic Knots", "4.90"),
)
DIPS: tuple[tuple[str, str], ...] = (
    ("Aioli", "1.20"),
    ("Kräuterdip", "1.20"),
    ("BBQ-Sauce", "1.20"),
    ("Sweet-Chili-Dip", "1.20"),
    ("Ketchup", "0.80"),
    ("Mayonnaise", "0.80"),
    ("Curry-Dip", "1.20"),
    ("Sour Cream", "1.20"),
    ("Pesto-Dip", "1.50"),
    ("Trüffelmayo", "1.90"),
    ("Joghurt-Dip", "1.20"),
    ("Salsa", "1.20"),
)
DESSERTS: tuple[tuple[str, str], ...] = (
    ("Panna Cotta", "4.50"),
    ("Schoko-Muffin", "3.50"),
    ("Eis 3 Kugeln", "4.90"),
    ("Cheesecake", "4.90"),
    ("Apfelstrudel", "4.90"),
    ("Brownie", "3.90"),
    ("Mousse au Chocolat", "4.50"),
)
DEPOSITS: tuple[tuple[int, str, str, str], ...] = (
    (9001, "PF-025", "Pfand 0,25 €", "0.25"),
    (9002, "PF-008", "Pfand 0,08 €", "0.08"),
    (9003, "PF-015", "Pfand 0,15 €", "0.15"),
    (9004, "PF-310", "Pfand Kasten 3,10 €", "3.10"),
    (9005, "PF-500", "Pfand Mehrwegbox 5,00 €", "5.00"),
)
DRINKS: tuple[tuple[str, str, int | None, bool], ...] = (
    # name (8002...), in-house price, deposit product, active
    ("Cola Zero 0,33l", "2.50", 9001, True),
    ("Fanta 0,33l", "2.50", 9001, True),
    ("Sprite 0,33l", "2.50", 9001, True),
    ("Cola 1,0l", "3.90", 9001, True),
    ("Fanta 1,0l", "3.90", 9001, True),
    ("Wasser still 0,5l", "2.20", 9001, True),
    ("Wasser sprudelnd 0,5l", "2.20", 9001, True),
    ("Apfelschorle 0,5l", "2.80", 9001, True),
    ("Eistee Pfirsich 0,5l", "2.80", 9001, True),
    ("Club-Mate 0,5l", "3.20", 9003, True),
    ("Bier Pils 0,33l", "3.20", 9002, True),
    ("Weizenbier 0,5l", "4.20", 9002, True),
    ("Radler 0,33l", "3.20", 9002, True),
    ("Alkoholfreies Bier 0,33l", "3.20", 9002, True),
    ("Rotwein Montepulciano 0,75l", "16.90", None, True),
    ("Weißwein Pinot Grigio 0,75l", "16.90", None, True),
    ("Prosecco 0,2l", "4.90", None, True),
    ("Espresso", "2.20", None, True),
    ("Cappuccino", "3.20", None, True),
    ("Latte Macchiato", "3.60", None, True),
    ("Tee", "2.50", None, True),
    ("Orangensaft 0,2l", "2.90", None, True),
    ("Lemonaid Maracuja 0,33l", "3.40", 9003, True),
    ("Ginger Ale 0,2l", "2.90", 9003, True),
    ("Mezzo Mix 0,33l", "2.50", 9001, True),
    ("Spezi 0,5l", "2.80", 9001, True),
    ("Tonic Water 0,2l", "2.90", 9003, True),
    ("Cola Vanille 0,33l (Aktion)", "2.50", 9001, False),
    ("Energy Drink 0,25l", "3.20", 9001, True),
    ("Aperol Spritz", "6.90", None, True),
    ("Limoncello 2cl", "3.50", None, True),
    ("Grappa 2cl", "3.50", None, True),
    ("Kakao", "3.20", None, True),
    ("Wasser Karaffe 1,0l", "4.50", None, True),
)
HOT_DRINKS = frozenset({"Espresso", "Cappuccino", "Latte Macchiato", "Tee", "Kakao"})
"""Not sold by store 41 (a delivery kitchen)."""

RAW_MATERIALS: tuple[str, ...] = (
    "Mehl Tipo 00",
    "Hefe frisch",
    "Meersalz",
    "Olivenöl extra vergine",
    "Tomaten passiert",
    "Mozzarella Fior di Latte",
    "Salami am Stück",
    "Kochschinken am Stück",
    "Champignons frisch",
    "Basilikum frisch",
    "Oregano getrocknet",
    "Knoblauch",
    "Zwiebeln",
    "Paprika rot",
    "Paprika grün",
    "Oliven schwarz",
    "Ananas Dose",
    "Thunfisch Dose",
    "Peperoni eingelegt",
    "Spinat TK",
    "Gorgonzola",
    "Parmesan am Stück",
    "Edamer gerieben",
    "Rucola",
    "Parmaschinken",
    "Meeresfrüchte TK",
    "Crème fraîche",
    "Speck gewürfelt",
    "Spaghetti",
    "Penne",
    "Tagliatelle",
    "Lasagneplatten",
    "Hackfleisch gemischt",
    "Sahne 30%",
    "Eier",
    "Butter",
    "Zucker",
    "Mascarpone",
    "Löffelbiskuits",
    "Kakaopulver",
    "Kaffeebohnen",
    "Milch 3,5%",
    "Hähnchenbrust",
    "Pommes TK",
    "Frittieröl",
    "Salatmix",
    "Kirschtomaten",
    "Gurken",
    "Balsamico",
    "Feta",
)
PACKAGING: tuple[str, ...] = (
    "Pizzakarton 32cm",
    "Pizzakarton 26cm",
    "Pizzakarton 40cm",
    "Pastabox",
    "Salatschale mit Deckel",
    "Dipbecher 50ml",
    "Dipdeckel",
    "Tragetasche Papier",
    "Serviette",
    "Besteckset Holz",
    "Dessertbecher",
    "Getränketräger",
    "Alufolie",
    "Pommestüte",
    "Mehrwegbox (Vytal)",
)
CREDITS: tuple[tuple[str, str], ...] = (
    ("Gutschein 10 €", "10.00"),
    ("Gutschein 25 €", "25.00"),
    ("Gutschein 50 €", "50.00"),
    ("Kundenguthaben", "1.00"),
    ("Geburtstagsgutschein 5 €", "5.00"),
    ("Firmengutschein 100 €", "100.00"),
)
MENUS: tuple[tuple[str, str, tuple[tuple[str, int, int, tuple[int, ...]], ...]], ...] = (
    # name (6002...), price, groups (name, min, max, product ids)
    (
        "Mittagsmenü Pizza",
        "11.90",
        (("Pizza", 1, 1, (5016, 5017, 5018, 5019)), ("Getränk", 1, 1, (8001, 8002, 8003))),
    ),
    (
        "Mittagsmenü Pasta",
        "11.50",
        (
            ("Pasta", 1, 1, (5040, 5041, 5043, 5049)),
            ("Salat", 1, 1, (5068,)),
            ("Getränk", 1, 1, (8001, 8007, 8008)),
        ),
    ),
    (
        "Party Box",
        "49.90",
        (
            ("Pizza", 4, 4, (5016, 5017, 5018, 5020, 5021)),
            ("Getränke", 2, 2, (8005, 8006)),
            ("Dessert", 2, 2, (5030, 5031)),
        ),
    ),
    (
        "Pizza & Dip Deal",
        "10.90",
        (("Pizza", 1, 1, (5016, 5017, 5019)), ("Dips", 2, 2, (5090, 5091, 5092))),
    ),
    (
        "Salat-Menü",
        "12.90",
        (("Salat", 1, 1, (5061, 5062, 5067)), ("Brot", 1, 1, (5071,)), ("Getränk", 1, 1, (8007,))),
    ),
    (
        "Snack Box",
        "14.90",
        (("Snacks", 3, 3, (5073, 5074, 5075, 5077)), ("Dips", 2, 2, (5090, 5092, 5093))),
    ),
    (
        "Studenten-Menü",
        "8.90",
        (("Pizza", 1, 1, (5016, 5017)), ("Getränk", 1, 1, (8001, 8004))),
    ),
    (
        "Date Night",
        "39.90",
        (
            ("Pizza", 2, 2, (5022, 5025, 5027)),
            ("Wein", 1, 1, (8016, 8017)),
            ("Dessert", 2, 2, (5030, 5035)),
        ),
    ),
    (
        "Kinder-Menü",
        "7.50",
        (("Hauptgericht", 1, 1, (5016, 5049, 5081)), ("Getränk", 1, 1, (8009, 8010))),
    ),
    (
        "Wings Deal",
        "13.90",
        (("Wings", 1, 1, (5073,)), ("Beilage", 1, 1, (5075, 5076)), ("Getränk", 1, 1, (8001,))),
    ),
    (
        "Pasta für Zwei",
        "22.90",
        (("Pasta", 2, 2, (5040, 5041, 5045, 5047)), ("Getränke", 2, 2, (8001, 8008, 8012))),
    ),
)


def build_catalogue() -> dict[int, Product]:
    """About 250 products of every type, including every product of reference §6.5."""
    products: list[Product] = []
    add = products.append
    pizza_vat = {"vat_in_house": VAT_19, "vat_takeaway": VAT_7}
    drink_vat = {"vat_in_house": VAT_19, "vat_takeaway": VAT_19}

    # ----- the products of reference §6.5, exactly
    add(
        Product(
            5016,
            "101",
            "Pizza Margherita",
            "sales_item",
            GROUP_PIZZA,
            _CATALOGUE_DATE,
            short_name="Margh.",
            kitchen_name="Margherita",
            prices=_prices("8.50", "8.50", "9.50"),
            recipe_toppings=((7001, Decimal(1)), (7003, Decimal(1))),
            topping_group_ids=(TOPPING_GROUP_PIZZA,),
            **pizza_vat,
        )
    )
    add(
        Product(
            5017,
            "102",
            "Pizza Salami",
            "sales_item",
            GROUP_PIZZA,
            _CATALOGUE_DATE,
            short_name="Salami",
            kitchen_name="Salami",
            prices=_prices("9.00", "9.00", "9.90"),
            recipe_toppings=((7001, Decimal(1)), (7002, Decimal(1))),
            topping_group_ids=(TOPPING_GROUP_PIZZA,),
            **pizza_vat,
        )
    )
    add(
        Product(
            6001,
            "M-10",
            "Family Box",
            "menu",
            GROUP_MENUS,
            _CATALOGUE_DATE,
            short_name="FamBox",
            kitchen_name="Family Box",
            prices=_prices(None, None, "24.90"),
            menu_groups=(
                MenuGroup(61, "Pizza", 2, 2, (5016, 5017)),
                MenuGroup(62, "Getränke", 2, 2, (8001,)),
            ),
        )
    )
    add(
        Product(
            8001,
            "201",
            "Cola 0,33l",
            "sales_item",
            GROUP_DRINKS,
            _CATALOGUE_DATE,
            short_name="Cola",
            kitchen_name="Cola",
            prices=_prices("2.50", None, "2.50"),
            deposit_product_id=9001,
            **drink_vat,
        )
    )
    add(
        Product(
            5030,
            "401",
            "Tiramisu",
            "sales_item",
            GROUP_DESSERT,
            _CATALOGUE_DATE,
            prices=_prices("4.90"),
            **pizza_vat,
        )
    )
    for topping_id, number, name, price in TOPPINGS:
        # §6.5: 7002 has an in-house price only; 7001 and 7003 carry no surcharge at all.
        if topping_id == 7002:
            topping_prices = _prices(price)
        elif price is None:
            topping_prices = ()
        else:
            topping_prices = _prices(price, price, price)
        add(
            Product(
                topping_id,
                number,
                name,
                "topping",
                GROUP_TOPPINGS,
                _CATALOGUE_DATE,
                prices=topping_prices,
                **pizza_vat,
            )
        )
    for deposit_id, number, name, price in DEPOSITS:
        add(
            Product(
                deposit_id,
                number,
                name,
                "deposit",
                None,
                _OLD_DATE,
                discountable=False,
                prices=tuple(
                    Price(store_id, category, Decimal(price))
                    for store_id in (36, 41)
                    for category in PRICE_CATEGORIES
                ),
                **drink_vat,
            )
        )
    for index, name in enumerate(PACKAGING):
        add(
            Product(
                9501 + index,
                f"VP-{index + 1:02d}",
                name,
                "packaging",
                None,
                _OLD_DATE,
                discountable=False,
            )
        )

    # ----- the rest of the tenant's catalogue
    for pid, number, name, short, price, recipe, active in PIZZAS:
        add(
            Product(
                pid,
                number,
                name,
                "sales_item",
                GROUP_PIZZA,
                _CATALOGUE_DATE,
                short_name=short,
                kitchen_name=name.removeprefix("Pizza "),
                active=active,
                prices=_uniform(price),
                recipe_toppings=tuple((t, Decimal(1)) for t in recipe),
                topping_group_ids=(TOPPING_GROUP_PIZZA,),
                **pizza_vat,
            )
        )
    for pid, number, name, price, recipe in FAMILY_PIZZAS:
        add(
            Product(
                pid,
                number,
                name,
                "sales_item",
                GROUP_PIZZA,
                at("2025-02-12T14:30:00+01:00"),
                prices=_uniform(price, "1.50"),
                recipe_toppings=tuple((t, Decimal(2)) for t in recipe),
                topping_group_ids=(TOPPING_GROUP_PIZZA,),
                inactive_in_stores=frozenset({41}),
                **pizza_vat,
            )
        )
    simple: Sequence[tuple[int, str, tuple[int, str], tuple[tuple[str, str], ...]]] = (
        (5031, "4", GROUP_DESSERT, DESSERTS),
        (5040, "3", GROUP_PASTA, PASTA),
        (5060, "5", GROUP_SALAD, SALADS),
        (5070, "6", GROUP_SNACKS, SNACKS),
        (5090, "7", GROUP_DIPS, DIPS),
    )
    for first_id, prefix, group, items in simple:
        offset = 2 if group == GROUP_DESSERT else 1
        for index, (name, price) in enumerate(items):
            add(
                Product(
                    first_id + index,
                    f"{prefix}{index + offset:02d}",
                    name,
                    "sales_item",
                    group,
                    _CATALOGUE_DATE,
                    prices=_uniform(price, "0.00" if group == GROUP_DIPS else "0.50"),
                    topping_group_ids=(TOPPING_GROUP_PASTA,) if group == GROUP_PASTA else (),
                    **pizza_vat,
                )
            )
    for index, (name, price, deposit, active) in enumerate(DRINKS):
        add(
            Product(
                8002 + index,
                f"2{index + 2:02d}",
                name,
                "sales_item",
                GROUP_DRINKS,
                _CATALOGUE_DATE,
                active=active,
                prices=_uniform(price, "0.00"),
                deposit_product_id=deposit,
                inactive_in_stores=frozenset({41}) if name in HOT_DRINKS else frozenset(),
                **drink_vat,
            )
        )
    group_id = 63
    for index, (name, price, groups) in enumerate(MENUS):
        menu_groups = []
        for group_name, low, high, product_ids in groups:
            menu_groups.append(MenuGroup(group_id, group_name, low, high, product_ids))
            group_id += 1
        add(
            Product(
                6002 + index,
                f"M-{11 + index}",
                name,
                "menu",
                GROUP_MENUS,
                at("2025-02-10T10:00:00+01:00"),
                prices=_uniform(price, "0.00"),
                menu_groups=tuple(menu_groups),
            )
        )
    for index, name in enumerate(RAW_MATERIALS):
        add(
            Product(
                9601 + index,
                f"R-{index + 1:03d}",
                name,
                "raw_material",
                GROUP_RAW,
                _OLD_DATE,
                discountable=False,
            )
        )
    for index, (name, price) in enumerate(CREDITS):
        add(
            Product(
                9801 + index,
                f"GS-{index + 1:02d}",
                name,
                "credit",
                GROUP_VOUCHERS,
                _OLD_DATE,
                discountable=False,
                vat_in_house=VAT_0,
                vat_takeaway=VAT_0,
                prices=_prices(price),
            )
        )
    catalogue = {product.id: product for product in products}
    if len(catalogue) != len(products):
        raise AssertionError("duplicate product ids in the sandbox catalogue")
    return catalogue


# --------------------------------------------------------------------------- orders


@dataclass(frozen=True)
class Position:
    id: int
    line: int
    parent_id: int | None
    position_type: str
    product_id: int | None
    item_number: str | None
    name: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    vat_rate: Decimal | None
    in_house: bool
    portal_item_name: str | None = None
    commodity_group_id: int | None = None
    menu_group_id: int | None = None
    unit_quantity: Decimal | None = None
    vat_split: tuple[tuple[Decimal, Decimal], ...] | None = None
    status: str = "active"
    voided_at: datetime | None = None
    void_reason: str | None = None
    restock: bool | None = None
    voucher_code: str | None = None


@dataclass(frozen=True)
class Payment:
    method: str
    amount: Decimal
    provider: str | None = None


@dataclass(frozen=True)
class Order:
    id: int
    number: str
    store_id: int
    business_date: date
    order_type: str
    status: str
    channel: str
    fulfillment: str
    created_at: datetime
    currency: str
    total_gross: Decimal
    payments: tuple[Payment, ...]
    positions: tuple[Position, ...]
    reference_order_id: int | None = None
    portal: str | None = None
    table: str | None = None
    employee: tuple[int, str] | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None

    @property
    def settled_at(self) -> datetime:
        """The instant that assigns the order to a business day (reference §6.8)."""
        instant = self.completed_at or self.cancelled_at
        if instant is None:
            raise AssertionError(f"order {self.id} is neither completed nor cancelled")
        return instant


def sort_key(order: Order) -> tuple[datetime, int]:
    """Reference §6.9: by ``completed_at`` or ``cancelled_at``, then ``id``."""
    return order.settled_at, order.id


@dataclass(frozen=True)
class Day:
    """A whole business day; what a report shows depends on the clock (see ``visible``)."""

    store: Store
    business_date: date
    start: datetime
    end: datetime
    closed_at: datetime | None
    """The Z closing, shown once the day is closed; None on a day without sales."""
    orders: tuple[Order, ...]

    def is_closed(self, now: datetime) -> bool:
        return now >= self.end

    def visible(self, now: datetime) -> tuple[Order, ...]:
        """Orders settled by ``now``: everything once closed, a partial day today."""
        if self.is_closed(now):
            return self.orders
        return tuple(order for order in self.orders if order.settled_at <= now)


@dataclass(frozen=True)
class Summary:
    orders: int
    completed: int
    cancelled: int
    refunds: int
    gross_completed: Decimal


def summarize(orders: Iterable[Order]) -> Summary:
    orders = list(orders)
    completed = [order for order in orders if order.status == "completed"]
    return Summary(
        orders=len(orders),
        completed=len(completed),
        cancelled=sum(order.status == "cancelled" for order in orders),
        refunds=sum(order.order_type == "refund" for order in orders),
        gross_completed=money(sum((order.total_gross for order in completed), ZERO)),
    )


# --------------------------------------------------------------------------- golden day

GOLDEN_STORE_ID = 36
GOLDEN_DATE = date(2025, 3, 14)


def _golden_position(
    id: int,
    line: int,
    parent_id: int | None,
    position_type: str,
    product: tuple[int, str] | None,
    name: str,
    quantity: int,
    unit_price: str,
    total: str,
    vat_rate: str | None,
    in_house: bool,
    *,
    unit_quantity: int | None = None,
    commodity_group_id: int | None = None,
    menu_group_id: int | None = None,
    portal_item_name: str | None = None,
    vat_split: tuple[tuple[Decimal, Decimal], ...] | None = None,
    voided: tuple[str, str] | None = None,
    restock: bool | None = None,
    voucher_code: str | None = None,
) -> Position:
    return Position(
        id=id,
        line=line,
        parent_id=parent_id,
        position_type=position_type,
        product_id=product[0] if product else None,
        item_number=product[1] if product else None,
        name=name,
        portal_item_name=portal_item_name,
        commodity_group_id=commodity_group_id,
        menu_group_id=menu_group_id,
        quantity=Decimal(quantity),
        unit_quantity=Decimal(unit_quantity) if unit_quantity is not None else None,
        unit_price=Decimal(unit_price),
        total=Decimal(total),
        vat_rate=_d(vat_rate),
        vat_split=vat_split,
        in_house=in_house,
        status="voided" if voided else "active",
        voided_at=at(voided[0]) if voided else None,
        void_reason=voided[1] if voided else None,
        restock=restock,
        voucher_code=voucher_code,
    )


def golden_day(store: Store) -> Day:
    """Store 36 on 2025-03-14, exactly as reference §6.6 shows it."""
    p = _golden_position
    order = partial(Order, store_id=36, business_date=GOLDEN_DATE, currency="EUR")
    margherita, salami, cola, tiramisu = (5016, "101"), (5017, "102"), (8001, "201"), (5030, "401")
    deposit = (9001, "PF-025")
    anna, ben = (57, "Anna"), (58, "Ben")
    # fmt: off
    orders = (
        order(
            id=880001,
            number="036-0001201",
            order_type="sale",
            status="completed",
            channel="pos",
            fulfillment="in_house",
            table="12",
            employee=anna,
            created_at=at("2025-03-14T19:02:11+01:00"),
            completed_at=at("2025-03-14T19:48:40+01:00"),
            total_gross=Decimal("25.50"),
            payments=(Payment("cash", Decimal("25.50")),),
            positions=(
                p(990001, 1, None, "item", margherita, "Pizza Margherita", 2, "8.50", "17.00",
                  "19.00", True, commodity_group_id=278),
                p(990002, 2, 990001, "topping_added", (7002, "T-02"), "+ Salami", 2, "1.00",
                  "2.00", "19.00", True, commodity_group_id=285, unit_quantity=1),
                p(990003, 3, 990001, "topping_removed", (7003, "T-05"), "- Basilikum", 2,
                  "0.00", "0.00", "19.00", True, commodity_group_id=285, unit_quantity=1),
                p(990004, 4, None, "item", cola, "Cola 0,33l", 2, "2.50", "5.00", "19.00", True,
                  commodity_group_id=279),
                p(990005, 5, 990004, "deposit", deposit, "Pfand 0,25 €", 2, "0.25", "0.50",
                  "19.00", True, unit_quantity=1),
                p(990006, 6, None, "item", tiramisu, "Tiramisu", 1, "4.90", "4.90", "19.00",
                  True, commodity_group_id=281,
                  voided=("2025-03-14T19:20:03+01:00", "Falsch boniert")),
                p(990007, 7, None, "tip", None, "Trinkgeld", 1, "1.00", "1.00", "0.00", True),
            ),
        ),
        order(
            id=880002,
            number="036-0001202",
            order_type="sale",
            status="completed",
            channel="webshop",
            fulfillment="delivery",
            created_at=at("2025-03-14T19:30:00+01:00"),
            completed_at=at("2025-03-14T20:05:12+01:00"),
            total_gross=Decimal("24.40"),
            payments=(Payment("online", Decimal("24.40"), "paypal"),),
            positions=(
                p(990011, 1, None, "item", (6001, "M-10"), "Family Box", 1, "24.90", "24.90",
                  None, False, commodity_group_id=290,
                  vat_split=((VAT_7, Decimal("19.90")), (VAT_19, Decimal("5.00")))),
                p(990012, 2, 990011, "menu_component", margherita, "Pizza Margherita", 1,
                  "0.00", "0.00", "7.00", False, commodity_group_id=278, menu_group_id=61,
                  unit_quantity=1),
                p(990013, 3, 990011, "menu_component", salami, "Pizza Salami", 1, "0.00",
                  "0.00", "7.00", False, commodity_group_id=278, menu_group_id=61,
                  unit_quantity=1),
                p(990014, 4, 990011, "menu_component", cola, "Cola 0,33l", 2, "0.00", "0.00",
                  "19.00", False, commodity_group_id=279, menu_group_id=62, unit_quantity=2),
                p(990015, 5, 990014, "deposit", deposit, "Pfand 0,25 €", 2, "0.25", "0.50",
                  "19.00", False, unit_quantity=1),
                p(990016, 6, None, "delivery_fee", None, "Liefergebühr", 1, "2.00", "2.00",
                  "7.00", False),
                p(990017, 7, None, "discount", None, "Gutschein FRUEHLING3", 1, "-3.00",
                  "-3.00", "7.00", False, voucher_code="FRUEHLING3"),
            ),
        ),
        order(
            id=880003,
            number="036-0001203",
            order_type="sale",
            status="completed",
            channel="portal",
            portal="lieferando",
            fulfillment="pickup",
            created_at=at("2025-03-14T20:02:40+01:00"),
            completed_at=at("2025-03-14T20:31:00+01:00"),
            total_gross=Decimal("20.40"),
            payments=(Payment("portal", Decimal("20.40"), "lieferando"),),
            positions=(
                p(990021, 1, None, "item", None, "Pizza Tonno", 1, "10.50", "10.50", "7.00",
                  False, portal_item_name="Pizza Tonno (32cm)"),
                p(990022, 2, None, "item", salami, "Pizza Salami", 1, "9.90", "9.90", "7.00",
                  False, portal_item_name="Pizza Salami (32cm)", commodity_group_id=278),
            ),
        ),
        order(
            id=880004,
            number="036-0001204",
            order_type="sale",
            status="cancelled",
            channel="pos",
            fulfillment="pickup",
            employee=anna,
            created_at=at("2025-03-14T20:15:00+01:00"),
            cancelled_at=at("2025-03-14T20:21:30+01:00"),
            cancellation_reason="Kunde hat storniert",
            total_gross=Decimal("9.00"),
            payments=(),
            positions=(
                p(990031, 1, None, "item", salami, "Pizza Salami", 1, "9.00", "9.00", "7.00",
                  False, commodity_group_id=278),
            ),
        ),
        order(
            id=880005,
            number="036-0001205",
            order_type="refund",
            status="completed",
            reference_order_id=880001,
            channel="pos",
            fulfillment="in_house",
            table="12",
            employee=anna,
            created_at=at("2025-03-14T21:10:00+01:00"),
            completed_at=at("2025-03-14T21:10:30+01:00"),
            total_gross=Decimal("-2.75"),
            payments=(Payment("cash", Decimal("-2.75")),),
            positions=(
                p(990041, 1, None, "item", cola, "Cola 0,33l", -1, "2.50", "-2.50", "19.00",
                  True, commodity_group_id=279, restock=True),
                p(990042, 2, 990041, "deposit", deposit, "Pfand 0,25 €", -1, "0.25", "-0.25",
                  "19.00", True, unit_quantity=1),
            ),
        ),
        order(
            id=880006,
            number="036-0001206",
            order_type="sale",
            status="completed",
            channel="pos",
            fulfillment="pickup",
            employee=ben,
            created_at=at("2025-03-15T00:40:05+01:00"),
            completed_at=at("2025-03-15T00:41:10+01:00"),
            total_gross=Decimal("9.00"),
            payments=(Payment("card", Decimal("9.00")),),
            positions=(
                p(990051, 1, None, "item", salami, "Pizza Salami", 1, "9.00", "9.00", "7.00",
                  False, commodity_group_id=278),
            ),
        ),
    )
    # fmt: on
    start, end = store.window(GOLDEN_DATE)
    return Day(
        store=store,
        business_date=GOLDEN_DATE,
        start=start,
        end=end,
        closed_at=at("2025-03-15T01:15:22+01:00"),
        orders=tuple(sorted(orders, key=sort_key)),
    )


# --------------------------------------------------------------------------- generated days

# Opening profile per store: (from, to, weight) in minutes after local midnight of the
# business date; 1530 is 01:30 the next night.
PROFILES: dict[int, tuple[tuple[int, int, int], ...]] = {
    36: ((690, 870, 3), (1020, 1350, 6), (1350, 1530, 1)),
    41: ((5, 60, 1), (690, 870, 3), (1020, 1439, 6)),
    12: ((660, 840, 3), (1050, 1380, 6), (1380, 1470, 1)),
}
DEFAULT_PROFILE = ((660, 840, 3), (1020, 1380, 6))
STAFF: dict[int, tuple[tuple[int, str], ...]] = {
    36: ((57, "Anna"), (58, "Ben"), (59, "Chiara"), (60, "Deniz")),
    41: ((71, "Emil"), (72, "Fatma"), (73, "Gregor")),
    12: ((81, "Heidi"), (82, "Luca")),
}
DELIVERY_FEE = {"EUR": Decimal("2.00"), "CHF": Decimal("4.00")}
WEEKDAY_ORDERS = (28, 30, 32, 38, 62, 75, 48)
CH_VAT = {VAT_19: Decimal("8.10"), VAT_7: Decimal("2.60"), VAT_0: VAT_0}
UNMATCHED_PORTAL_ITEMS = (
    ("Pizza Tonno", "Pizza Tonno (32cm)", "10.50"),
    ("Pizza Hawaii XXL", "Pizza Hawaii XXL (40cm)", "15.90"),
    ("Pommes Frites groß", "Pommes Frites (groß)", "4.50"),
    ("Lahmacun", "Lahmacun mit Salat", "6.50"),
)
VOUCHERS = (("FRUEHLING3", Decimal("3.00")), ("STAMMGAST2", Decimal("2.00")), ("PIZZA10", None))
VOID_REASONS = ("Falsch boniert", "Doppelt boniert", "Kunde hat es sich anders überlegt")
CANCEL_REASONS = (
    "Kunde hat storniert",
    "Lieferung nicht möglich",
    "Doppelte Bestellung",
    "Artikel nicht verfügbar",
)
PORTALS = ("lieferando", "uber_eats", "wolt")
DST_NIGHT_TIME = time(2, 20)
"""On a night when clocks go back, two orders settle at this local time, once per offset."""


def _rng(seed: int, store_id: int, day: date, purpose: str) -> random.Random:
    digest = hashlib.sha256(f"sides:{seed}:{store_id}:{day.isoformat()}:{purpose}".encode())
    return random.Random(int.from_bytes(digest.digest()[:16], "big"))


def order_id(store_id: int, day: date, n: int) -> int:
    return (store_id * 100_000 + (day - date(2000, 1, 1)).days) * 1000 + n


def order_number(store: Store, day: date, n: int) -> str:
    return f"{store.number}-{(day - date(2000, 1, 1)).days:05d}{n:03d}"


@dataclass
class _Lines:
    """Builds an order's bill positions in tree order, with ids and line numbers."""

    order_id: int
    store: Store
    in_house: bool
    refund: bool = False
    positions: list[Position] = field(default_factory=list)

    def vat(self, product: Product | None, default: Decimal = VAT_7) -> Decimal:
        own = None
        if product is not None:
            own = product.vat_in_house if self.in_house else product.vat_takeaway
        rate = own if own is not None else default
        return CH_VAT.get(rate, rate) if self.store.country == "CH" else rate

    def add(
        self,
        position_type: str,
        name: str,
        unit_price: Decimal,
        *,
        quantity: Decimal = Decimal(1),
        product: Product | None = None,
        parent: Position | None = None,
        unit_quantity: Decimal | None = None,
        vat_rate: Decimal | None = None,
        void: tuple[datetime, str] | None = None,
        portal_item_name: str | None = None,
        menu_group_id: int | None = None,
        vat_split: tuple[tuple[Decimal, Decimal], ...] | None = None,
        restock: bool | None = None,
        voucher_code: str | None = None,
    ) -> Position:
        line = len(self.positions) + 1
        if line >= 1000:
            raise AssertionError("too many lines for the position id scheme")
        if parent is not None:
            if unit_quantity is None:
                raise AssertionError("a child needs a unit quantity")
            quantity = parent.quantity * unit_quantity
        position = Position(
            id=self.order_id * 1000 + line,
            line=line,
            parent_id=parent.id if parent else None,
            position_type=position_type,
            product_id=product.id if product else None,
            item_number=product.item_number if product else None,
            name=name,
            commodity_group_id=product.commodity_group[0]
            if product and product.commodity_group
            else None,
            quantity=quantity,
            unit_quantity=unit_quantity,
            unit_price=unit_price,
            total=money(unit_price * quantity),
            vat_rate=vat_rate,
            in_house=self.in_house,
            status="voided" if void else "active",
            voided_at=void[0] if void else None,
            void_reason=void[1] if void else None,
            portal_item_name=portal_item_name,
            menu_group_id=menu_group_id,
            vat_split=vat_split,
            restock=restock,
            voucher_code=voucher_code,
        )
        self.positions.append(position)
        return position

    def total(self) -> Decimal:
        return money(sum((p.total for p in self.positions if p.status == "active"), ZERO))


class DayGenerator:
    """Deterministic business days for one seed, built on demand and cached."""

    def __init__(self, seed: int, stores: dict[int, Store], catalogue: dict[int, Product]) -> None:
        self.seed = seed
        self.stores = stores
        self.catalogue = catalogue
        self.day: Callable[[int, date], Day] = lru_cache(maxsize=1024)(self._build_day)
        self._sales: Callable[[int, date], tuple[Order, ...]] = lru_cache(maxsize=1024)(
            self._build_sales
        )
        self._choices: dict[tuple[int, tuple[int, str] | None, str], list[Product]] = {}

    # ---- choices from the catalogue

    def _sellable(self, store: Store, group: tuple[int, str] | None, kind: str) -> list[Product]:
        key = (store.id, group, kind)
        if key not in self._choices:
            self._choices[key] = [
                product
                for product in self.catalogue.values()
                if product.type == kind
                and (group is None or product.commodity_group == group)
                and product.sellable_in(store.price_list_id)
            ]
        return self._choices[key]

    # ---- days

    def _build_day(self, store_id: int, day: date) -> Day:
        store = self.stores[store_id]
        if store_id == GOLDEN_STORE_ID and day == GOLDEN_DATE:
            return golden_day(store)
        start, end = store.window(day)
        sales = self._sales(store_id, day)
        refunds = self._refunds(store, day, len(sales))
        orders = tuple(sorted(sales + refunds, key=sort_key))
        closed_at = None
        if orders:
            rng = _rng(self.seed, store_id, day, "closing")
            last = max(order.settled_at for order in orders)
            closing = last + timedelta(seconds=rng.randint(600, 3600))
            closed_at = min(closing, end - timedelta(seconds=1))
        return Day(store, day, start, end, closed_at, orders)

    def _instant(self, rng: random.Random, store: Store, day: date) -> datetime:
        profile = PROFILES.get(store.id, DEFAULT_PROFILE)
        low, high, _ = rng.choices(profile, weights=[w for _, _, w in profile])[0]
        seconds = rng.randint(low * 60, high * 60 - 1)
        local_midnight = datetime.combine(day, time(0), tzinfo=store.tz)
        # Wall-clock arithmetic (same tzinfo), then to UTC: a local time, not elapsed time.
        return (local_midnight + timedelta(seconds=seconds)).astimezone(UTC)

    def _dst_night(self, store: Store, day: date) -> list[datetime]:
        """Both instants of an ambiguous local 02:20 inside the window, if there is one."""
        start, end = store.window(day)
        for local_day in (day, day + ONE_DAY):
            wall = datetime.combine(local_day, DST_NIGHT_TIME, tzinfo=store.tz)
            first = wall.replace(fold=0).astimezone(UTC)
            second = wall.replace(fold=1).astimezone(UTC)
            if first != second and start <= first and second < end:
                return [first, second]
        return []

    def _build_sales(self, store_id: int, day: date) -> tuple[Order, ...]:
        store = self.stores[store_id]
        if store_id == GOLDEN_STORE_ID and day == GOLDEN_DATE:
            return tuple(o for o in golden_day(store).orders if o.order_type == "sale")
        if not store.trades_on(day):
            return ()
        rng = _rng(self.seed, store_id, day, "sales")
        base = WEEKDAY_ORDERS[day.weekday()] * (0.8 if store_id == 41 else 1.0)
        count = max(8, round(rng.gauss(base, base * 0.15)))
        plans = []
        for _ in range(count):
            settled = self._instant(rng, store, day)
            plans.append((settled, rng.randint(240, 3300), rng.random() < 0.05))
        for settled in self._dst_night(store, day):
            plans.append((settled, 600, False))
        timed = sorted(
            ((settled - timedelta(seconds=duration), settled, cancelled))
            for settled, duration, cancelled in plans
        )
        return tuple(
            self._sale(rng, store, day, n, created, settled, cancelled)
            for n, (created, settled, cancelled) in enumerate(timed, start=1)
        )

    def _sale(
        self,
        rng: random.Random,
        store: Store,
        day: date,
        n: int,
        created: datetime,
        settled: datetime,
        cancelled: bool,
    ) -> Order:
        channels = [name for name, on in store.channels if on and name != "mobile_webshop"]
        weights = {"pos": 50, "webshop": 20, "app": 12, "callcenter": 8, "portal": 18}
        channel = rng.choices(channels, weights=[weights[c] for c in channels])[0]
        portal = rng.choice(PORTALS) if channel == "portal" else None
        if channel == "pos":
            fulfillment = rng.choices(["in_house", "pickup"], weights=[60, 40])[0]
        elif channel == "callcenter":
            fulfillment = "delivery"
        else:
            fulfillment = rng.choices(["delivery", "pickup"], weights=[75, 25])[0]
        staff = STAFF.get(store.id, ((1, "Kasse"),))
        employee = rng.choice(staff) if channel in ("pos", "callcenter") else None
        table = str(rng.randint(1, 24)) if fulfillment == "in_house" else None
        oid = order_id(store.id, day, n)
        lines = _Lines(oid, store, in_house=fulfillment == "in_house")
        duration = (settled - created).total_seconds()

        def void_time() -> tuple[datetime, str]:
            after = rng.randint(30, max(31, int(duration) - 30))
            return created + timedelta(seconds=after), rng.choice(VOID_REASONS)

        items = rng.choices([1, 2, 3, 4, 5], weights=[25, 35, 22, 12, 6])[0]
        for index in range(items):
            void = void_time() if index > 0 and rng.random() < 0.06 else None
            self._item(rng, store, lines, fulfillment, portal, void, void_time)
        self._extras(rng, store, lines, channel, fulfillment, portal)
        total = lines.total()
        payments = () if cancelled else self._payments(rng, channel, portal, total)
        return Order(
            id=oid,
            number=order_number(store, day, n),
            store_id=store.id,
            business_date=day,
            order_type="sale",
            status="cancelled" if cancelled else "completed",
            channel=channel,
            portal=portal,
            fulfillment=fulfillment,
            table=table,
            employee=employee,
            created_at=created,
            completed_at=None if cancelled else settled,
            cancelled_at=settled if cancelled else None,
            cancellation_reason=rng.choice(CANCEL_REASONS) if cancelled else None,
            currency=store.currency,
            total_gross=total,
            payments=payments,
            positions=tuple(lines.positions),
        )

    def _item(
        self,
        rng: random.Random,
        store: Store,
        lines: _Lines,
        fulfillment: str,
        portal: str | None,
        void: tuple[datetime, str] | None,
        void_time: Callable[[], tuple[datetime, str]],
    ) -> None:
        kinds = ["pizza", "drink", "pasta", "salad", "snack", "dessert", "dip", "menu"]
        kind = rng.choices(kinds, weights=[38, 24, 10, 5, 8, 5, 4, 6])[0]
        if portal and kind in ("pizza", "snack") and rng.random() < 0.3:
            name, portal_name, price = rng.choice(UNMATCHED_PORTAL_ITEMS)
            lines.add(
                "item",
                name,
                Decimal(price),
                vat_rate=lines.vat(None),
                portal_item_name=portal_name,
                void=void,
            )
            return
        if kind == "menu":
            menus = self._sellable(store, None, "menu")
            if menus:
                self._menu(rng, store, lines, rng.choice(menus), fulfillment, portal, void)
                return
            kind = "pizza"
        group = {
            "pizza": GROUP_PIZZA,
            "drink": GROUP_DRINKS,
            "pasta": GROUP_PASTA,
            "salad": GROUP_SALAD,
            "snack": GROUP_SNACKS,
            "dessert": GROUP_DESSERT,
            "dip": GROUP_DIPS,
        }[kind]
        product = rng.choice(self._sellable(store, group, "sales_item"))
        quantity = Decimal(
            rng.choices(
                [1, 2, 3, 4], weights=[60, 25, 10, 5] if kind == "drink" else [85, 12, 3, 0]
            )[0]
        )
        price = product.price_for(store.price_list_id, fulfillment) or ZERO
        parent = lines.add(
            "item",
            product.name,
            price,
            quantity=quantity,
            product=product,
            vat_rate=lines.vat(product),
            portal_item_name=_portal_name(product) if portal else None,
            void=void,
        )
        self._children(rng, store, lines, product, parent, fulfillment, void, void_time)

    def _children(
        self,
        rng: random.Random,
        store: Store,
        lines: _Lines,
        product: Product,
        parent: Position,
        fulfillment: str,
        void: tuple[datetime, str] | None,
        void_time: Callable[[], tuple[datetime, str]] | None,
    ) -> None:
        """Toppings added or removed, and the deposit of a bottled drink."""
        if TOPPING_GROUP_PIZZA in product.topping_group_ids and void_time is not None:
            recipe = {topping_id for topping_id, _ in product.recipe_toppings}
            extras = [
                topping
                for topping in self._sellable(store, GROUP_TOPPINGS, "topping")
                if topping.id not in recipe
                and TOPPING_GROUP_PIZZA_IDS[0] <= topping.id
                and topping.id <= TOPPING_GROUP_PIZZA_IDS[1]
            ]
            for _ in range(rng.choices([0, 1, 2], weights=[65, 27, 8])[0]):
                topping = rng.choice(extras)
                half = rng.random() < 0.15
                own_void = void or (void_time() if rng.random() < 0.04 else None)
                lines.add(
                    "topping_added",
                    f"+ {topping.name}",
                    topping.price_for(store.price_list_id, fulfillment) or ZERO,
                    product=topping,
                    parent=parent,
                    unit_quantity=Decimal("0.5") if half else Decimal(1),
                    vat_rate=parent.vat_rate,
                    void=own_void,
                )
            if product.recipe_toppings and rng.random() < 0.15:
                topping_id, amount = rng.choice(
                    product.recipe_toppings[1:] or product.recipe_toppings
                )
                topping = self.catalogue[topping_id]
                lines.add(
                    "topping_removed",
                    f"- {topping.name}",
                    ZERO,
                    product=topping,
                    parent=parent,
                    unit_quantity=amount,
                    vat_rate=parent.vat_rate,
                    void=void,
                )
        if product.deposit_product_id and store.country == "DE":
            deposit = self.catalogue[product.deposit_product_id]
            lines.add(
                "deposit",
                deposit.name,
                deposit.price_for(store.price_list_id, fulfillment) or ZERO,
                product=deposit,
                parent=parent,
                unit_quantity=Decimal(1),
                vat_rate=parent.vat_rate,
                void=void,
            )

    def _menu(
        self,
        rng: random.Random,
        store: Store,
        lines: _Lines,
        menu: Product,
        fulfillment: str,
        portal: str | None,
        void: tuple[datetime, str] | None,
    ) -> None:
        quantity = Decimal(rng.choices([1, 2], weights=[90, 10])[0])
        price = menu.price_for(store.price_list_id, fulfillment) or ZERO
        picks: list[tuple[MenuGroup, Product, int]] = []
        for group in menu.menu_groups or ():
            chosen = Counter(
                rng.choice(group.product_ids) for _ in range(rng.randint(group.min, group.max))
            )
            for product_id, count in chosen.items():
                picks.append((group, self.catalogue[product_id], count))
        # The menu price split by VAT rate, in proportion to the components' list prices.
        weights: dict[Decimal, Decimal] = defaultdict(Decimal)
        for _, product, count in picks:
            list_price = product.price_for(store.price_list_id, fulfillment) or Decimal(1)
            weights[lines.vat(product)] += list_price * count
        total = money(price * quantity)
        split: list[tuple[Decimal, Decimal]] = []
        remaining = total
        rates = sorted(weights)
        whole = sum(weights.values())
        for rate in rates[:-1]:
            share = money(total * weights[rate] / whole)
            split.append((rate, share))
            remaining -= share
        split.append((rates[-1], money(remaining)))
        parent = lines.add(
            "item",
            menu.name,
            price,
            quantity=quantity,
            product=menu,
            vat_rate=None,
            vat_split=tuple(split),
            portal_item_name=menu.name if portal else None,
            void=void,
        )
        for group, product, count in picks:
            component = lines.add(
                "menu_component",
                product.name,
                ZERO,
                product=product,
                parent=parent,
                unit_quantity=Decimal(count),
                vat_rate=lines.vat(product),
                menu_group_id=group.id,
                void=void,
            )
            self._children(rng, store, lines, product, component, fulfillment, void, None)

    def _extras(
        self,
        rng: random.Random,
        store: Store,
        lines: _Lines,
        channel: str,
        fulfillment: str,
        portal: str | None,
    ) -> None:
        """Surcharge, delivery fee, discount, tip and voucher sales: never inventory."""
        takeaway = lines.vat(None)
        subtotal = lines.total()
        if fulfillment == "delivery" and subtotal < Decimal("12.00"):
            lines.add("surcharge", "Mindermengenzuschlag", Decimal("1.50"), vat_rate=takeaway)
        if fulfillment == "delivery":
            fee = DELIVERY_FEE[store.currency] + (Decimal("0.50") if store.id == 41 else ZERO)
            lines.add("delivery_fee", "Liefergebühr", fee, vat_rate=takeaway)
        if portal is None and subtotal > Decimal("5.00") and rng.random() < 0.08:
            code, amount = rng.choice(VOUCHERS)
            value = amount if amount is not None else money(subtotal / 10)
            lines.add(
                "discount",
                f"Gutschein {code}",
                -value,
                vat_rate=lines.vat(None, VAT_19 if lines.in_house else VAT_7),
                voucher_code=code,
            )
        if channel in ("pos", "app", "webshop") and rng.random() < 0.12:
            tip = rng.choice(("0.50", "1.00", "1.50", "2.00", "3.00"))
            lines.add("tip", "Trinkgeld", Decimal(tip), vat_rate=VAT_0)
        if channel == "pos" and rng.random() < 0.03:
            voucher = self.catalogue[rng.choice((9801, 9802, 9803))]
            lines.add(
                "voucher_sale",
                voucher.name,
                voucher.price_for(store.price_list_id, "in_house") or ZERO,
                product=voucher,
                vat_rate=VAT_0,
            )

    @staticmethod
    def _payments(
        rng: random.Random, channel: str, portal: str | None, total: Decimal
    ) -> tuple[Payment, ...]:
        roll = rng.random()
        if channel == "portal":
            return (Payment("portal", total, portal) if roll < 0.9 else Payment("cash", total),)
        if channel in ("webshop", "app"):
            if roll < 0.45:
                return (Payment("online", total, "paypal"),)
            if roll < 0.7:
                return (Payment("online", total, "stripe"),)
            return (Payment("cash", total),)
        if channel == "pos" and roll < 0.05 and total > Decimal("10.00"):
            cash = money(Decimal(10))
            return (Payment("cash", cash), Payment("card", money(total - cash)))
        return (Payment("cash", total) if roll < 0.55 else Payment("card", total),)

    # ---- refunds

    def _refunds(self, store: Store, day: date, sales_count: int) -> tuple[Order, ...]:
        if not store.trades_on(day):
            return ()
        rng = _rng(self.seed, store.id, day, "refunds")
        start, end = store.window(day)
        today = list(self._sales(store.id, day))
        yesterday = list(self._sales(store.id, day - ONE_DAY))
        refunds: list[Order] = []
        for index in range(rng.choices([0, 1, 2], weights=[45, 40, 15])[0]):
            from_yesterday = bool(yesterday) and rng.random() < 0.3
            pool = [
                order
                for order in (yesterday if from_yesterday else today)
                if order.status == "completed" and order.channel != "portal"
            ]
            candidates = [
                (order, position)
                for order in pool
                for position in order.positions
                if position.parent_id is None
                and position.position_type == "item"
                and position.status == "active"
                and position.product_id is not None
                and self.catalogue[position.product_id].type == "sales_item"
            ]
            if not candidates:
                continue
            original, line = rng.choice(candidates)
            if from_yesterday:
                settled = self._instant(rng, store, day)
            else:
                settled = original.settled_at + timedelta(seconds=rng.randint(600, 5400))
            if not start <= settled < end:
                continue
            refunds.append(
                self._refund(rng, store, day, sales_count + index + 1, original, line, settled)
            )
        return tuple(refunds)

    def _refund(
        self,
        rng: random.Random,
        store: Store,
        day: date,
        n: int,
        original: Order,
        line: Position,
        settled: datetime,
    ) -> Order:
        """One unit of one line of ``original`` back, as a separate negative order."""
        oid = order_id(store.id, day, n)
        lines = _Lines(oid, store, in_house=line.in_house, refund=True)
        if line.product_id is None:
            raise AssertionError("only lines with a product are refunded")
        product = self.catalogue[line.product_id]
        restock = product.deposit_product_id is not None  # sealed bottles go back on the shelf
        parent = lines.add(
            "item",
            line.name,
            line.unit_price,
            quantity=Decimal(-1),
            product=product,
            vat_rate=line.vat_rate,
            portal_item_name=line.portal_item_name,
            restock=restock,
        )
        for child in original.positions:
            if child.parent_id != line.id or child.status != "active":
                continue
            child_product = self.catalogue[child.product_id] if child.product_id else None
            lines.add(
                child.position_type,
                child.name,
                child.unit_price,
                product=child_product,
                parent=parent,
                unit_quantity=child.unit_quantity,
                vat_rate=child.vat_rate,
                restock=None if child.position_type == "deposit" else restock,
            )
        total = lines.total()
        method = original.payments[0] if original.payments else Payment("cash", ZERO)
        return Order(
            id=oid,
            number=order_number(store, day, n),
            store_id=store.id,
            business_date=day,
            order_type="refund",
            status="completed",
            reference_order_id=original.id,
            channel=original.channel,
            portal=original.portal,
            fulfillment=original.fulfillment,
            table=original.table,
            employee=rng.choice(STAFF.get(store.id, ((1, "Kasse"),))),
            created_at=settled - timedelta(seconds=rng.randint(20, 180)),
            completed_at=settled,
            currency=store.currency,
            total_gross=total,
            payments=(replace(method, amount=total),),
            positions=tuple(lines.positions),
        )


def _portal_name(product: Product) -> str:
    if product.commodity_group == GROUP_PIZZA:
        return f"{product.name} (32cm)"
    return product.name


# --------------------------------------------------------------------------- consumption


def _live(position: Position, by_id: dict[int, Position]) -> bool:
    """Active, and so is every ancestor (a voided parent takes its children with it)."""
    while True:
        if position.status != "active":
            return False
        if position.parent_id is None:
            return True
        position = by_id[position.parent_id]


def consumption(
    orders: Iterable[Order],
    catalogue: dict[int, Product],
    *,
    refunds_need_restock: bool = True,
    expand_menus: bool = False,
    include_toppings: bool = True,
) -> dict[str, Decimal]:
    """The consumption rule of reference §6.7, keyed by product id (as a string) or by
    ``"name:<name>"`` for a line without a product id; zero totals are left out."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if order.status != "completed":
            continue
        refund = order.order_type == "refund"
        by_id = {position.id: position for position in order.positions}
        menus = {
            position.parent_id
            for position in order.positions
            if position.position_type == "menu_component"
        } | {
            position.id
            for position in order.positions
            if position.product_id in catalogue and catalogue[position.product_id].type == "menu"
        }
        for position in order.positions:
            if not _live(position, by_id):
                continue
            if refund and refunds_need_restock and position.restock is not True:
                continue
            kind = position.position_type
            if kind == "item":
                if expand_menus and position.id in menus:
                    continue
                if position.product_id is None:
                    key = f"name:{position.name or position.portal_item_name}"
                else:
                    key = str(position.product_id)
                totals[key] += position.quantity
            elif kind == "menu_component" and expand_menus:
                totals[str(position.product_id)] += position.quantity
            elif kind in ("topping_added", "topping_removed") and include_toppings:
                sign = 1 if kind == "topping_added" else -1
                totals[str(position.product_id)] += sign * position.quantity
    return {key: value for key, value in totals.items() if value != 0}
