"""The operator CLI, end to end, on both databases, with the README's example files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from stockpot.bot.cli import main
from stockpot.bot.cli.recipe import _exact
from stockpot.core.models import Company, Connection
from stockpot.core.yaml_source import MEGABYTE, YAML_MAX_BYTES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CATALOG = str(EXAMPLES / "catalog.yaml")
MAPPINGS = str(EXAMPLES / "mappings.yaml")
SALES = str(EXAMPLES / "sales-2026-11-27.json")
COMPANY = "Trattoria Esempio"


def test_a_file_with_thousands_of_errors_shows_the_first_and_counts_the_rest(
    cli, database, tmp_path
):
    """2,000 errors: the first 20 by line, "… and 1,980 more" and the option that lists
    them all (every one with it); nothing is written either way."""
    bad = tmp_path / "big.yaml"
    bad.write_text(
        "company: Big\ningredients:\n"
        + "".join(f"  - {{name: I{i}, base_unit: zz}}\n" for i in range(2000))
    )
    output = cli("catalog", "import", str(bad), code=1)
    lines = output.splitlines()
    assert lines[0] == f"error: {bad}: 2,000 errors, nothing was imported:"
    assert lines[1].startswith("  line 3: ingredients[0].base_unit: unknown unit 'zz'")
    assert lines[20].startswith("  line 22: ingredients[19].base_unit")
    assert lines[21:] == [
        "  … and 1,980 more",
        f"every error: stockpot catalog import {bad} --all-errors",
    ]
    every = cli("catalog", "import", str(bad), "--all-errors", code=1).splitlines()
    assert len(every) == 2001 and every[-1].startswith("  line 2002: ingredients[1999]")
    with database.session() as session:
        assert session.scalar(select(Company.id).where(Company.name == "Big")) is None
    mappings = tmp_path / "map.yaml"
    cli("catalog", "import", CATALOG)
    mappings.write_text(
        f"company: {COMPANY}\nconnection: csv:Till export\nmappings:\n"
        + "".join(f"  - {{pos_code: '{i}', ingredient: X, quantity: -1}}\n" for i in range(30))
    )
    refused = cli("mappings", "import", str(mappings), code=1)
    assert len(refused.splitlines()) < 25 and "--all-errors" in refused


def test_a_file_too_large_to_read_whole_is_refused_by_its_size_and_nothing_is_written(
    cli, database, tmp_path
):
    """A file given by mistake (a dump, a disk image) is refused after 64 MB, not read whole
    into memory and parsed; a device that never ends is refused the same way."""
    huge = tmp_path / "count.csv"
    with huge.open("wb") as file:
        file.truncate(64 * 1024 * 1024 + 1)  # sparse: no disk written
    for path in (huge, Path("/dev/zero")):
        output = cli("stock", "count", "--company", "X", "--file", str(path), code=1)
        assert output.splitlines()[:2] == [
            f"error: {path.name}: 1 error, nothing was imported:",
            "  the file is larger than 64 MB, the most read at once; check that it is the "
            "file you meant, or split it (a catalog by company, mappings by connection)",
        ]
    with database.session() as session:
        assert session.scalar(select(Company.id)) is None


def test_a_yaml_file_over_4_mb_is_refused_by_its_size_before_it_is_parsed(cli, database, tmp_path):
    """A 10 MB catalog of 280,000 ingredients took 193 s and 1.8 GB to import. A catalog or
    mappings file over 4 MB is refused by its size before a byte is read (this sparse one is
    NULs, which YAML would refuse if it were read), a device once 4 MB are read, and a stock
    file's YAML before it is parsed; a file of exactly 4 MB is imported."""
    big = tmp_path / "catalog.yaml"
    with big.open("wb") as file:
        file.truncate(int(10.4 * MEGABYTE))
    told = (
        "; a YAML file (catalog, mappings, stock lines) may be at most 4 MB: split it into "
        "several files, each imported in turn"
    )
    for command, path, size in (
        ("catalog", big, "is 10.4 MB"),
        ("mappings", Path("/dev/zero"), "is larger than 4 MB"),
    ):
        output = cli(command, "import", str(path), code=1)
        assert output.splitlines()[:2] == [
            f"error: {path}: 1 error, nothing was imported:",
            f"  the file {size}{told}",
        ]
    stock = tmp_path / "count.yaml"
    stock.write_text("storage_unit: Kitchen\n" + "#" * YAML_MAX_BYTES + "\nlines: []\n")
    output = cli("stock", "count", "--company", COMPANY, "--file", str(stock), code=1)
    assert output.splitlines()[:2] == [
        "error: count.yaml: 1 error, nothing was imported:",
        f"  the file is 4.1 MB{told}",
    ]
    with database.session() as session:
        assert session.scalar(select(Company.id)) is None
    catalog = Path(CATALOG).read_bytes()
    at_limit = tmp_path / "whole.yaml"
    at_limit.write_bytes(catalog + b"#" * (YAML_MAX_BYTES - len(catalog) - 1) + b"\n")
    assert at_limit.stat().st_size == YAML_MAX_BYTES
    assert "recipes: 3 created" in cli("catalog", "import", str(at_limit))


