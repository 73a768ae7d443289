"""Every builder stays within Block Kit's limits however much data it gets."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal

from stockpot.bot.blocks.common import MESSAGE_BLOCKS, LazyLines, day_spans, escape, message
from stockpot.bot.blocks.doctor import doctor_blocks
from stockpot.bot.blocks.home import HomeLocation, home_view
from stockpot.bot.blocks.jobs import missed_days_blocks, reprocess_details
from stockpot.bot.blocks.ledger import (
    BALANCES_SHOWN,
    balances_blocks,
    balances_modal,
    totals_blocks,
)
from stockpot.bot.blocks.mapping import (
    PAGE_SIZE,
    map_modal,
    mappings_blocks,
    target_options,
    unmapped_blocks,
)
from stockpot.bot.blocks.pos import connect_sides_modal, locations_blocks
from stockpot.bot.blocks.transfer import report_blocks
from stockpot.bot.blocks.usage import help_blocks
from stockpot.bot.commands import COMMANDS
from stockpot.bot.metadata import CatchUpValue
from stockpot.core.doctor import Check
from stockpot.core.jobs.schedule import CATCH_UP_MAX_DAYS
from stockpot.core.ledger import MovementTotal, StockLine
from stockpot.core.locations import LocationOverview
from stockpot.core.mapping import MappingPage, MappingRow
from stockpot.core.models import RunKind, RunOutcome
from stockpot.core.transfer.runner import TransferReport
from stockpot.core.unmapped import Target, UnmappedRow
from stockpot.sandbox.slack_blockkit import message_problems, view_problems

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
        LocationOverview(
            id=i,
            name=f"{LONG} {i}",
            connection="sides:SIDES",
            connection_shown="SIDES",
            external_id=str(i),
            timezone="UTC",
            business_day_start=time(5),
            storage_unit=LONG,
            storage_unit_id=1,
            active=i % 2 == 0,
            automatic_transfer="active",
        )
        for i in range(200)
    ]
    check(locations_blocks(LONG, locations, admin=True))
    for command in COMMANDS:
        check(help_blocks(command, LONG))


def test_the_sides_modal_respects_modal_limits():
    view = connect_sides_modal('{"channel_id": "C1", "company_id": 1}')
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert len(view["blocks"]) <= 100 and len(view["private_metadata"]) <= 3000


def test_slack_escaping_touches_only_three_characters():
    assert escape('Tom\'s <b> & "x"') == 'Tom\'s &lt;b&gt; &amp; "x"'


def test_every_other_builder_fits_with_large_data():
    rows = [
        UnmappedRow(
            i,
            "SIDES",
            str(i),
            f"C{i}",
            f"{LONG} {i}",
            Decimal(i),
            {(1, date(2026, 1, d % 28 + 1)) for d in range(i % 40)},
        )
        for i in range(500)
    ]
    check(unmapped_blocks(LONG, rows, admin=True))
    mappings = [
        MappingRow(
            i,
            f"C{i}",
            f"{LONG} {i}",
            str(i),
            "recipe" if i % 2 else "ignored",
            LONG,
            "1.5",
            "portions",
            LONG,
        )
        for i in range(PAGE_SIZE)
    ]
    page = MappingPage(mappings, 3, 25, 500)
    shown = check(mappings_blocks(LONG, page, Decimal("0.8765"), LONG, admin=True))
    assert len(shown["blocks"]) <= MESSAGE_BLOCKS and "left out" not in json.dumps(shown)
    turns = shown["blocks"][-1]["elements"]
    assert [b["text"]["text"] for b in turns] == ["Previous", "Next (4/25)"]
    checks = [Check(f"{LONG} {i % 30}", f"check {i}", i % 2 == 0, LONG) for i in range(500)]
    check(doctor_blocks(LONG, checks))
    totals = [MovementTotal(LONG, f"{LONG} {i}", "kg", Decimal(-i), i) for i in range(500)]
    check(totals_blocks(LONG, "2026-11-01 to 2026-11-27", totals, LONG))
    current = (Target("recipe", 1, LONG, "portions"), Decimal("0.25"))
    modal = map_modal('{"pos_item_id": 1}', LONG, current)
    assert len(modal["title"]["text"]) <= 24 and len(modal["blocks"]) <= 100
    select = modal["blocks"][1]["element"]["initial_option"]
    assert len(select["text"]["text"]) <= 75 and len(select["value"]) <= 150
    home = home_view(
        LONG, [(LONG, "connected")] * 300, [HomeLocation(LONG, True, "active", None)] * 300, 500
    )
    assert len(home["blocks"]) <= 100
    check(home["blocks"])
    many = [
        Target(kind, i, f"{LONG} {i}", "g") for i in range(300) for kind in ("ingredient", "recipe")
    ]
    groups = target_options(many, many[:5])
    assert sum(len(g["options"]) for g in groups) <= 100
    assert all(len(o["text"]["text"]) <= 75 for g in groups for o in g["options"])


def test_the_show_all_modal_lists_every_unmapped_item_within_limits():
    from stockpot.bot.blocks.transfer import unmapped_modal

    items = [{"pos_code": str(i), "name": f"{LONG} {i}", "quantity": str(i)} for i in range(500)]
    view = unmapped_modal(LONG, "2026-11-27", items)
    assert view_problems(view) == []
    dumped = json.dumps(view)
    assert "500 items sold but not mapped" in dumped and "sold 499" in dumped


def test_balances_are_a_summary_per_unit_and_show_all_lists_every_line():
    """Per storage unit: its ingredients, their value at cost (every line adds up), how many
    are below zero, and the five that matter most; **Show all** opens every line."""
    rows = [StockLine("Kitchen", f"Flour {i}", "g", Decimal(1500), Decimal(2)) for i in range(2000)]
    rows[7] = StockLine("Kitchen", "Mozzarella", "kg", Decimal("-243.3333"), Decimal("-2003.05"))
    [_, block] = balances_blocks("Bench", rows, None)
    check([block])
    title, kind, *shown = block["text"]["text"].splitlines()
    assert title == (
        "*Kitchen* · 2,000 ingredients · 1,994.95 EUR at cost · "
        "1 below zero (used, not yet received or counted)"
    )
    assert kind == "_Largest by value_" and len(shown) == BALANCES_SHOWN
    assert shown[0] == "Mozzarella: -243 kg · -2,003.05 EUR"
    assert block["accessory"]["text"]["text"] == "Show all"
    assert block["accessory"]["value"] == "Kitchen"
    modal = balances_modal("Kitchen", rows)
    assert view_problems(modal) == []
    listed = "\n".join(b["text"]["text"] for b in modal["blocks"][1:])
    assert listed.count(" EUR") == 2000 and "Flour 1999: 1,500 g · 2.00 EUR" in listed
    many = [StockLine("Bar", f"Wine {i}", "pcs", Decimal(i)) for i in range(3000)]
    modal = balances_modal("Bar", many)
    assert view_problems(modal) == [] and len(modal["blocks"]) <= 100
    assert "…and 550 more" in modal["blocks"][-1]["elements"][0]["text"]


def test_a_large_balance_groups_its_thousands_as_its_value_does():
    """`Flour: 1000000 kg · 1,000,000.00 EUR`: the quantity now reads 1,000,000 kg too."""
    rows = [StockLine("Kitchen", "Flour", "kg", Decimal(10**6), Decimal(1_000_000))]
    [_, block] = balances_blocks("Bench", rows, None)
    assert "Flour: 1,000,000 kg · 1,000,000.00 EUR" in block["text"]["text"]


def test_balances_without_costs_rank_each_kind_and_never_kilograms_against_pieces():
    rows = [
        StockLine("Bar", "Lemons", "pcs", Decimal(500)),
        StockLine("Bar", "Sugar", "g", Decimal(900)),
        StockLine("Bar", "Ice", "kg", Decimal(40)),
        StockLine("Bar", "Gin", "ml", Decimal(7000)),
        StockLine("Bar", "Mint", "g", Decimal(30)),
        StockLine("Bar", "Limes", "pcs", Decimal(3)),
    ]
    [_, block] = balances_blocks("Bench", rows, None)
    title, kind, *shown = block["text"]["text"].splitlines()
    assert title == "*Bar* · 6 ingredients" and kind == "_Largest of each kind_"
    assert shown == [
        "Ice: 40 kg",
        "Gin: 7,000 ml",
        "Lemons: 500 pcs",
        "Sugar: 900 g",
        "Limes: 3 pcs",
    ]
    [_, short] = balances_blocks("Bench", rows[:2], None)
    assert "accessory" not in short and short["text"]["text"].count("\n") == 2


def test_lazy_lines_render_only_what_is_read():
    seen: list[int] = []

    def render(number: int) -> str:
        seen.append(number)
        return f"line {number}"

    lines = LazyLines(range(1000), render)
    assert len(lines) == 1000 and lines[3] == "line 3" and lines[5:7] == ["line 5", "line 6"]
    assert seen == [3, 5, 6]


def test_the_daily_report_summarises_negative_balances():
    """A pizzeria that never counted its kitchen has dozens of balances below zero: the report
    says how many per storage unit and shows the five largest by value, not every line."""
    from datetime import date

    from stockpot.bot.blocks.report import report_blocks as daily_blocks
    from stockpot.core.reports import DailyReport

    negative = [
        StockLine("Küche", f"Zutat {i}", "g", Decimal(-i), Decimal(-i) / 100) for i in range(1, 37)
    ] + [StockLine("Bar", "Aperol", "pcs", Decimal("-8.3333"), Decimal("-95.61"))]
    report = DailyReport("Pizzeria", date(2026, 12, 3), [], None, [], negative, {})
    blocks = check(daily_blocks(report))["blocks"]
    # the one rule for a day a message is about (core.words.named_day), not "Thursday 03
    # December 2026" next to the ISO dates of every other message
    assert blocks[0]["text"]["text"] == "Pizzeria: Thu 2026-12-03"
    [summary] = [b for b in blocks if "below zero" in json.dumps(b, ensure_ascii=False)]
    title, kind, *lines, more = summary["text"]["text"].splitlines()
    assert (
        title == ":warning: *37 ingredients below zero* (Küche 36, Bar 1): count or receive stock."
    )
    assert kind == "_Largest by value_" and len(lines) == 5
    assert lines[0] == "Aperol (Bar): -8.33 pcs · -95.61 EUR"
    assert lines[1] == "Zutat 36 (Küche): -36 g · -0.36 EUR"
    assert more == "`/ledger balances` shows every one."


def test_the_daily_report_says_over_which_days_an_unmapped_item_sold():
    """The report's unmapped items are /pos unmapped's (90 days), listed under "Mapping
    coverage (last 7 days)": a bare "sold 187" read as 187 sold last week."""
    from datetime import date, timedelta

    from stockpot.bot.blocks.report import report_blocks as daily_blocks
    from stockpot.core.reports import DailyReport, LocationDay

    start = date(2026, 9, 5)
    row = UnmappedRow(
        7,
        "SIDES",
        "5108",
        "5108",
        "Familienpizza Vegetaria",
        Decimal(187),
        {(1, start + timedelta(days=d)) for d in range(0, 90, 3)} | {(1, date(2026, 12, 3))},
    )
    days = [
        LocationDay("Teltow", "posted", run_id=9, lines=315, unmapped_lines=177),
        LocationDay("Mitte", "posted", run_id=8, lines=14),
    ]
    report = DailyReport("Pizzeria", date(2026, 12, 3), days, Decimal("0.65"), [row], [], {})
    text = json.dumps(check(daily_blocks(report))["blocks"], ensure_ascii=False)
    # lines, not items: "315 lines, 177 unmapped" read as 177 of the list's items
    assert "*Teltow*: posted · 315 sales lines, 177 of them unmapped · " in text
    assert "*Mitte*: posted · 14 sales lines, none unmapped · " in text
    assert (
        "Unmapped: *Familienpizza Vegetaria* (5108), "
        "sold 187 in the last 90 days (31 days, 2026-09-05 to 2026-12-03)" in text
    )
    # Sold before the 90 days too: the days Reprocess would rerun are named beside them.
    row.offered = row.days | {(1, date(2026, 5, 1))}
    text = json.dumps(check(daily_blocks(report))["blocks"], ensure_ascii=False)
    assert (
        "sold 187 in the last 90 days (31 days, 2026-09-05 to 2026-12-03) · "
        "in all: 32 days, 2026-05-01 to 2026-12-03" in text
    )


