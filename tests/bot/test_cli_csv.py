"""``stockpot csv`` end to end, on both databases, with files the test writes."""

from __future__ import annotations

import json

from stockpot.core.catalog.importer import import_catalog
from tests.core.csv_import.files import GERMAN, KASSE, setup_csv


def test_profiles_import_dry_run_duplicate_and_undo(cli, tmp_path, database):
    cli("db", "upgrade")
    setup_csv(database)
    listed = cli("csv", "profiles", "--company", "Trattoria Esempio")
    assert "csv:Kasse  locations: Filiale Mitte" in listed
    assert "source_column=Artikelnummer" in listed and "decimal_separator=','" in listed
    assert json.loads(cli("csv", "profiles", "--json"))[0]["profile"]["code_separator"] == "+"

    export = tmp_path / "kasse.csv"
    export.write_bytes(GERMAN)
    preview = cli("csv", "import", str(export), "--connection", "Kasse", "--dry-run")
    assert "cp1252, semicolon, 5 rows, dates 2026-11-27, 2026-11-28 (dry run" in preview
    assert "777" in preview.split("Unmapped codes")[1]

    imported = cli("csv", "import", str(export), "--connection", "csv:Kasse")
    # named by its file, as Slack names it; the number only where a command takes it
    assert "Imported kasse.csv (import 1: `stockpot csv undo 1` takes it back): 5 rows" in imported
    assert "Transfer of Filiale Mitte, 2026-11-28: posted" in imported

    refused = cli("csv", "import", str(export), "--connection", "Kasse", code=1)
    assert "kasse.csv was already imported (" in refused and "--force" in refused
    assert (
        "undo that import first if it is to be imported again (import 1: `stockpot csv undo 1` "
        "takes it back), or pass --force" in refused
    )
    listing = cli("csv", "imports", "--connection", "Kasse")
    assert "kasse.csv" in listing and "imported" in listing

    assert (
        "Import of kasse.csv (import 1) undone: 2 days now as if it had never been imported; "
        "other imports of those days stay." in cli("csv", "undo", "1")
    )
    assert "kasse.csv (import 1) was already undone" in cli("csv", "undo", "1", code=1)


def test_bad_files_and_names_give_one_clear_message(cli, tmp_path, database):
    cli("db", "upgrade")
    setup_csv(database)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Datum;Artikelnummer;Menge\n27.11.2026;101;-\n27.11.2026;300;1\n")
    out = cli("csv", "import", str(bad), "--connection", "Kasse", code=1)
    assert "1 error, nothing was imported" in out and "line 2, column 'Menge'" in out
    ok = cli("csv", "import", str(bad), "--connection", "Kasse", "--valid-only")
    assert "1 row, 1 invalid row left out" in ok
    assert "no CSV connection 'Nope'" in cli(
        "csv", "import", str(bad), "--connection", "Nope", code=1
    )
    tsv = tmp_path / "bons.tsv"
    tsv.write_bytes(b"Outlet\tCodes\tQty\nRoom\t101\t1\n")
    assert "has no date and none was given" in cli(
        "csv", "import", str(tsv), "--connection", "Bons", code=1
    )
    one = cli(
        "csv", "import", str(tsv), "--connection", "Bons", "--date", "2026-11-27", "--dry-run"
    )
    assert ", 1 row, dates 2026-11-27 (dry run" in one  # it said "1 rows"
    dated = cli("csv", "import", str(tsv), "--connection", "Bons", "--date", "2026-11-27")
    assert "Transfer of Room, 2026-11-27: posted" in dated


def test_a_dry_run_fails_when_the_import_would_be_refused(cli, tmp_path, database):
    """`--dry-run` of a file with a wrong row printed its errors and exited 0, so a script
    (or `--dry-run && import`) took it for a file that imports."""
    cli("db", "upgrade")
    setup_csv(database)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Datum;Artikelnummer;Menge\n27.11.2026;101;-\n27.11.2026;300;1\n")
    args = ("csv", "import", str(bad), "--connection", "Kasse", "--dry-run")
    refused = cli(*args, code=1)
    assert "1 error:\n  line 2, column 'Menge'" in refused
    assert refused.endswith(
        "error: the import would post nothing: fix the file, or import the valid rows only "
        "(--valid-only)\n"
    )
    assert "1 error:" in cli(*args, "--valid-only"), "the valid rows would import"
    cli("csv", "import", str(bad), "--connection", "Kasse", "--valid-only")
    again = cli(*args, "--valid-only", code=1)
    assert "This file was already imported as bad.csv (import 1: `stockpot csv undo 1`" in again
    assert again.endswith("it was imported before (--force imports it again)\n")
    cli(*args, "--valid-only", "--force")


def test_a_dry_run_names_the_codes_as_the_file_and_the_catalog_do(cli, tmp_path, database):
    """The CLI's dry run listed "777    1" where Slack's preview of the same file said
    "Käsekuchen (777) sold 1": both now list the unmapped codes, most sold first, by one
    rule (``Preview.unmapped_lines``)."""
    cli("db", "upgrade")
    setup_csv(database)
    named = KASSE.replace(
        "        date_source_column: Datum\n",
        "        date_source_column: Datum\n        name_source_column: Bezeichnung\n",
    )
    import_catalog(database.factory, named, source="kasse.yaml")
    export = tmp_path / "kasse.csv"
    export.write_bytes(GERMAN)
    preview = cli("csv", "import", str(export), "--connection", "Kasse", "--dry-run")
    assert preview.split("Unmapped codes")[1].splitlines()[1:] == ["  Käsekuchen (777) sold 1"]
    assert "Margherita (101)" in preview  # the first rows' codes, named by the catalog
