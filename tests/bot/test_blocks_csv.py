"""The CSV builders stay within Block Kit's limits, and show cells inert and escaped."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from stockpot.bot.blocks.csv import imported_blocks, preview_blocks, upload_modal
from stockpot.bot.metadata import CsvFileValue
from stockpot.core.csv_import.dialect import Dialect
from stockpot.core.csv_import.importer import ImportResult, Preview
from stockpot.core.csv_import.reader import CsvRow, RowProblem
from stockpot.core.csv_import.scan import Scan
from tests.bot.test_blocks import LONG, check

FORMULA = '=HYPERLINK("http://evil.example","<click>")'


def big_preview() -> Preview:
    scan = Scan(LONG, Dialect("cp1252", ";"), "0" * 64, 10**7, rows=10**6, invalid_rows=5000)
    scan.error_count = 5000
    scan.errors = [RowProblem(n, LONG, FORMULA * 5, LONG) for n in range(20)]
    scan.sample = [
        CsvRow(n, date(2026, 11, 27), LONG, (FORMULA,) * 50, Decimal(-1)) for n in range(5)
    ]
    for n in range(400):
        scan.totals[(date(2026, 1, 1) + timedelta(days=n), LONG, f"{FORMULA}{n}")] = Decimal(n)
    return Preview(scan, {f"{FORMULA}{n}": Decimal(n) for n in range(1000)}, duplicate_of=3)


def test_a_huge_preview_fits_and_shows_no_live_formula_or_markup():
    value = CsvFileValue(file_id="F1", connection_id=1, thread_ts="1.2")
    blocks = preview_blocks(LONG, "Kasse (CSV)", big_preview(), value, needs_date=False)
    payload = check(blocks)
    text = json.dumps(payload)
    assert '"=HYPERLINK' not in text and " =HYPERLINK" not in text
    assert "'=HYPERLINK" in text and "<click>" not in text and "&lt;cli" in text
    assert "Import valid rows only" in text and "already imported (same content)" in text
    with_date = preview_blocks(LONG, "Kasse (CSV)", big_preview(), value, needs_date=True)
    assert len(with_date) <= 50 and any(b.get("block_id") == "csv_date_block" for b in with_date)


def test_the_outcome_and_the_modal_fit():
    result = ImportResult(1, LONG, 10**6, 0)
    check(imported_blocks(result))
    modal = upload_modal("{}", [(n, LONG) for n in range(300)])
    select = modal["blocks"][1]["element"]
    assert len(select["options"]) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in select["options"])


def test_the_preview_names_the_items_it_knows():
    """The first rows are there to check the file was read right; "101 × 14" left the
    kitchen to remember that 101 is the Margherita. A code the catalog knows gets its name."""
    scan = Scan("kasse-export.csv", Dialect("utf-8", ";"), "0" * 64, 100, rows=2)
    scan.sample = [
        CsvRow(2, date(2026, 11, 27), "Filiale Mitte", ("101",), Decimal(14)),
        CsvRow(3, date(2026, 11, 27), "Filiale Mitte", ("155",), Decimal(3)),
    ]
    preview = Preview(scan, {"155": Decimal(3)}, None, names={"101": "Pizza <Margherita>"})
    value = CsvFileValue(file_id="F1", connection_id=1, thread_ts="1.2")
    text = json.dumps(
        check(preview_blocks("kasse-export.csv", "Kasse (CSV)", preview, value, needs_date=False)),
        ensure_ascii=False,
    )
    assert "Filiale Mitte · Pizza &lt;Margherita&gt; (101) × 14" in text
    assert "Filiale Mitte · 155 × 3" in text and "155 sold 3" in text


def test_the_outcome_says_it_of_one_unmapped_code_and_them_of_more():
    """ "1 unmapped code: `/pos unmapped` maps them" read as a slip."""
    one = ImportResult(1, "kasse-export.csv", 12, 0, unmapped={"155": Decimal(3)})
    two = ImportResult(2, "kasse-export.csv", 12, 0, unmapped={"155": Decimal(3), "9": 1})
    assert "1 unmapped code: `/pos unmapped` maps it" in json.dumps(check(imported_blocks(one)))
    assert "2 unmapped codes: `/pos unmapped` maps them" in json.dumps(check(imported_blocks(two)))
