"""``stockpot stock`` and ``stockpot ledger variance``, end to end with the README's example
files, on both databases."""

from __future__ import annotations

import getpass
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from stockpot.core.models import Job, JobKind
from tests.catalogs import business_day, calendar_day, late_day_start, locations_added

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COMPANY = "Trattoria Esempio"


@pytest.fixture
def cli(cli):
    """The shared ``cli`` (tests/bot/conftest.py), with the README's catalog and mappings."""
    cli("catalog", "import", str(EXAMPLES / "catalog.yaml"))
    cli("mappings", "import", str(EXAMPLES / "mappings.yaml"))
    return cli


def stock(cli, *args, code=0):
    return cli("stock", *args[:1], "--company", COMPANY, *args[1:], code=code)


def test_the_readme_stock_walkthrough(cli, database):
    opening = json.loads(
        stock(
            cli,
            "count",
            "--file",
            str(EXAMPLES / "count-2026-11-26.yaml"),
            "--json",
            "--by",
            "cli:anna",
        )
    )
    assert opening["posted_by"] == "cli:anna" and opening["business_date"] == "2026-11-26"
    cli(
        "transfer",
        "run",
        "--location",
        "Main room",
        "--date",
        "2026-11-27",
        "--lines",
        str(EXAMPLES / "sales-2026-11-27.json"),
    )
    receipt = stock(
        cli,
        "receive",
        "--storage-unit",
        "Kitchen",
        "--date",
        "2026-11-27",
        "--file",
        str(EXAMPLES / "delivery-2026-11-27.csv"),
        "--supplier",
        "Metro",
    )
    assert "posted receipt" in receipt and "22.00 EUR" in receipt  # 25 kg at 0.88
    closing = stock(
        cli,
        "count",
        "--storage-unit",
        "Kitchen",
        "--date",
        "2026-11-27",
        "--file",
        str(EXAMPLES / "count-2026-11-27.csv"),
    )
    assert "not counted (left empty): Water" in closing
    with database.session() as session:  # the closing count queued its variance report once
        queued = session.execute(select(Job.kind, Job.business_date)).tuples().all()
    assert queued == [(JobKind.VARIANCE, date(2026, 11, 27))]
    report = json.loads(cli("ledger", "variance", "--company", COMPANY, "--json"))
    assert len(report) == 1 and report[0]["opening_count"] == "2026-11-26"
    assert report[0]["untransferred"] == []  # 2026-11-27 was transferred: no note
    lines = {line["ingredient"]: line for line in report[0]["lines"]}
    mozzarella = lines["Mozzarella"]
    assert (mozzarella["actual"], mozzarella["theoretical"]) == ("0.4", "0.260416667")
    assert mozzarella["value"] == "1.367916663"  # 0.139583333 kg at 9.80 (the receipt's cost)
    assert report[0]["total_value"] == "1.759616663"  # flour at the receipt's 0.88
    moved = json.loads(
        cli(
            "ledger",
            "movements",
            "--company",
            COMPANY,
            "--from",
            "2026-11-27",
            "--to",
            "2026-11-27",
            "--json",
        )
    )
    receipts = [m for m in moved if m["type"] == "RECEIPT"]
    assert {(m["posted_by"], m["posting_id"]) for m in receipts} == {
        ("cli:" + getpass.getuser(), 2)
    }
    text = cli("ledger", "variance", "--company", COMPANY, "--storage-unit", "Kitchen")
    assert "total variance: 1.76 EUR" in text
    balances = cli("ledger", "balances", "--company", COMPANY)
    assert "Mozzarella      6.6" in balances and "64.68 EUR" in balances


