"""The stock builders' words: the same formats as the messages next to them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from stockpot.bot.blocks.stock import variance_blocks
from stockpot.core.stock.variance import Variance, VarianceLine
from tests.bot.test_blocks import check


def test_a_variance_percentage_is_written_as_every_other_percentage():
    """Mapping coverage said "64 %" and a recipe "trim 4 %"; the variance said "(9.0%)"."""
    line = VarianceLine(
        "Mozzarella",
        "g",
        Decimal(20000),
        Decimal(0),
        Decimal(0),
        Decimal(0),
        Decimal(10000),
        theoretical=Decimal(9000),
        cost=Decimal("0.008"),
    )
    report = Variance("Pizzeria", "EUR", "Lager", date(2026, 11, 27), date(2026, 12, 4), [line])
    text = json.dumps(check(variance_blocks(report)), ensure_ascii=False)
    assert "Mozzarella: used 10,000 g, sold 9,000 g → 1,000 g (11.1 %) · 8.00 EUR" in text
