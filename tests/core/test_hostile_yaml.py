"""Catalog and mappings files written to hurt: each is refused with its line, nothing is
imported, and nothing raises past the importer (YAML aliases: tests/core/test_quantities.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.errors import InvalidDocument, ValidationFailed
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Company, Ingredient
from stockpot.core.storage import create_storage_unit, rename_storage_unit
from stockpot.core.workspaces import set_up_workspace
from tests.catalogs import setup_trattoria


def refused(database, text: str, importer=import_catalog) -> str:
    with database.session() as session:
        before = session.scalar(select(func.count()).select_from(Ingredient))
    with pytest.raises(InvalidDocument) as refusal:
        importer(database.factory, text, source="hostile.yaml")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ingredient)) == before
    (problem,) = refusal.value.problems
    return str(problem)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "company: X\ningredients:\n  - {name: F, base_unit: kg, cost: " + "1" * 5000 + "}\n",
            "line 3: not valid YAML: an integer of 5000 characters is too long",
        ),
        (
            "company: X\ningredients: [{name: A, base_unit: kg}]\n"
            "ingredients: [{name: B, base_unit: kg}]\n",
            "line 3: the key 'ingredients' is given twice (lines 2 and 3); give it once",
        ),
        (
            "company: X\ningredients:\n  - {name: F, base_unit: kg, base_unit: g}\n",
            "line 3: the key 'base_unit' is given twice (lines 3 and 3); give it once",
        ),
        (  # datetime's ValueError out of the loader (a traceback)
            "company: X\nstorage_units:\n  - {name: Bar, address: 2026-02-30}\n",
            "line 3: not valid YAML: '2026-02-30' is not a valid timestamp (day is out of range "
            "for month)",
        ),
        (  # decimal.InvalidOperation out of the loader
            "company: X\ningredients:\n  - {name: F, base_unit: kg, cost: !!float abc}\n",
            "line 3: not valid YAML: 'abc' is not a valid float",
        ),
        (  # the bytes became the text "\0" through pydantic, then PostgreSQL refused it
            "company: X\nstorage_units:\n  - {name: Bar, address: !!binary AA==}\n",
            "line 3: not valid YAML: binary values (!!binary) are not accepted; write the text",
        ),
        (  # a raw control character had a character position and no line
            "company: X\nstorage_units:\n  - {name: Bar, address: a\x07b}\n",
            "line 3: not valid YAML: the control character U+0007 is not allowed; remove it",
        ),
        (
            'company: "Trattoria\\0"\n',
            'line 1: company: a NUL character ("\\0") is not accepted; remove it',
        ),
        (  # PostgreSQL refused the NUL when the address was written (a traceback)
            'company: X\nstorage_units:\n  - {name: Bar, address: "Via Roma\\0 1"}\n',
            'line 3: storage_units[0].address: a NUL character ("\\0") is not accepted; remove it',
        ),
        (  # Decimal reads other scripts' digits: this was 3 kg
            "company: X\ningredients: [{name: F, base_unit: kg}]\nrecipes:\n"
            '  - {name: R, lines: [{ingredient: F, quantity: "٣", unit: kg}]}\n',
            "line 4: recipes[0].lines[0].quantity: '٣' is not a number; write it with the "
            "digits 0-9 and a '.' for decimals, e.g. 2 or 1.5",
        ),
        (
            'company: X\ningredients:\n  - {name: "Flour\\nSalt", base_unit: kg}\n',
            "line 3: ingredients[0].name: a name cannot contain the control character U+000A",
        ),
        (  # YAML 1.1 read 1:30 in base 60: a quantity of 90
            "company: X\ningredients: [{name: F, base_unit: kg}]\nrecipes:\n"
            "  - {name: R, lines: [{ingredient: F, quantity: 1:30, unit: kg}]}\n",
            "line 4: recipes[0].lines[0].quantity: '1:30' is not a number; write it with the "
            "digits 0-9 and a '.' for decimals, e.g. 2 or 1.5",
        ),
        (
            'company: "Trattoria\\u202eEsempio"\n',
            "line 1: company: a name cannot contain the control character U+202E",
        ),
        (  # a name longer than a file name raised OSError out of zoneinfo (a traceback)
            "company: X\nstorage_units: [{name: Bar, address: Roma}]\ncsv_connections:\n"
            "  - name: Till\n    locations:\n"
            "      - {name: Main, storage_unit: Bar, timezone: " + "x" * 300 + "}\n",
            "line 6: csv_connections[0].locations[0].timezone: unknown timezone '"
            + "x" * 300
            + "'; use an IANA name such as Europe/Rome",
        ),
        (  # YAML's dates and yes/no where a number goes: "Decimal input should be an
            # integer, float, string or Decimal object", naming neither
            "company: X\ningredients: [{name: F, base_unit: kg, cost: 2026-11-27}]\n",
            "line 2: ingredients[0].cost: '2026-11-27' is not a number; write it with the "
            "digits 0-9 and a '.' for decimals, e.g. 2 or 1.5",
        ),
        (
            "company: X\ningredients: [{name: F, base_unit: kg}]\nrecipes:\n"
            "  - {name: R, lines: [{ingredient: F, quantity: yes, unit: kg}]}\n",
            "line 4: recipes[0].lines[0].quantity: 'yes/no' is not a number; write it with the "
            "digits 0-9 and a '.' for decimals, e.g. 2 or 1.5",
        ),
        (
            'company: !!python/object/apply:os.system ["true"]\n',
            "line 1: not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
    ],
)
def test_a_hostile_catalog_is_refused_with_its_line(database, text, expected):
    """A 5000-digit integer raised Python's ValueError out of the YAML loader (a traceback);
    a key given twice silently kept the last; a NUL in a name crashed PostgreSQL's first
    query naming it, and line breaks or bidirectional overrides split or disguised names."""
    assert refused(database, text) == expected


@pytest.mark.parametrize("depth", [999, 5000])
def test_yaml_nested_past_any_use_is_refused_with_its_line(database, depth):
    """libyaml refuses 1000 levels itself; 999 ended in a RecursionError when the lines of
    the values were indexed."""
    text = "company: X\nstorage_units: " + "[" * depth + "]" * depth + "\n"
    assert refused(database, text).startswith("line 2: ")


def test_a_mappings_file_with_a_key_twice_is_refused(database):
    setup_trattoria(database, mappings=False)
    text = (
        "company: Trattoria Esempio\nconnection: csv:Till export\n"
        "mappings:\n  - {pos_code: '1', ingredient: Flour, quantity: 1, quantity: 100}\n"
    )
    assert refused(database, text, import_mappings) == (
        "line 4: the key 'quantity' is given twice (lines 4 and 4); give it once"
    )


def test_a_mapping_of_a_code_no_sales_line_can_have_is_refused(database):
    """Sales lines refuse a code with a tab or a line break, so its mapping could never apply."""
    setup_trattoria(database, mappings=False)
    text = (
        "company: Trattoria Esempio\nconnection: csv:Till export\n"
        'mappings:\n  - {pos_code: "10\\t1", ingredient: Flour}\n'
    )
    assert refused(database, text, import_mappings) == (
        "line 4: mappings[0].pos_code: a name cannot contain the control character U+0009"
    )


def test_a_mapping_by_a_name_whose_folded_key_is_too_long_is_refused(database):
    """An item without a code is keyed by its case-folded name: 200 × "ß" is 400 characters
    folded, and PostgreSQL's varchar(300) refused the POS item (a DataError traceback)."""
    setup_trattoria(database, mappings=False)
    text = (
        "company: Trattoria Esempio\nconnection: csv:Till export\n"
        "mappings:\n  - {pos_name: " + "ß" * 200 + ", ingredient: Flour}\n"
    )
    assert refused(database, text, import_mappings) == (
        "line 4: mappings[0]: Value error, 'pos_name' is 400 characters long when compared "
        "regardless of case (ß is ss); at most 295 are accepted"
    )


