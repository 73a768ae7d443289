"""Every builder stays within Block Kit's limits however much data it gets."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from bot.blocks.common import MESSAGE_BLOCKS, escape, message
from bot.blocks.ledger import balances_blocks
from bot.blocks.pos import LocationRow, connect_sides_modal, locations_blocks
from bot.blocks.transfer import report_blocks
from bot.blocks.usage import USAGES, help_blocks
from core.ledger import StockLine
from core.models import RunKind, RunOutcome
from core.transfer.runner import TransferReport

LONG = "Pizza <Quattro> & Formaggi " * 40


def check(blocks):
    payload = message("fallback", blocks)
    assert len(payload["blocks"]) <= MESSAGE_BLOCKS
    for block in payload["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75 and len(element.get("value", "")) <= 2000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
    return payload


def test_a_transfer_with_500_unmapped_items_and_long_names_fits():
    report = TransferReport(
        run_id=7,
        location=LONG,
        business_date=date(2026, 11, 27),
        kind=RunKind.DRY_RUN,
        outcome=RunOutcome.PREVIEW,
        generation=None,
        stats={
            "sales": 900,
            "lines": 5000,
            "mapped": 10,
            "unmapped": 4990,
            "ignored": 0,
            "skipped": {},
        },
        unmapped=[
            {"key": str(i), "pos_code": str(i), "name": f"{LONG} {i}", "quantity": "3", "lines": 3}
            for i in range(500)
        ],
        movements=[StockLine(LONG, f"{LONG} {i}", "kg", Decimal(-i)) for i in range(500)],
    )
    payload = check(
        report_blocks(report, post_value='{"location_id": 1, "business_date": "2026-11-27"}')
    )
    dumped = json.dumps(payload)
    assert "more" in dumped and "&lt;Quattro&gt; &amp;" in dumped


def test_balances_locations_and_help_fit_with_large_data():
    rows = [StockLine(f"Unit {i % 60} {LONG}", f"{LONG} {i}", "g", Decimal(i)) for i in range(3000)]
    check(balances_blocks(LONG, rows, None))
    locations = [
        LocationRow(i, f"{LONG} {i}", "sides:SIDES", LONG, i % 2 == 0, "active") for i in range(200)
    ]
    check(locations_blocks(LONG, locations, admin=True))
    for command in USAGES:
        check(help_blocks(command, LONG))


def test_the_sides_modal_respects_modal_limits():
    view = connect_sides_modal('{"channel_id": "C1", "company_id": 1}')
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert len(view["blocks"]) <= 100 and len(view["private_metadata"]) <= 3000


def test_slack_escaping_touches_only_three_characters():
    assert escape('Tom\'s <b> & "x"') == 'Tom\'s &lt;b&gt; &amp; "x"'
