"""Catalogs and sales the tests share, written the way users write them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stockpot.core.business_day import business_date_of
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.db import unit_of_work
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Company, ExternalLocation, Ingredient, Recipe, StorageUnit
from tests.conftest import Database

TRATTORIA = """
company: Trattoria Esempio
storage_units:
  - {name: Kitchen, address: "Via Roma 1, Milano"}
  - {name: Bar, address: "Via Roma 1, Milano"}
  - {name: Pastry, address: "Via Roma 1, Milano"}
ingredients:
  - {name: Flour, base_unit: kg}
  - {name: Water, base_unit: l}
  - {name: Mozzarella, base_unit: kg}
  - {name: Basil, base_unit: g}
  - {name: House red, base_unit: pcs, measures: {l: 0.75}}
  - {name: Espresso beans, base_unit: kg}
  - {name: Eggs, base_unit: pcs, measures: {g: 60}}
recipes:
  - name: Pizza dough
    portions: 10
    lines:
      - {ingredient: Flour, quantity: 1.8, unit: kg}
      - {ingredient: Water, quantity: 1.1, unit: l}
  - name: Margherita
    default_issue_storage: Kitchen
    lines:
      - {recipe: Pizza dough, quantity: 1}
      - {ingredient: Mozzarella, quantity: 125, unit: g, trim: 0.04}
      - {ingredient: Basil, quantity: 3, unit: g}
  - name: Glass of red
    lines:
      - {ingredient: House red, quantity: 15, unit: cl, issue_storage: Bar}
  - name: Sponge
    portions: 3
    default_issue_storage: Pastry
    lines:
      - {ingredient: Eggs, quantity: 100, unit: g}
      - {ingredient: Flour, quantity: 100, unit: g}
  - name: Tiramisu
    lines:
      - {recipe: Sponge, quantity: 1}
      - {ingredient: Espresso beans, quantity: 5, unit: g}
csv_connections:
  - name: Till export
    locations:
      - {name: Main room, storage_unit: Kitchen, timezone: Europe/Rome}
"""

TRATTORIA_MAPPINGS = """
company: Trattoria Esempio
connection: csv:Till export
mappings:
  - {pos_code: "101", pos_name: Margherita, recipe: Margherita, quantity: 1}
  - {pos_code: "230", pos_name: Red 0.15, recipe: Glass of red, quantity: 1}
  - {pos_code: "231", pos_name: Red bottle, ingredient: House red, quantity: 1}
  - {pos_code: "300", pos_name: Espresso, ingredient: Espresso beans, quantity: 0.009}
  - {pos_code: "410", pos_name: Tiramisu, recipe: Tiramisu, quantity: 1}
  - {pos_code: "999", pos_name: Tip, ignore: true}
"""


def setup_trattoria(database: Database, *, mappings: bool = True) -> None:
    import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
    if mappings:
        import_mappings(database.factory, TRATTORIA_MAPPINGS, source="mappings.yaml")


def locations_added(database: Database, day: date) -> None:
    """Every location added at the start of ``day`` (UTC): rows are added at the test's real
    time, and a variance names untransferred days only from a location's start."""
    with database.factory.begin() as session:
        added = datetime.combine(day, time(), tzinfo=UTC)
        session.execute(update(ExternalLocation).values(created_at=added))


ROME = ZoneInfo("Europe/Rome")
LATE_START = time(23, 59)


def late_day_start(database: Database) -> Callable[[Callable[[datetime], date]], set[date]]:
    """Main room (Kitchen's sales, in Rome) starts its day at 23:59, so Kitchen's business
    day is the calendar's yesterday, as at 01:58 before a 05:00 day start (the bot runs on
    the real clock). Returns ``around``: the days ``read`` (a moment's day, ``business_day``
    or ``calendar_day``) gives from now to when it is called (a midnight between is either)."""
    with unit_of_work(database.factory) as session:
        room = session.scalars(select(ExternalLocation).filter_by(name="Main room")).one()
        room.business_day_start = LATE_START
    before = datetime.now(UTC)

    def around(read: Callable[[datetime], date]) -> set[date]:
        return {read(before), read(datetime.now(UTC))}

    return around


def business_day(moment: datetime) -> date:
    """Main room's business day at ``moment`` (``late_day_start``)."""
    return business_date_of(moment, ROME, LATE_START)


def calendar_day(moment: datetime) -> date:
    """The company's date at ``moment`` (Rome, its first location's zone)."""
    return moment.astimezone(ROME).date()


def ids(session: Session, company: str = "Trattoria Esempio") -> dict[str, int]:
    """Every named row of the company, as ``kind:name`` → id."""
    company_id = session.scalar(select(Company.id).where(Company.name == company))
    found: dict[str, int] = {"company": company_id or 0}
    for model, kind in (
        (StorageUnit, "unit"),
        (Ingredient, "ingredient"),
        (Recipe, "recipe"),
        (ExternalLocation, "location"),
    ):
        for row in session.scalars(select(model).where(model.company_id == company_id)):
            found[f"{kind}:{row.name}"] = row.id
    return found


def sale(
    sale_id: str, line_id: str, code: str | None, quantity: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "sale_id": sale_id,
        "line_id": line_id,
        "pos_code": code,
        "name": extra.pop("name", f"item {code}"),
        "quantity": str(quantity),
        **extra,
    }


def as_json(lines: list[dict[str, Any]]) -> str:
    return json.dumps(lines)
