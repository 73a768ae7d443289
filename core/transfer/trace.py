"""Why a ledger movement happened: the sales lines behind it, recomputed exactly.

The ledger only stores movements; a movement of a run is explained by the run's stored lines
and catalog snapshot, which the transfer owns, so the trace lives here (the ledger never
imports the transfer).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from stockpot.core.errors import NotFound
from stockpot.core.exact import format_decimal, fraction_to_decimal
from stockpot.core.models import Company, LedgerMovement, MovementType
from stockpot.core.transfer.engine import contributions
from stockpot.core.transfer.live import run_dispositions, run_snapshot


@dataclass(frozen=True)
class TracedLine:
    sale_id: str
    line_id: str
    pos_code: str | None
    name: str
    quantity: Decimal
    """The line's sold quantity."""
    contribution: Decimal
    """What the line added to the movement (signed like the movement)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "sale_id": self.sale_id,
            "line_id": self.line_id,
            "pos_code": self.pos_code,
            "name": self.name,
            "quantity": format_decimal(self.quantity),
            "contribution": format_decimal(self.contribution),
        }


def trace(session: Session, movement_id: int, company: Company | None = None) -> list[TracedLine]:
    """The sales lines behind a movement, recomputed exactly from the lines the run stored and
    snapshot. A reversal traces to the lines of the movement it reverses, with the sign flipped.
    """
    movement = session.get(LedgerMovement, movement_id)
    if movement is None or (company is not None and movement.company_id != company.id):
        raise NotFound(f"no ledger movement {movement_id}")
    sign = 1
    if movement.reverses_id is not None:
        sign = -1
        movement = session.get_one(LedgerMovement, movement.reverses_id)
    if movement.run_id is None or movement.type is not MovementType.ISSUE:
        return []
    snapshot = run_snapshot(session, movement.run_id)
    if snapshot is None:
        return []
    stored = run_dispositions(session, movement.run_id)
    lines = [entry.line for entry in stored]
    found = contributions(
        lines,
        [entry.disposition for entry in stored],
        *snapshot,
        (movement.storage_unit_id, movement.ingredient_id),
    )
    return [
        TracedLine(
            sale_id=lines[position].sale_id,
            line_id=lines[position].line_id,
            pos_code=lines[position].pos_code,
            name=lines[position].name,
            quantity=lines[position].quantity,
            contribution=fraction_to_decimal(-sign * amount),
        )
        for position, amount in found
    ]