def test_arguments_dry_run_and_moves(cli):
    preview = stock(
        cli,
        "receive",
        "--storage-unit",
        "Bar",
        "House red=6@6.2",
        "--dry-run",
        "--date",
        "2026-11-27",
    )
    assert preview.startswith("would post") and "37.20 EUR" in preview
    assert "Bar" not in cli("ledger", "balances", "--company", COMPANY)
    moved = json.loads(
        stock(cli, "move", "--storage-unit", "Bar", "--to", "Kitchen", "House red=1.5l", "--json")
    )
    assert moved["lines"][0]["quantity"] == "2" and moved["to_storage_unit"] == "Kitchen"


def test_a_large_quantity_is_grouped_in_tables_and_exact_in_json(cli):
    """A table showed 1000000 beside 880,000.00 EUR; `--json` stays ungrouped for programs."""
    stock(
        cli, "receive", "--storage-unit", "Kitchen", "Flour=1000000kg@0.88", "--date", "2026-11-27"
    )
    table = cli("ledger", "balances", "--company", COMPANY)
    assert "Flour       1,000,000  kg    880,000.00 EUR" in table
    rows = json.loads(cli("ledger", "balances", "--company", COMPANY, "--json"))
    assert {"ingredient": "Flour", "quantity": "1000000"}.items() <= next(
        r for r in rows if r["ingredient"] == "Flour"
    ).items()


def test_a_variance_over_days_not_transferred_says_so(cli, database):
    locations_added(database, date(2026, 11, 1))
    for day in ("2026-11-26", "2026-11-27"):
        stock(cli, "count", "--storage-unit", "Kitchen", "Flour=10", "--date", day)
    text = cli("ledger", "variance", "--company", COMPANY, "--storage-unit", "Kitchen")
    assert (
        "note: Sales of Fri 2026-11-27 at Main room (transferred when its CSV file is imported) "
        "are not transferred yet: theoretical usage counts none of them; run `stockpot ledger "
        "variance --company 'Trattoria Esempio' --storage-unit Kitchen` again after the "
        "transfer."
    ) in text
    report = json.loads(cli("ledger", "variance", "--company", COMPANY, "--json"))
    assert report[0]["untransferred"] == [
        {"location": "Main room", "days": ["2026-11-27"], "due": None}
    ]


def test_bad_files_name_their_lines_and_post_nothing(cli, tmp_path):
    bad = tmp_path / "count.csv"
    bad.write_text(
        "ingredient,quantity,unit\nFlour,12,kg\nFlour,abc,kg\nMozarella,3,kg\nBasil,2,l\n"
    )
    output = stock(cli, "count", "--storage-unit", "Kitchen", "--file", str(bad), code=1)
    assert "line 3: quantity: 'abc' is not a number; write it with the digits 0-9" in output
    bad.write_text("ingredient,quantity,unit\nFlour,12,kg\nMozarella,3,kg\nBasil,2,l\n")
    output = stock(cli, "count", "--storage-unit", "Kitchen", "--file", str(bad), code=1)
    assert "count.csv: 2 errors, nothing was imported" in output
    assert (
        "line 3: ingredient: unknown ingredient 'Mozarella'; did you mean 'Mozzarella'?" in output
    )
    assert "line 4: unit: unit 'l' cannot be converted to 'g'" in output
    assert "Flour" not in cli("ledger", "balances", "--company", COMPANY)
    output = stock(cli, "waste", "--storage-unit", "Kitchen", "Flour 2kg", code=1)
    assert "should read ingredient=quantity[unit][@unit cost]" in output


