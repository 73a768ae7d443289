"""The ``/transfer`` preview: a day that differs from what is posted offers to post it; a day
that matches its live run says so and offers nothing to press."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import stockpot.bot
import stockpot.handlers
from stockpot.bot.blocks.report import _deducted
from stockpot.bot.blocks.transfer import report_blocks
from stockpot.bot.ids import ActionId
from stockpot.core.ledger import StockLine
from stockpot.core.models import RunKind, RunOutcome
from stockpot.core.reports import LocationDay
from stockpot.core.stock.files import GROUPS
from stockpot.core.transfer.runner import TransferReport
from stockpot.core.units import Family
from tests.bot.test_blocks import check

VALUE = '{"location_id": 1, "business_date": "2026-11-27"}'
PREVIEW = TransferReport(
    run_id=9,
    location="Main room",
    business_date=date(2026, 11, 27),
    kind=RunKind.DRY_RUN,
    outcome=RunOutcome.PREVIEW,
    generation=None,
    stats={"sales": 3, "lines": 7, "mapped": 5, "unmapped": 1, "ignored": 1, "skipped": {}},
    unmapped=[],
    movements=[StockLine("Kitchen", "Flour", "kg", Decimal("-0.36"))],
)


def _shown(report: TransferReport) -> str:
    """The report's blocks (checked against Slack's limits) as the JSON text Slack gets."""
    return json.dumps(check(report_blocks(report, currency="EUR"))["blocks"], ensure_ascii=False)


def _moving(*movements: StockLine) -> TransferReport:
    """The preview, with these movements."""
    return replace(PREVIEW, movements=list(movements))


def _buttons(blocks) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_preview_that_differs_from_what_is_posted_offers_to_post_it():
    blocks = check(report_blocks(PREVIEW, post_value=VALUE))["blocks"]
    assert _buttons(blocks) == [ActionId.TRANSFER_POST]
    assert "Matches what is posted" not in json.dumps(blocks)


def test_a_preview_that_matches_the_live_run_says_so_and_offers_no_post():
    matching = replace(PREVIEW, matches_live_run_id=4)
    blocks = check(report_blocks(matching, post_value=VALUE))["blocks"]
    text = json.dumps(blocks, ensure_ascii=False)
    assert ActionId.TRANSFER_POST not in _buttons(blocks)
    assert "Matches what is posted: nothing to post." in text and "run 4" not in text
    # Still the preview: its title and what the day deducts.
    assert "Preview: Main room, 2026-11-27" in text and "Flour 0.36 kg" in text


def test_the_largest_deductions_are_amounts_taken_with_their_value_and_unit():
    """Deductions as amounts taken (the daily report's way: no minus sign under
    "deductions"), each with its value when ranked by value, and the storage unit said once
    when every one comes from the same unit."""
    one_unit = _moving(
        StockLine("Kitchen", "Flour", "kg", Decimal("-0.36"), Decimal("-0.324")),
        StockLine("Kitchen", "Basil", "kg", Decimal("-0.02"), Decimal("-0.7")),
    )
    text = _shown(one_unit)
    assert (
        "Largest by value, all from Kitchen: Basil 0.02 kg (0.70 EUR), Flour 0.36 kg (0.32 EUR)"
        in text
    )
    two_units = _moving(
        StockLine("Kitchen", "Flour", "kg", Decimal("-0.36")),
        StockLine("Bar", "House red", "pcs", Decimal("-2")),
    )
    text = _shown(two_units)
    assert "Largest of each kind: " in text and "from Kitchen" in text and "from Bar" in text
    assert "(" not in text.split("Largest of each kind: ")[1].split('"')[0], "no value to show"


def test_stock_put_back_is_no_deduction_and_never_a_negative_amount_taken():
    """A day whose refunds of an item exceed its sales puts stock back: it was counted as a
    deduction and shown first as the largest one, as a negative amount taken
    ('Largest by value: House red -3 pcs (-13.50 EUR)'); the daily report counts only what
    was taken."""
    refunds = _moving(
        StockLine("Kitchen", "Flour", "kg", Decimal("-0.36"), Decimal("-0.32")),
        StockLine("Kitchen", "House red", "pcs", Decimal("3"), Decimal("13.5")),
    )
    text = _shown(refunds)
    assert "*1 deduction* (1 weighed)" in text
    assert "Largest by value, all from Kitchen: Flour 0.36 kg (0.32 EUR)" in text
    assert "-3 pcs" not in text and "-13.50" not in text
    assert "1 ingredient put back (more refunded than sold): House red 3 pcs" in text
    only_back = replace(refunds, movements=refunds.movements[1:])
    text = _shown(only_back)
    assert "*Deductions*: none" in text and "House red 3 pcs" in text and "-3" not in text


def test_litres_are_measured_in_the_preview_the_daily_report_and_the_count_sheet():
    """The preview and the daily report said "4 by volume" where the count sheet, next to
    them, heads the same ingredients "Measured": one word for one kind."""
    text = _shown(
        _moving(
            StockLine("Kitchen", "Flour", "kg", Decimal("-0.36")),
            StockLine("Kitchen", "Olive oil", "l", Decimal("-0.05")),
        )
    )
    assert "(1 weighed, 1 measured)" in text and "by volume" not in text
    day = LocationDay("Main room", "posted", deducted_count={"mass": 1, "volume": 2})
    assert _deducted(day) == "3 ingredients deducted (1 weighed, 2 measured)"
    one = LocationDay("Main room", "posted", deducted_count={"mass": 1})
    many = LocationDay("Main room", "posted", deducted_count={"mass": 1200, "volume": 1})
    assert _deducted(one) == "1 ingredient deducted (1 weighed)"
    # a count as every other is written (core.words.plural): "1201 ingredients" said it bare
    assert _deducted(many) == "1,201 ingredients deducted (1,200 weighed, 1 measured)"
    assert GROUPS[Family.VOLUME] == "Measured"


HAND_PLURAL = re.compile(r"""\{['"]s['"] if |['"]{2} if [^}]* else ['"]s['"]\}|\w\(s\)""")
"""A plural made by hand: ``{'s' if n != 1 else ''}``, or the ``item(s)`` of a form letter."""


def test_messages_count_through_the_one_plural_rule():
    """Blocks and handlers each wrote ``item{'s' if n != 1 else ''}`` (the daily report's
    deductions, /ledger why's summary, the Reprocess offers), and the CLI "3 job(s)",
    "1 problem(s)": counts go through ``core.words.plural``, one rule for "1 item",
    "2 items" and "1,200 items", in Slack and in the CLI."""
    bot = Path(stockpot.bot.__file__).parent
    handlers = Path(stockpot.handlers.__file__).parent
    sources = [*(bot / "blocks").glob("*.py"), *(bot / "cli").glob("*.py")]
    sources += handlers.glob("*.py")
    by_hand = [
        f"{path.name}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HAND_PLURAL.search(line)
    ]
    assert len(sources) > 40 and by_hand == []