def test_consecutive_days_read_as_spans():
    days = [date(2026, 9, 6), *(date(2026, 9, d) for d in range(9, 14)), date(2026, 9, 15)]
    days += [date(2026, 12, 31), date(2027, 1, 1), date(2026, 9, 16)]
    assert day_spans(days) == (
        "2026-09-06, 2026-09-09 to 09-13, 2026-09-15 to 09-16, 2026-12-31 to 2027-01-01"
    )
    assert day_spans([]) == ""
    assert day_spans([date(2026, 2, 28)]) == "2026-02-28"


def test_a_reprocess_thread_lists_two_months_of_days_as_spans():
    """61 changed days of two months were 61 dates in the thread; runs of days are spans."""
    done = [
        ["Teltow", f"2026-{month:02d}-{day:02d}", "posted", ""]
        for month in (10, 11)
        for day in range(1, 31)
        if day % 7
    ]
    done.append(["Teltow", "2026-11-30", "failed", "the POS refused"])
    text = json.dumps(reprocess_details(done), ensure_ascii=False)
    assert "Teltow*, changed (52): 2026-10-01 to 10-06, 2026-10-08 to 10-13" in text
    assert "2026-11-29" in text and "2026-11-22 to 11-27" in text
    assert "2026-11-30 · Teltow: the POS refused" in text


