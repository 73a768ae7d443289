"""The demo company's last week of stock, seeded once: the Mitte branch's till days (through
the real transfer), an opening count of its store (Lager), two deliveries, and a closing count
yesterday that is a little short of what the till says was used, as real counts are: so
``/ledger variance Lager`` has a realistic story to tell from the first start.

Everything is posted through the same services as Slack and the CLI, attributed to the
demo's staff (``demo:…``). Deterministic: the same dates give the same figures.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.models import (
    Company,
    ExternalLocation,
    Ingredient,
    LedgerMovement,
    MovementType,
    StockKind,
    StorageUnit,
)
from stockpot.core.stock.services import LineInput, StockRequest, post_stock
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer

STORE = "Lager"
LOCATION = "Filiale Mitte"
DAYS = 7
SALES = {
    # Kasse code: (name, fewest, most sold a day)
    "101": ("Pizza Margherita", 18, 34),
    "102": ("Pizza Salami", 12, 26),
    "103": ("Pizza Prosciutto", 6, 15),
    "104": ("Pizza Funghi", 5, 12),
    "105": ("Pizza Hawaii", 3, 9),
    "107": ("Pizza Quattro Formaggi", 4, 10),
    "112": ("Pizza Rucola", 4, 11),
    "302": ("Spaghetti Carbonara", 6, 14),
    "201": ("Cola 0,33l", 20, 40),
    "207": ("Wasser still 0,5l", 15, 30),
    "226": ("Mezzo Mix 0,33l", 4, 12),
    "210": ("Eistee Pfirsich 0,5l", 5, 14),
    "216": ("Rotwein Montepulciano 0,75l", 2, 7),
    "213": ("Weizenbier 0,5l", 8, 20),
}
SHRINK = {"Mozzarella": "0.09", "Montepulciano": "0.12", "Salami": "0.06", "Cola 0,33l": "0.04"}
"""Where the closing count comes up short (a share of what the till explains); elsewhere a
little either way."""
STAFF = {"count": "demo:Giulia (store manager)", "receipt": "demo:Tomasz (receiving)"}


def seed_week(factory: sessionmaker[Session], company_name: str, today: date) -> None:
    with factory() as session:
        company = session.scalars(select(Company).where(Company.name == company_name)).one()
        location = session.scalars(
            select(ExternalLocation).where(
                ExternalLocation.company_id == company.id, ExternalLocation.name == LOCATION
            )
        ).one()
        store = session.scalars(
            select(StorageUnit).where(
                StorageUnit.company_id == company.id, StorageUnit.name == STORE
            )
        ).one()
        company_id, location_id, store_id = company.id, location.id, store.id
    rng = Random(2026)
    days = [today - timedelta(days=n) for n in range(DAYS, 0, -1)]
    for day in days:
        lines = [
            SaleLine(f"Z{day:%Y%m%d}", code, code, name, Decimal(rng.randint(low, high)))
            for code, (name, low, high) in SALES.items()
        ]
        run_transfer(
            factory,
            location_id,
            day,
            lines,
            RawInput("demo", f"demo till day {day}"),
            triggered_by="demo",
        )
    used = _used(factory, company_id, store_id, days[0], days[-1])
    opening = {
        name: _round(quantity * Decimal("0.7") + 1, unit) for name, (quantity, unit) in used.items()
    }
    deliveries = {
        days[2]: {name: _round(q * Decimal("0.45"), unit) for name, (q, unit) in used.items()},
        days[5]: {name: _round(q * Decimal("0.35"), unit) for name, (q, unit) in used.items()},
    }

    def post(kind: StockKind, day: date, lines: list[LineInput], **extra: str) -> None:
        post_stock(
            factory,
            StockRequest(
                kind, company_id, STORE, day, STAFF[kind.value], lines, source="demo", **extra
            ),
        )

    post(
        StockKind.COUNT,
        days[0] - timedelta(days=1),
        [LineInput(name, quantity) for name, quantity in opening.items()],
    )
    costs = _costs(factory, company_id)
    for day, delivered in deliveries.items():
        post(
            StockKind.RECEIPT,
            day,
            [
                LineInput(name, quantity, unit_cost=_price(costs.get(name), rng))
                for name, quantity in delivered.items()
                if quantity > 0
            ],
            supplier="Metro Berlin",
            reference=f"LS-{day:%m%d}",
        )
    closing = {}
    for name, (quantity, unit) in used.items():
        shrink = Decimal(SHRINK.get(name, f"{rng.uniform(-0.02, 0.03):.3f}"))
        left = (
            opening[name]
            + sum(d.get(name, 0) for d in deliveries.values())
            - quantity * (1 + shrink)
        )
        closing[name] = max(_round(left, unit), Decimal(0))
    post(StockKind.COUNT, days[-1], [LineInput(name, q) for name, q in closing.items()])


def _used(
    factory: sessionmaker[Session], company_id: int, store_id: int, first: date, last: date
) -> dict[str, tuple[Decimal, str]]:
    """What the till says the store gave out over the week, per ingredient (base units)."""
    with factory() as session:
        rows = session.execute(
            select(Ingredient.name, Ingredient.base_unit, func.sum(LedgerMovement.quantity))
            .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
            .where(
                LedgerMovement.company_id == company_id,
                LedgerMovement.storage_unit_id == store_id,
                LedgerMovement.type == MovementType.ISSUE,
                LedgerMovement.business_date >= first,
                LedgerMovement.business_date <= last,
            )
            .group_by(Ingredient.name, Ingredient.base_unit)
        ).tuples()
        return {name: (-quantity, base.value) for name, base, quantity in rows if quantity < 0}


def _costs(factory: sessionmaker[Session], company_id: int) -> dict[str, Decimal]:
    with factory() as session:
        rows = session.execute(
            select(Ingredient.name, Ingredient.cost).where(
                Ingredient.company_id == company_id, Ingredient.cost.is_not(None)
            )
        ).tuples()
        return {name: cost for name, cost in rows}


def _price(cost: Decimal | None, rng: Random) -> Decimal | None:
    """A delivery's price: the catalog cost, a little up or down."""
    if cost is None:
        return None
    return (cost * Decimal(f"{rng.uniform(0.97, 1.05):.3f}")).quantize(Decimal("0.0001"))


def _round(quantity: Decimal, unit: str) -> Decimal:
    """As people count: whole pieces and grams, kilograms and litres to 50 g or 50 ml."""
    if unit in ("pcs", "g", "ml", "mg", "cl", "dl"):
        return quantity.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (quantity * 20).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 20