def test_names_typed_in_slack_follow_the_same_rule(database):
    import_catalog(database.factory, "company: Trattoria Esempio\n", source="c.yaml")
    with database.session() as session:
        company = session.scalar(select(Company).where(Company.name == "Trattoria Esempio"))
        with pytest.raises(ValidationFailed, match="U\\+0000"):
            create_storage_unit(session, company.id, "Cellar\x00", "Via Roma")
        with pytest.raises(ValidationFailed, match="U\\+2066"):
            set_up_workspace(session, "T9", "U9", "Bistro\u2066", may_link_existing=False)
        session.rollback()


def test_storage_units_made_in_slack_follow_the_catalog_s_rule_of_alike_names(database):
    """A unit is found by name regardless of case, accents and spaces: "KITCHEN" beside
    "Kitchen" and "kitchen" named neither (two matches), so the second is refused."""
    setup_trattoria(database, mappings=False)
    alike = "(names are found regardless of case, accents and spaces)"
    with database.session() as session:
        company = session.scalar(select(Company).where(Company.name == "Trattoria Esempio"))
        with pytest.raises(ValidationFailed) as refusal:
            create_storage_unit(session, company.id, "KITCHEN", "Via Roma 1")
        assert str(refusal.value) == f"there is already a storage unit named 'Kitchen' {alike}"
        with pytest.raises(ValidationFailed) as refusal:
            rename_storage_unit(session, company.id, "Bar", "kitchen")
        assert str(refusal.value) == f"there is already a storage unit named 'Kitchen' {alike}"
        _, unit = rename_storage_unit(session, company.id, "Kitchen", "KITCHEN")
        assert unit.name == "KITCHEN"
        # Invisible characters pasted in with a name (a zero-width space, a soft hyphen)
        # made a second unit shown exactly as the first.
        for pasted in ("Kitchen\u200b", "Kit\u00adchen", "\ufeffKitchen"):
            with pytest.raises(ValidationFailed) as refusal:
                create_storage_unit(session, company.id, pasted, "Via Roma 1")
            assert str(refusal.value) == f"there is already a storage unit named 'KITCHEN' {alike}"
        session.rollback()
