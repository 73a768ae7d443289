"""``stockpot ledger export``: every movement of the period, streamed as CSV or JSON lines,
with names a spreadsheet would run written inert and quantities exact."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select, update

from stockpot.core.db import unit_of_work
from stockpot.core.ledger_export import COLUMNS
from stockpot.core.models import Ingredient, LedgerMovement
from tests.bot.test_cli import CATALOG, COMPANY, MAPPINGS, SALES


def posted_day(cli, database) -> None:
    cli("catalog", "import", CATALOG)
    cli("mappings", "import", MAPPINGS)
    with unit_of_work(database.factory) as session:
        session.execute(
            update(Ingredient)
            .where(Ingredient.name == "Mozzarella")
            .values(name='=HYPERLINK("http://x","Mozzarella")')
        )
    cli("transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES)


def test_csv_has_every_movement_with_its_origin_and_inert_names(cli, database):
    posted_day(cli, database)
    exported = cli(
        "ledger", "export", "--company", COMPANY, "--from", "2026-11-01", "--to", "2026-11-30"
    )
    rows = list(csv.DictReader(io.StringIO(exported)))
    with database.session() as session:
        count = session.scalar(select(func.count()).select_from(LedgerMovement))
    assert tuple(rows[0]) == COLUMNS and len(rows) == count > 0
    mozzarella = next(r for r in rows if "Mozzarella" in r["ingredient"])
    assert mozzarella["ingredient"] == '\'=HYPERLINK("http://x","Mozzarella")'
    assert mozzarella["quantity"].startswith("-"), "numbers are not neutralised, names are"
    assert {r["origin"] for r in rows} == {"manual"}
    assert {r["location"] for r in rows} == {"Main room"}
    assert all(r["run_id"] and r["business_date"] == "2026-11-27" for r in rows)


def test_jsonl_is_one_object_per_movement_and_a_period_without_movements_is_empty(cli, database):
    posted_day(cli, database)
    lines = cli(
        "ledger",
        "export",
        "--company",
        COMPANY,
        "--from",
        "2026-11-27",
        "--to",
        "2026-11-27",
        "--format",
        "jsonl",
    ).splitlines()
    objects = [json.loads(line) for line in lines]
    assert objects and all(set(o) == set(COLUMNS) for o in objects)
    assert any(o["ingredient"].startswith("=HYPERLINK") for o in objects), "JSON keeps names"
    empty = cli(
        "ledger", "export", "--company", COMPANY, "--from", "2026-12-01", "--to", "2026-12-31"
    )
    assert empty.strip() == ",".join(COLUMNS)
    refused = cli(
        "ledger",
        "export",
        "--company",
        COMPANY,
        "--from",
        "2026-12-31",
        "--to",
        "2026-12-01",
        code=1,
    )
    assert "--to is before --from" in refused


def test_a_refused_export_leaves_the_output_file_as_it_was(cli, database, tmp_path):
    """The file was opened (and emptied) before the company was looked up: a mistyped
    `--company` turned last month's export into an empty file, and an export that failed
    halfway left half a file. It is replaced only once everything is written."""
    posted_day(cli, database)
    exports = tmp_path / "exports"
    exports.mkdir()
    kept = exports / "november.csv"
    kept.write_text("last month's export\n")
    args = ["ledger", "export", "--from", "2026-11-27", "--to", "2026-11-27", "--output"]
    refused = cli(*args, str(kept), "--company", "Trattoria Esempo", code=1)
    assert "no company 'Trattoria Esempo'" in refused
    assert kept.read_text() == "last month's export\n"
    assert [p.name for p in exports.iterdir()] == ["november.csv"], "no temporary file left"
    cli(*args, str(kept), "--company", COMPANY)
    assert kept.read_text().startswith(",".join(COLUMNS))


def test_an_output_file_that_cannot_be_written_is_one_clear_line(cli, database, tmp_path):
    """A directory that does not exist ended in open()'s FileNotFoundError traceback."""
    posted_day(cli, database)
    missing = tmp_path / "no-such-dir" / "out.csv"
    args = ["--company", COMPANY, "--from", "2026-11-27", "--to", "2026-11-27"]
    refused = cli("ledger", "export", *args, "--output", str(missing), code=1)
    assert refused == f"error: cannot write {missing}: No such file or directory\n"
    why = ["ledger", "why", "Flour", "--company", COMPANY, "--date", "2026-11-27"]
    refused = cli(*why, "--lines", str(missing), code=1)
    assert refused == f"error: cannot write {missing}: No such file or directory\n"


def test_movements_refuse_a_period_that_runs_backwards_as_the_export_does(cli, database):
    """`ledger movements --from 2026-11-30 --to 2026-11-01` printed an empty table, which
    reads as 'nothing moved in November'; the export refused the same dates."""
    posted_day(cli, database)
    for command in ("movements", "export"):
        args = ["ledger", command, "--company", COMPANY, "--from", "2026-11-30"]
        refused = cli(*args, "--to", "2026-11-01", code=1)
        assert refused == "error: --to is before --from: give the first business date first\n"
        assert "2026-11-27" in cli(*args[:-1], "2026-11-01", "--to", "2026-11-30")