def test_each_commands_help_names_the_other_commands_helps():
    """``/pos help`` listed only ``/pos``'s subcommands: ``/transfer``, ``/ledger`` and
    ``/stock`` were found only in README."""
    for command in COMMANDS:
        footer = json.dumps(help_blocks(command)[-1], ensure_ascii=False)
        others = [name for name in COMMANDS if name != command]
        assert others and all(f"`{name} help`" in footer for name in others)
        assert f"`{command} help`" not in footer


def test_an_offer_of_more_days_than_a_catch_up_takes_names_where_it_starts():
    """A scheduler down for over a year: the button takes the latest 400 days (a Catch up's
    limit, ``catch_up_range``) and the message says so, instead of a button that refuses."""
    first, last = date(2024, 1, 1), date(2025, 6, 30)
    blocks = missed_days_blocks("Mitte <1>", 3, 7, first, last, 547)
    shown = json.dumps(blocks)
    assert "547 days of *Mitte &lt;1&gt;* are not transferred, 2024-01-01 to 2025-06-30" in shown
    assert "Catch up takes the latest 400 days, from 2024-05-27" in shown
    button = blocks[1]["elements"][0]
    value = CatchUpValue.model_validate_json(button["value"])
    assert (value.location_id, value.first, value.last) == (7, date(2024, 5, 27), last)
    assert (last - value.first).days + 1 == CATCH_UP_MAX_DAYS
    assert message_problems(blocks) == []
