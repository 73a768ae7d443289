"""The ledger for accounting and BI tools: every movement of a period with its run, business
date, storage unit, ingredient, quantity and origin, streamed.

Rows come from the database in batches (``yield_per``: a server-side cursor on PostgreSQL)
and are written as they come, so a year of a 20-location group takes the memory of one batch.
Text cells that a spreadsheet would run as a formula are written inert, as everywhere else
Stockpot writes names out (``cell_text.inert``). Quantities are exact decimal strings
in the ingredient's base unit. There is no value column: ingredients carry no cost yet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.cell_text import inert
from stockpot.core.exact import format_decimal
from stockpot.core.models import (
    ExternalLocation,
    Ingredient,
    LedgerMovement,
    StorageUnit,
    TransferRun,
)

BATCH = 2000
"""Rows fetched per round trip; the export's memory is about one batch."""

COLUMNS = (
    "movement_id",
    "business_date",
    "type",
    "storage_unit",
    "ingredient",
    "quantity",
    "unit",
    "run_id",
    "origin",
    "location",
    "reverses_movement_id",
    "created_at",
)

NAME_LIMIT = 1000
"""Names are at most 200 characters; the formula guard must never cut one."""


@dataclass(frozen=True)
class ExportedMovement:
    movement_id: int
    business_date: date
    type: str
    storage_unit: str
    ingredient: str
    quantity: Decimal
    unit: str
    run_id: int | None
    origin: str
    """The run's kind (``automatic``, ``manual``, ``migration``, ``csv``) for POS sales, or
    ``manual`` for a movement posted without a run."""
    location: str | None
    reverses_movement_id: int | None
    created_at: datetime

    def cells(self) -> list[str]:
        return [
            str(self.movement_id),
            self.business_date.isoformat(),
            self.type,
            inert(self.storage_unit, NAME_LIMIT),
            inert(self.ingredient, NAME_LIMIT),
            format_decimal(self.quantity),
            self.unit,
            "" if self.run_id is None else str(self.run_id),
            self.origin,
            "" if self.location is None else inert(self.location, NAME_LIMIT),
            "" if self.reverses_movement_id is None else str(self.reverses_movement_id),
            self.created_at.isoformat(),
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "movement_id": self.movement_id,
            "business_date": self.business_date.isoformat(),
            "type": self.type,
            "storage_unit": self.storage_unit,
            "ingredient": self.ingredient,
            "quantity": format_decimal(self.quantity),
            "unit": self.unit,
            "run_id": self.run_id,
            "origin": self.origin,
            "location": self.location,
            "reverses_movement_id": self.reverses_movement_id,
            "created_at": self.created_at.isoformat(),
        }


def stream(
    session: Session, company_id: int, date_from: date, date_to: date
) -> Iterator[ExportedMovement]:
    """The company's movements of business dates ``date_from`` to ``date_to`` inclusive,
    by date and id, fetched ``BATCH`` at a time."""
    query = (
        select(
            LedgerMovement.id,
            LedgerMovement.business_date,
            LedgerMovement.type,
            StorageUnit.name,
            Ingredient.name,
            LedgerMovement.quantity,
            Ingredient.base_unit,
            LedgerMovement.run_id,
            TransferRun.kind,
            ExternalLocation.name,
            LedgerMovement.reverses_id,
            LedgerMovement.created_at,
        )
        .join(StorageUnit, StorageUnit.id == LedgerMovement.storage_unit_id)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .outerjoin(TransferRun, TransferRun.id == LedgerMovement.run_id)
        .outerjoin(ExternalLocation, ExternalLocation.id == TransferRun.location_id)
        .where(
            LedgerMovement.company_id == company_id,
            LedgerMovement.business_date >= date_from,
            LedgerMovement.business_date <= date_to,
        )
        .order_by(LedgerMovement.business_date, LedgerMovement.id)
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        (movement_id, day, kind, unit_name, ingredient, quantity, base, run_id, run_kind) = row[:9]
        location, reverses, created = row[9:]
        yield ExportedMovement(
            movement_id=movement_id,
            business_date=day,
            type=kind.value,
            storage_unit=unit_name,
            ingredient=ingredient,
            quantity=quantity,
            unit=base.value,
            run_id=run_id,
            origin=run_kind.value if run_kind is not None else "manual",
            location=location,
            reverses_movement_id=reverses,
            created_at=created,
        )


def write_csv(rows: Iterator[ExportedMovement], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row.cells())
        count += 1
    return count


def write_jsonl(rows: Iterator[ExportedMovement], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row.to_json(), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl}
