"""Catalog and mappings files with hostile values in every slot (hypothesis): each is imported
or refused as ``InvalidDocument`` with every problem placed (or, for a company or connection
that does not exist, the ``StockpotError`` naming it), and a refused one writes nothing
(every table's rows counted before and after, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.errors import InvalidDocument, StockpotError
from stockpot.core.mapping import import_mappings
from stockpot.core.models.base import Base
from tests.catalogs import setup_trattoria

NUMBERS = st.sampled_from(
    [
        ".nan",
        ".inf",
        "-.inf",
        "1e400",
        "-0",
        "123456789012345678901234567890",
        "1e-30",
        '"٣"',
        '"1,000"',
        "1,000",
        "+1",
        '""',
        "1_000",
        "0x10",
        "0o17",
        "1:30",
        "-1",
        "0.0000000001",
        "9" * 50,
        "999999999.999999999",
        "1e9",
        '"1e2"',
        "0.5",
        "2",
    ]
)
NAMES = st.one_of(
    st.sampled_from(
        [
            "Flour",
            "FLOUR",
            "flour",
            "Fl  our",
            " Flour ",
            "Kitchen",
            "kitchen",
            '"Kitchen\\0"',
            '"Tab\\there"',
            '"Line\\nbreak"',
            '"\\u202eruolF"',
            '"\\u200fFlour"',
            "x" * 10_000,
            '"\\ud83d"',
            "😀",
            "null",
            "~",
            "[]",
            "{}",
            "[a, b]",
            "{a: b}",
            "true",
            "2026-11-01",
            "!!binary aGVsbG8=",
            "!!python/object/apply:os.system ['true']",
            "!!str",
            "&a x",
            "*a",
            "'",
            '"',
            "|",
            "- a",
            "? a",
            "<<: {}",
            "!!float x",
            "%TAG",
            "@x",
            "`x",
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).map(json.dumps),
)
VALUES = st.one_of(NUMBERS, NAMES)

CATALOG = """company: {company}
storage_units:
  - {{name: {unit}, address: {address}}}
ingredients:
  - {{name: {ingredient}, base_unit: {base_unit}, measures: {{l: {measure}}}, cost: {cost}}}
  - {{name: {other}, base_unit: kg}}
recipes:
  - name: {recipe}
    portions: {portions}
    default_issue_storage: {unit}
    lines:
      - {{ingredient: {ingredient}, quantity: {quantity}, unit: {line_unit}, trim: {trim}}}
{extra}"""
EXTRAS = st.sampled_from(
    [
        "",
        "ingredients: []\n",
        "recipes: {a: 1}\n",
        "storage_units: null\n",
        "csv_connections: [{name: T, locations: [{name: M, storage_unit: X, timezone: x}]}]\n",
        "csv_connections: [[1]]\n",
        "--- {}\n",
        "\x00",
        "\t- x\n",
    ]
)


def row_counts(database) -> dict[str, int]:
    with database.session() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def imported_or_refused(database, importer, text: str) -> None:
    before = row_counts(database)
    try:
        importer(database.factory, text, source="hostile.yaml")
    except InvalidDocument as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message and (problem.line is not None or problem.place), problem
        assert row_counts(database) == before
    except StockpotError as error:  # a company or connection that does not exist, named
        assert str(error)
        assert row_counts(database) == before


FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "company": st.one_of(st.just("Fuzz"), NAMES),
            "unit": NAMES,
            "address": VALUES,
            "ingredient": NAMES,
            "other": NAMES,
            "base_unit": st.one_of(st.sampled_from(["kg", "g", "pcs", "L", "KG"]), NAMES),
            "measure": NUMBERS,
            "cost": NUMBERS,
            "recipe": NAMES,
            "portions": NUMBERS,
            "quantity": NUMBERS,
            "line_unit": st.one_of(st.sampled_from(["g", "kg", "cl"]), NAMES),
            "trim": NUMBERS,
            "extra": EXTRAS,
        }
    )
)
@example(
    {
        "company": "Fuzz",
        "unit": "Kitchen",
        "address": '"Via\\0"',
        "ingredient": "Flour",
        "other": "Salt",
        "base_unit": "kg",
        "measure": "1",
        "cost": "1",
        "recipe": "Bread",
        "portions": "1",
        "quantity": '"٣"',
        "line_unit": "kg",
        "trim": "0",
        "extra": "",
    }
)
def test_a_hostile_catalog_is_imported_or_refused_whole(database, slots):
    imported_or_refused(database, import_catalog, CATALOG.format(**slots))


MAPPINGS = """company: {company}
connection: {connection}
mappings:
  - {{pos_code: {code}, pos_name: {name}, {target}: {target_name}, quantity: {quantity}}}
  - {{pos_code: {code2}, recipe: Margherita}}
{extra}"""


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "company": st.one_of(st.just("Trattoria Esempio"), NAMES),
            "connection": st.one_of(st.sampled_from(["csv:Till export", "csv:till EXPORT"]), NAMES),
            "code": st.one_of(st.sampled_from(['"101"', "101", '"x"']), NAMES, NUMBERS),
            "code2": st.one_of(st.sampled_from(['"101"', '"102"']), NAMES),
            "name": NAMES,
            "target": st.sampled_from(["ingredient", "recipe", "ignore", "pos_code", "nothing"]),
            "target_name": st.one_of(st.sampled_from(["Flour", "Margherita", "true"]), NAMES),
            "quantity": NUMBERS,
            "extra": st.sampled_from(["", "mappings: []\n", "- x\n", "\x00", "connection: x\n"]),
        }
    )
)
@example(
    {
        "company": "Trattoria Esempio",
        "connection": "csv:Till export",
        "code": '"10\\0"',
        "name": "Pizza",
        "target": "recipe",
        "target_name": "Margherita",
        "quantity": "1",
        "code2": '"102"',
        "extra": "",
    }
)
def test_a_hostile_mappings_file_is_imported_or_refused_whole(database, slots):
    if row_counts(database)["company"] == 0:
        setup_trattoria(database, mappings=False)
    imported_or_refused(database, import_mappings, MAPPINGS.format(**slots))
