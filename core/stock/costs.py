"""Costs and money: one rule for updating an ingredient's cost, one for valuing a quantity.

Rule: an ingredient's cost per base unit is set by the catalog (``cost:``) and then by the
**latest** receipt that gives a unit cost (last purchase price). Not a weighted average: a
weighted average needs a trustworthy on-hand quantity, and before the first count every
balance is a negative sum of POS deductions. A correction of a receipt does not restore the
previous cost (the next receipt or catalog import sets it). Re-importing a catalog without
``cost:`` keeps the cost a receipt set.

Money is ``Decimal`` in the company's currency, exact until shown (``money`` rounds half-even
to cents for display only).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from stockpot.core.db import quantize
from stockpot.core.models import Ingredient
from stockpot.core.words import grouped

CENT = Decimal("0.01")


def receive(ingredient: Ingredient, unit_cost: Decimal) -> None:
    """A receipt's cost per base unit becomes the ingredient's cost."""
    ingredient.cost = quantize(unit_cost)


def value(quantity: Decimal | None, cost: Decimal | None) -> Decimal | None:
    """``quantity`` base units at ``cost`` per base unit (exact), or ``None`` without a cost."""
    if quantity is None or cost is None:
        return None
    return quantize(quantity * cost)


def money(amount: Decimal | None, currency: str) -> str:
    """``12.35 EUR``: for people; stored and exported amounts stay exact."""
    if amount is None:
        return "–"
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return f"{grouped(abs(rounded) if rounded == 0 else rounded)} {currency}"