def test_hostile_count_files_are_refused_with_their_line(cli, tmp_path):
    """A cell over the csv module's limit raised _csv.Error (a traceback); a quote left open
    took every later line into one cell (Sugar's count lost, Flour "not counted"); a bad
    unit cost was blamed on the quantity; a cp1252 file and a YAML date that is no date were
    tracebacks."""
    bad = tmp_path / "count.csv"
    cases = [
        (
            f"ingredient,quantity\nFlour,{'1' * 200_000}\n".encode(),
            "line 2: not readable as CSV (field larger than field limit (131072)); check the "
            "quotes up to this line",
        ),
        (
            b'ingredient,quantity\nBasil,2\n"Flour,1\nMozzarella,3\n',
            "line 4: not readable as CSV (unexpected end of data); check the quotes up to "
            "this line",
        ),
        (
            b"ingredient,quantity,unit,unit_cost\nFlour,12,kg,abc\n",
            "line 2: unit_cost: 'abc' is not a number; write it with the digits 0-9 and a '.' for "
            "decimals, e.g. 2 or 1.5",
        ),
        (
            "ingredient,quantity\nCaf\u00e9,1\n".encode("cp1252"),
            "line 2: not UTF-8 text (byte 0xe9 is not UTF-8)",
        ),
        (
            b"ingredient,quantity\nFlour,12\nBa\x00sil,2\n",
            "line 3: column 'ingredient': " + NUL_FIX,
        ),
        (
            "ingredient,quantity\nFlour,12\n".encode("utf-16"),
            "line 1: not UTF-8 text (byte 0xff is not UTF-8)",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00", "line 1: column 1: " + NUL_FIX),
    ]
    for data, expected in cases:
        bad.write_bytes(data)
        output = stock(cli, "count", "--storage-unit", "Kitchen", "--file", str(bad), code=1)
        assert expected in output and "Traceback" not in output, output
    dated = tmp_path / "count.yaml"
    dated.write_text("date: 2026-02-30\nlines:\n  - {ingredient: Flour, quantity: 1}\n")
    output = stock(cli, "count", "--storage-unit", "Kitchen", "--file", str(dated), code=1)
    assert "line 1: not valid YAML: '2026-02-30' is not a valid timestamp" in output
    assert "Flour" not in cli("ledger", "balances", "--company", COMPANY)


NUL_FIX = (
    'a NUL character ("\\0") is not accepted; remove it from the file, or, if the file is not '
    "text (an Excel workbook, an image, UTF-16 text), save it as CSV (in Excel: Save as → CSV "
    "UTF-8)"
)


def test_a_delivery_file_with_a_nul_is_refused_at_its_place_as_a_till_export_is(cli, tmp_path):
    """The sales CSV refused a NUL at its line and column; a stock file's CSV took it into an
    ingredient's name. Nothing of the file is posted."""
    delivery = tmp_path / "delivery.csv"
    delivery.write_bytes(b"ingredient,quantity,unit_cost\nFlour,25,0.9\nBasil,2,1\x00\n")
    output = stock(cli, "receive", "--storage-unit", "Kitchen", "--file", str(delivery), code=1)
    assert "delivery.csv: 1 error, nothing was imported" in output
    assert "line 3: column 'unit_cost': " + NUL_FIX in output
    assert "Flour" not in cli("ledger", "balances", "--company", COMPANY)


def test_the_template_lists_the_units_ingredients_with_their_unit(cli):
    template = stock(cli, "template", "--storage-unit", "Bar")
    assert template.splitlines()[0] == "ingredient,quantity,unit"
    assert "House red,,pcs" in template and "Basil,,g" in template


def test_waste_beyond_the_stock_is_posted_and_says_what_goes_below_zero(cli):
    """Waste larger than the stock is posted (a count sets the balance right) and the answer
    names what went below zero, rounded in its unit; `--json` keeps it exact."""
    stock(cli, "count", "--storage-unit", "Kitchen", "Flour=0.2", "Basil=5", "--date", "2026-11-26")
    text = stock(cli, "waste", "--storage-unit", "Kitchen", "Flour=533.3333g", "Basil=1g")
    warned = text.split("\n", 1)[1].split("below zero now: ")[1:]
    assert warned == ["Flour in Kitchen, -0.333 kg (posted all the same; a count sets it right)\n"]
    assert "-0.3333333 " in cli("ledger", "balances", "--company", COMPANY)
    moved = json.loads(
        stock(cli, "move", "--storage-unit", "Bar", "--to", "Kitchen", "House red=1", "--json")
    )
    assert moved["below_zero"] == [
        {"storage_unit": "Bar", "ingredient": "House red", "unit": "pcs", "balance": "-1"}
    ]


def test_numbers_in_stock_arguments_and_files_are_refused_as_typed_by_their_fields_rule(
    cli, tmp_path
):
    """`stockpot stock receive` said of a unit cost of 1e19 "1E+19 is too large; quantities
    must lie between …" (the quantities' range for money), of `NaN` "NaN is not a finite
    number" (a CSV cell's `NaN` "is not a number"), and echoed 1e-400 as 1.000000E-400."""
    output = stock(
        cli,
        "receive",
        "--storage-unit",
        "Kitchen",
        "Flour=1kg@1e19",
        "Basil=1e-400g",
        "Flour=1kg@NaN",
        code=1,
    )
    cost_range = (
        "a unit cost must lie between 0 and 999,999,999.999999999 per unit, in the company's "
        "currency, with at most 9 decimal places"
    )
    assert f"line 1: unit_cost: 'Flour=1kg@1e19': '1e19' is too large; {cost_range}" in output
    assert "line 2: quantity: 'Basil=1e-400g': '1e-400' has more than 9 decimal places" in output
    assert "line 3: unit_cost: 'Flour=1kg@NaN': 'NaN' is not a number; write it with" in output
    delivery = tmp_path / "delivery.csv"
    delivery.write_text("ingredient,quantity,unit,unit_cost\nFlour,1,kg,1e19\n")
    output = stock(cli, "receive", "--storage-unit", "Kitchen", "--file", str(delivery), code=1)
    assert f"line 2: unit_cost: '1e19' is too large; {cost_range}" in output
    delivery = tmp_path / "delivery.yaml"
    delivery.write_text(
        "storage_unit: Kitchen\nlines:\n  - {ingredient: Flour, quantity: 1, unit_cost: 1e19}\n"
        "  - {ingredient: Flour, quantity: 1, unit_cost: .nan}\n"
    )
    output = stock(cli, "receive", "--file", str(delivery), code=1)
    assert f"line 3: lines[0].unit_cost: '1e19' is too large; {cost_range}" in output
    assert "line 4: lines[1].unit_cost: '.nan' is not a number; write it with the" in output
    delivery.write_text("lines:\n  - {ingredient: Flour, quantity: 1, unit: g, unit_cost: 2e6}\n")
    output = stock(cli, "receive", "--storage-unit", "Kitchen", "--file", str(delivery), code=1)
    assert (
        "line 2: unit_cost: 2,000,000 EUR per g is 2,000,000,000 EUR per kg of Flour, too large; "
        "a unit cost must lie between 0 and 999,999,999.999999999 EUR per kg" in output
    )


def test_a_date_typed_today_or_yesterday_counts_from_the_units_business_day(cli, database):
    """`--date today` is the day a posting given no date takes: Kitchen's business day (the
    calendar's yesterday here, as at 01:58 before a 05:00 day start), not the calendar's
    date, which was ahead of the day's sales; `yesterday` the day before it. Bar takes no
    location's sales and stays on the company's date."""
    around = late_day_start(database)

    def dated(unit: str, day: str) -> date:
        args = ("waste", "--storage-unit", unit, "--date", day, "Flour=1", "--json")
        return date.fromisoformat(json.loads(stock(cli, *args))["business_date"])

    assert dated("Kitchen", "today") in around(business_day)
    assert dated("Kitchen", "Yesterday") + timedelta(days=1) in around(business_day)
    assert dated("Bar", "today") in around(calendar_day)
    refused = stock(
        cli, "waste", "--storage-unit", "Kitchen", "--date", "27.11.2026", "Flour=1", code=1
    )
    assert "--date: '27.11.2026' is not a date: use YYYY-MM-DD, `yesterday` or `today`" in refused