def test_the_readme_walkthrough(cli):
    assert "up to date" in cli("db", "upgrade")
    assert "recipes: 3 created" in cli("catalog", "import", CATALOG)
    assert "mappings: 5 created" in cli("mappings", "import", MAPPINGS)
    run = json.loads(
        cli(
            "transfer",
            "run",
            "--location",
            "Main room",
            "--date",
            "2026-11-27",
            "--lines",
            SALES,
            "--json",
        )
    )
    assert (run["outcome"], run["generation"], run["stats"]["unmapped"]) == ("posted", 1, 1)
    assert run["unmapped"][0]["name"] == "Tiramisu"
    again = cli(
        "transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES
    )
    assert "unchanged: same sales and mappings as run 1" in again

    balances = json.loads(cli("ledger", "balances", "--company", COMPANY, "--json"))
    assert {(b["storage_unit"], b["ingredient"]): (b["quantity"], b["unit"]) for b in balances} == {
        ("Bar", "House red"): ("-0.6", "pcs"),
        ("Kitchen", "Basil"): ("-6", "g"),
        ("Kitchen", "Espresso beans"): ("-0.045", "kg"),
        ("Kitchen", "Flour"): ("-0.36", "kg"),
        ("Kitchen", "Mozzarella"): ("-0.260416667", "kg"),
        ("Kitchen", "Tomato sauce"): ("-0.16", "l"),
        ("Kitchen", "Water"): ("-0.22", "l"),
    }
    movements = json.loads(
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
    assert len(movements) == 7 and all(m["type"] == "ISSUE" and m["run_id"] == 1 for m in movements)
    assert all(isinstance(m["quantity"], str) for m in movements)
    mozzarella = next(m for m in movements if m["ingredient"] == "Mozzarella")
    traced = json.loads(cli("ledger", "trace", str(mozzarella["id"]), "--json"))
    assert [(t["sale_id"], t["quantity"]) for t in traced] == [
        ("S1", "2"),
        ("S2", "1"),
        ("S3", "-1"),
    ]
    assert sum(Decimal(t["contribution"]) for t in traced) == Decimal(mozzarella["quantity"])

    log = json.loads(
        cli("transfer", "log", "--location", "Main room", "--date", "2026-11-27", "--json")
    )
    assert [(r["outcome"], r["status"]) for r in log] == [
        ("posted", "succeeded"),
        ("unchanged", "succeeded"),
    ]
    listing = cli("mappings", "list", "--company", COMPANY, "--unmapped")
    assert "Tiramisu" in listing and "Margherita" not in listing
    table = cli("ledger", "balances", "--company", COMPANY)
    assert table.splitlines()[0].split() == [
        "STORAGE",
        "UNIT",
        "INGREDIENT",
        "BALANCE",
        "UNIT",
        "VALUE",
    ]
    assert "-0.83 EUR" in table  # 0.045 kg of espresso beans at 18.50


def test_a_mapping_fix_and_rerun_shows_the_correction(cli, tmp_path):
    cli("catalog", "import", CATALOG)
    cli("mappings", "import", MAPPINGS)
    cli("transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES)
    fix = tmp_path / "fix.yaml"
    fix.write_text(
        "company: Trattoria Esempio\nconnection: csv:Till export\nmappings:\n"
        '  - {pos_code: "410", pos_name: Tiramisu, ingredient: Flour, quantity: 0.05}\n'
    )
    cli("mappings", "import", str(fix))
    output = cli(
        "transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES
    )
    assert "posted (run 2, generation 2, replaces run 1)" in output
    assert "Flour                    -0.46 kg" in output
    movements = cli(
        "ledger", "movements", "--company", COMPANY, "--from", "2026-11-01", "--to", "2026-11-30"
    )
    assert movements.count("reverses") == 7


def test_errors_are_one_clear_message_and_a_failing_exit_code(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("company: X\ningredients:\n  - {name: Wine, base_unit: bottle}\n")
    output = cli("catalog", "import", str(bad), code=1)
    assert output == (
        f"error: {bad}: 1 error, nothing was imported:\n"
        "  line 3: ingredients[0].base_unit: unknown unit 'bottle'; use one of mg, g, kg, ml, cl, "
        "dl, l, pcs\n"
    )
    assert "Traceback" not in output
    cli("catalog", "import", CATALOG)
    assert "no location 'Terrace' (known: Main room)" in cli(
        "transfer", "run", "--location", "Terrace", "--date", "2026-11-27", "--lines", SALES, code=1
    )
    assert "Main room has no CSV import for 2026-11-27; import a file" in cli(
        "transfer", "run", "--location", "Main room", "--date", "2026-11-27", code=1
    )
    assert "no company 'Nope'" in cli("ledger", "balances", "--company", "Nope", code=1)


def test_a_file_that_is_not_utf8_is_one_clear_message_by_every_import(cli, tmp_path):
    """A cp1252 or binary file ended each of these in a UnicodeDecodeError traceback."""
    cli("catalog", "import", CATALOG)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("company: X\nstorage_units:\n  - {name: Caf\u00e9}\n".encode("cp1252"))
    binary = tmp_path / "day.json"
    binary.write_bytes(b"\xff\xfe\x00[")
    expected = (
        "not UTF-8 text (byte 0x{byte} is not UTF-8); save the file as UTF-8 (in Excel: CSV "
        "UTF-8; in an editor: Save with encoding UTF-8)"
    )
    for args, where in (
        (("catalog", "import", str(latin)), "line 3: " + expected.format(byte="e9")),
        (("mappings", "import", str(latin)), "line 3: " + expected.format(byte="e9")),
        (
            (
                "transfer",
                "run",
                "--location",
                "Main room",
                "--date",
                "2026-11-27",
                "--lines",
                str(binary),
            ),
            "line 1: " + expected.format(byte="ff"),
        ),
    ):
        output = cli(*args, code=1)
        assert where in output and "Traceback" not in output, output


def test_an_uninitialised_database_is_named_without_its_password(monkeypatch, tmp_path):
    (tmp_path / "empty.db").touch()  # there, but never upgraded (a missing one: test_cli_start)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(main, ["ledger", "balances", "--company", COMPANY])
    assert result.exit_code == 1
    assert "is not initialised; run `stockpot db upgrade` first" in result.output


def test_the_console_script_is_installed_and_runs_on_the_embedded_default(tmp_path):
    script = Path(sys.executable).with_name("stockpot")
    env = {"PATH": str(script.parent), "LOG_LEVEL": "WARNING", "HOME": str(tmp_path)}
    run = subprocess.run(
        [str(script), "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "database sqlite:///stockpot.db is up to date" in run.stdout
    assert (tmp_path / "stockpot.db").exists()


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("STOCKPOT_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "STOCKPOT_SECRET_KEY is required in production" in result.output
    assert not (tmp_path / "p.db").exists()


def test_secret_generate_prints_a_usable_key(monkeypatch):
    key = CliRunner().invoke(main, ["secret", "generate"]).output.strip()
    monkeypatch.setenv("STOCKPOT_ENV", "production")
    monkeypatch.setenv("STOCKPOT_SECRET_KEY", key)
    assert CliRunner().invoke(main, ["secret", "generate"]).exit_code == 0


def test_mappings_search_and_remove_with_the_days_to_rerun(cli):
    cli("catalog", "import", CATALOG)
    cli("mappings", "import", MAPPINGS)
    cli("transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES)
    found = cli("mappings", "list", "--company", COMPANY, "--search", "red")
    assert found.splitlines()[0].split()[:2] == ["CONNECTION", "CODE"]
    assert "csv:Till export" in found and "Red bottle" in found and "Espresso" not in found
    removed = cli("mappings", "remove", "Margherita", "--company", COMPANY)
    assert "Margherita is no longer mapped" in removed
    assert "1 transferred day sold it (2026-11-27)" in removed
    assert "Tip is no longer ignored" in cli("mappings", "remove", "999", "--company", COMPANY)
    listing = cli("mappings", "list", "--company", COMPANY, "--unmapped")
    assert "Margherita" in listing and "Tip" in listing
    again = cli("mappings", "remove", "Margherita", "--company", COMPANY, code=1)
    assert "Margherita is not mapped; nothing changed" in again
    unknown = cli("mappings", "remove", "Calzone", "--company", COMPANY, code=1)
    assert "no POS item 'Calzone'" in unknown


def test_a_recipe_and_why_an_ingredient_moved(cli, tmp_path):
    cli("catalog", "import", CATALOG)
    cli("mappings", "import", MAPPINGS)
    cli("transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES)
    recipe = cli("recipe", "show", "margherita", "--company", COMPANY)
    assert "issued from Kitchen unless a line says otherwise" in recipe
    assert "  - 1.8 kg Flour · from Kitchen" in recipe  # the sub-recipe's lines, indented
    assert "- 125 g Mozzarella, trim 4 % · from Kitchen" in recipe
    assert "sold as: Margherita (101) via Till export (CSV) × 1 portion" in recipe
    data = json.loads(cli("recipe", "show", "Pizza dough", "--company", COMPANY, "--json"))
    assert data["portions"] == "10" and data["used_in"] == ["Margherita"]
    assert "did you mean Margherita?" in cli(
        "recipe", "show", "Margarita", "--company", COMPANY, code=1
    )
    lines = tmp_path / "lines.csv"
    why = cli(
        "ledger",
        "why",
        "flour",
        "--company",
        COMPANY,
        "--date",
        "2026-11-27",
        "--lines",
        str(lines),
    )
    assert "Flour, 2026-11-27: -0.36 kg from sales (1 transferred day, 3 sales lines)" in why
    assert (
        "1 portion of Margherita per sale → 1 portion of Pizza dough → 1.8 kg Flour per 10 portions"
        in why
    )
    written = lines.read_text().splitlines()
    assert written[0].startswith("business_date,location,sale_id") and len(written) == 4
    exact = json.loads(
        cli("ledger", "why", "Mozzarella", "--company", COMPANY, "--date", "2026-11-27", "--json")
    )
    contributions = sum(Decimal(line["contribution"]) for line in exact["lines"])
    assert contributions == Decimal(exact["from_sales"]) == Decimal("-0.260416667")
    # the recipe's line in the unit the recipe writes it, as `recipe show` says it
    mozzarella = ("ledger", "why", "Mozzarella", "--company", COMPANY, "--date", "2026-11-27")
    assert "→ 125 g Mozzarella, trim 4 % (takes 130.208333333 g)" in cli(*mozzarella)
    # a recipe that no longer writes the line: the day's amount in the ingredient's unit
    changed = tmp_path / "catalog.yaml"
    changed.write_text(
        Path(CATALOG)
        .read_text()
        .replace("      - {ingredient: Mozzarella, quantity: 125, unit: g, trim: 0.04}\n", "")
    )
    cli("catalog", "import", str(changed))
    assert "→ 0.125 kg Mozzarella, trim 4 % (takes 0.130208333 kg)" in cli(*mozzarella)
    assert "did you mean Flour?" in cli(
        "ledger", "why", "flor", "--company", COMPANY, "--date", "2026-11-27", code=1
    )


def test_storage_units_renamed_and_archived(cli):
    cli("catalog", "import", CATALOG)
    cli("mappings", "import", MAPPINGS)
    cli("transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES)
    assert "Kitchen is now called Cucina" in cli(
        "storage", "rename", "kitchen", "Cucina", "--company", COMPANY
    )
    assert "Cucina" in cli("ledger", "balances", "--company", COMPANY)
    refused = cli("storage", "archive", "Cucina", "--company", COMPANY, code=1)
    assert "Main room take their sales from it" in refused
    assert "did you mean Cucina?" in cli(
        "storage", "archive", "Cucna", "--company", COMPANY, code=1
    )
    assert "Glass of red issue from it" in cli(
        "storage", "archive", "Bar", "--company", COMPANY, code=1
    )
    listing = cli("storage", "list", "--company", COMPANY)
    assert listing.splitlines()[0].split() == ["STORAGE", "UNIT", "ADDRESS", "LOCATIONS", "STATE"]


def test_the_cli_pauses_resumes_reports_status_and_runs_the_doctor(cli):
    cli("catalog", "import", CATALOG)
    cli("mappings", "import", MAPPINGS)
    never = cli("pos", "doctor", "--company", COMPANY, code=1)
    assert "FAIL Main room: items mapped — no transfers yet, so no sold item was checked" in never
    assert "upload a till export into a bound channel" in never
    assert "ok   Till export (CSV): sales source — CSV imports" in never
    cli("transfer", "run", "--location", "Main room", "--date", "2026-11-27", "--lines", SALES)
    assert "Main room: automatic transfers paused" in cli(
        "transfer", "pause", "--company", COMPANY, "--location", "all"
    )
    status = cli("transfer", "status", "--company", COMPANY)
    assert "Main room: active, automatic paused, last run 2026-11-27 posted" in status
    assert "resumed" in cli("transfer", "resume", "--company", COMPANY, "--location", "Main room")
    assert "did you mean Main room?" in cli(
        "transfer", "pause", "--company", COMPANY, "--location", "Main rom", code=1
    )
    day = cli(
        "pos",
        "doctor",
        "--company",
        COMPANY,
        "--location",
        "main room",
        "--date",
        "2026-11-27",
        code=1,
    )
    assert "ok   Main room, 2026-11-27: transferred — manual run: " in day
    assert "FAIL Main room, 2026-11-27: items mapped that day — 1 unmapped (Tiramisu)" in day
    assert "active —" not in day  # CSV locations are not activated
    checks = json.loads(cli("pos", "doctor", "--company", COMPANY, "--json", code=1))
    assert {"subject", "name", "ok", "detail"} <= set(checks[0])


def test_serve_says_in_one_line_when_slack_cannot_be_reached(cli, monkeypatch):
    """Bolt checks the bot token with auth.test before serving; an unreachable Slack (or a
    refused token) is an operator's configuration problem: one line naming what to check."""
    from stockpot.core.settings import get_settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-never-installed")
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{closed}/api/")
    get_settings.cache_clear()
    cli("db", "upgrade")
    unreachable = cli("serve", "--port", "0", code=1)
    assert "could not be reached" in unreachable
    assert "xoxb-never-installed" not in unreachable
    assert "Traceback" not in unreachable


def test_a_connection_is_given_its_own_pace_and_back(connected, cli):
    pace = ("pos", "pace", "--company", "Harbour Kitchen", "--connection", "sides:SIDES")
    assert "1.5 requests a second" in cli(*pace, "--requests-per-second", "1.5")
    with connected.session() as session:
        stored = session.get_one(Connection, connected.connection_id).settings
    assert stored["requests_per_second"] == 1.5
    assert "1000 requests a second" in cli(*pace, "--default"), "the setting's again"
    assert "give --requests-per-second N or --default" in cli(*pace, code=2)


def test_sides_is_connected_from_a_deploy_script_with_the_password_in_sides_password(
    cli, database, settings, monkeypatch
):
    """README said only "prompts for the password"; a script gives it in SIDES_PASSWORD (not
    as --password, which every user of the machine sees in the process list)."""
    from stockpot.sandbox.sides import DEFAULT_PASSWORD, DEFAULT_USERNAME

    cli("catalog", "import", CATALOG)
    args = ("pos", "connect-sides", "--company", COMPANY, "--username", DEFAULT_USERNAME)
    monkeypatch.setenv("SIDES_PASSWORD", "wrong")
    assert "with this password: check the username and password" in cli(*args, code=1)
    monkeypatch.setenv("SIDES_PASSWORD", DEFAULT_PASSWORD)
    assert cli(*args) == f"connected sides:SIDES for '{COMPANY}'; next: stockpot pos sync\n"
    with database.session() as session:
        assert session.scalar(select(Connection.name).where(Connection.name == "SIDES"))


def test_the_schema_goes_back_for_the_release_before_and_forward_again(cli, database):
    """README's Upgrading spoke of downgrades (what each drops), but no command made one: a
    release rolled back found every command refusing the newer schema."""
    from stockpot.migrations.schema import head_revision

    head = head_revision()
    before = f"{int(head) - 1:04d}"
    cli("db", "upgrade")
    asked = cli("db", "downgrade", before, code=1)
    assert f"a downgrade to {before} drops what the later revisions added" in asked
    assert f"`stockpot db downgrade {before} --yes`" in asked
    assert "Can't locate revision identified by '9999'" in cli(
        "db", "downgrade", "9999", "--yes", code=1
    )
    assert f"is at revision {before}" in cli("db", "downgrade", before, "--yes")
    assert f"is at revision {before}, not {head}; run `stockpot db upgrade` first" in cli(
        "jobs", "list", code=1
    )
    assert "is up to date" in cli("db", "upgrade")
    cli("jobs", "list")


def test_recipe_json_keeps_exact_decimals_ungrouped():
    """``recipe show --json`` is for programs, as every ``--json`` is: it wrote a batch
    recipe's 1000 portions as "1,000", which reads back as 1 (or is refused)."""
    view = {"portions": Decimal("1000"), "lines": [{"quantity": Decimal("12500.50")}]}
    assert _exact(view) == {"portions": "1000", "lines": [{"quantity": "12500.5"}]}
