"""``stockpot catalog import``: upsert by name, all or nothing, every error with its place."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.errors import InvalidDocument
from stockpot.core.lookup import company_by_name
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    Ingredient,
    Recipe,
    RecipeLine,
    StorageUnit,
)
from stockpot.core.quantities import QUANTITY_RANGE
from stockpot.core.units import Unit
from tests.catalogs import TRATTORIA, setup_trattoria

HEADER = """
company: Trattoria Esempio
storage_units:
  - {name: Kitchen, address: "Via Roma 1"}
  - {name: Bar, address: "Via Roma 1"}
ingredients:
  - {name: Flour, base_unit: kg}
  - {name: House red, base_unit: pcs, measures: {l: 0.75}}
"""


def _counts(database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Company, StorageUnit, Ingredient, Recipe, RecipeLine, Connection)
        }


def _errors(database, text: str) -> list[str]:
    before = _counts(database)
    with pytest.raises(InvalidDocument) as caught:
        import_catalog(database.factory, text, source="catalog.yaml")
    assert _counts(database) == before, "a failed import must write nothing"
    return [str(problem) for problem in caught.value.problems]


def test_the_documented_example_imports_everything(database):
    summary = import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
    assert summary.created["recipes"] == 5 and summary.created["ingredients"] == 7
    with database.session() as session:
        margherita = session.scalar(select(Recipe).where(Recipe.name == "Margherita"))
        assert [(line.quantity, line.unit, line.trim) for line in margherita.lines] == [
            (Decimal(1), None, Decimal(0)),
            (Decimal(125), Unit.G, Decimal("0.04")),
            (Decimal(3), Unit.G, Decimal(0)),
        ]
        wine = session.scalar(select(Ingredient).where(Ingredient.name == "House red"))
        assert [(m.unit, m.amount) for m in wine.measures] == [(Unit.L, Decimal("0.75"))]
        location = session.scalar(select(ExternalLocation))
        assert (location.name, location.timezone, location.active) == (
            "Main room",
            "Europe/Rome",
            True,
        )
        assert location.business_day_start == time(0, 0)
        assert session.get(StorageUnit, location.storage_unit_id).name == "Kitchen"


def test_importing_again_updates_in_place(database):
    import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
    before = _counts(database)
    changed = TRATTORIA.replace("quantity: 125, unit: g, trim: 0.04", "quantity: 0.13, unit: kg")
    summary = import_catalog(database.factory, changed, source="catalog.yaml")
    assert summary.created.total() == 0 and summary.updated["recipes"] == 5
    assert _counts(database) == before
    with database.session() as session:
        margherita = session.scalar(select(Recipe).where(Recipe.name == "Margherita"))
        assert (margherita.lines[1].quantity, margherita.lines[1].unit) == (
            Decimal("0.13"),
            Unit.KG,
        )


def test_a_file_may_name_only_some_things_and_use_what_is_stored(database):
    import_catalog(database.factory, TRATTORIA, source="catalog.yaml")
    addition = """
company: Trattoria Esempio
recipes:
  - name: Calzone
    lines:
      - {recipe: Pizza dough, quantity: 1.5}
      - {ingredient: Mozzarella, quantity: 0.15, unit: kg, issue_storage: Kitchen}
"""
    summary = import_catalog(database.factory, addition, source="more.yaml")
    assert summary.created["recipes"] == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Recipe)) == 6


def test_an_impossible_unit_is_refused_with_its_place(database):
    text = (
        HEADER
        + """
recipes:
  - name: Glass of red
    lines:
      - {ingredient: House red, quantity: 15, unit: cl}
      - {ingredient: House red, quantity: 125, unit: g}
"""
    )
    assert _errors(database, text) == [
        "line 14: recipes[0].lines[1]: unit 'g' cannot be converted to 'pcs' for ingredient "
        "'House red'; give the ingredient a measure in mass units (e.g. measures: {g: ...})"
    ]


def test_every_error_is_reported_at_once(database):
    text = (
        HEADER
        + """
recipes:
  - name: A
    default_issue_storage: Cellar
    lines:
      - {ingredient: Sugar, quantity: 1, unit: kg}
      - {ingredient: Flour, quantity: 1}
      - {ingredient: Flour, recipe: B, quantity: 1, unit: kg}
      - {recipe: B, quantity: 1, unit: kg, trim: 0.1}
  - name: B
    lines: []
  - name: C
    lines:
      - {ingredient: Flour, quantity: 1, unit: parsec}
"""
    )
    assert _errors(database, text) == [
        "line 12: recipes[0].default_issue_storage: unknown storage unit 'Cellar' (known: Bar, "
        "Kitchen)",
        "line 14: recipes[0].lines[0].ingredient: unknown ingredient 'Sugar'",
        "line 15: recipes[0].lines[1]: 'unit' is required for ingredient 'Flour' (e.g. unit: g)",
        "line 16: recipes[0].lines[2]: a line names either an 'ingredient' or a 'recipe', "
        "exactly one",
        "line 17: recipes[0].lines[3].unit: a sub-recipe quantity is in its portions; "
        "remove 'unit'",
        "line 17: recipes[0].lines[3].trim: trim applies to ingredient lines only",
        "line 19: recipes[1].lines: recipe 'B' has no lines",
        "line 22: recipes[2].lines[0]: unknown unit 'parsec'; use one of mg, g, kg, ml, cl, dl, "
        "l, pcs",
    ]


def test_a_name_typed_wrong_or_in_another_case_gets_the_closest(database):
    """`ingredient: mozzarella` and `recipe: Pizzatieg` were "unknown" with no hint, beside
    a storage unit's error that lists the known ones."""
    text = (
        HEADER
        + """
recipes:
  - name: Dough
    lines:
      - {ingredient: flour, quantity: 1, unit: kg}
  - name: A
    lines:
      - {recipe: Dogh, quantity: 1}
"""
    )
    assert _errors(database, text) == [
        "line 13: recipes[0].lines[0].ingredient: unknown ingredient 'flour'; did you mean Flour?",
        "line 16: recipes[1].lines[0].recipe: unknown recipe 'Dogh'; did you mean Dough?",
    ]


def test_the_last_definition_of_a_duplicate_is_the_one_checked(database):
    text = (
        HEADER
        + """
recipes:
  - name: A
    lines: [{ingredient: Flour, quantity: 1, unit: kg}]
  - name: A
    lines: [{ingredient: Flour, quantity: 1, unit: parsec}]
"""
    )
    errors = _errors(database, text)
    assert errors[0] == "line 13: recipes[1]: 'A' appears twice (first at recipes[0])"
    assert errors[1].startswith("line 14: recipes[1].lines[0]: unknown unit 'parsec'")


def test_names_that_differ_only_by_case_accents_or_spaces_are_refused(database):
    """Names are found regardless of case, accents and spaces (a count of "flour", a mapping
    or a "why" of "FLOUR"), so "FLOUR" beside "Flour" made either one the answer."""
    import_catalog(database.factory, HEADER, source="catalog.yaml")
    alike = "only by case, accents or spaces, and names are found regardless of those; write "
    alike += "it the same way to update it, or give it another name"
    text = (
        "company: Trattoria Esempio\nstorage_units:\n  - {name: kitchen}\n"
        "ingredients:\n  - {name: Salz, base_unit: kg}\n  - {name: SÄLZ, base_unit: kg}\n"
        "  - {name: Flour, base_unit: kg}\n  - {name: House  Red, base_unit: pcs}\n"
    )
    assert _errors(database, text) == [
        f"line 3: storage_units[0]: 'kitchen' differs from the stored 'Kitchen' {alike}",
        f"line 6: ingredients[1]: 'SÄLZ' differs from 'Salz' at ingredients[0] {alike}",
        f"line 8: ingredients[3]: 'House  Red' differs from the stored 'House red' {alike}",
    ]


def test_cycles_are_refused(database):
    text = (
        HEADER
        + """
recipes:
  - name: A
    lines: [{recipe: B, quantity: 1}]
  - name: B
    lines: [{recipe: C, quantity: 2}]
  - name: C
    lines: [{recipe: A, quantity: 1}]
  - name: Self
    lines: [{recipe: Self, quantity: 1}]
"""
    )
    assert _errors(database, text) == [
        "line 12: recipes[0].lines[0]: recipes may not contain themselves: A → B → C → A",
        "line 18: recipes[3].lines[0]: recipes may not contain themselves: Self → Self",
    ]


def test_a_cycle_through_a_stored_recipe_is_refused(database):
    import_catalog(
        database.factory,
        HEADER + "recipes:\n  - name: A\n    lines: [{ingredient: Flour, quantity: 1, unit: kg}]\n"
        "  - name: B\n    lines: [{recipe: A, quantity: 1}]\n",
        source="one.yaml",
    )
    errors = _errors(
        database,
        "company: Trattoria Esempio\nrecipes:\n  - name: A\n    lines: [{recipe: B, quantity: 1}]\n",
    )
    assert errors == ["line 4: recipes[0].lines[0]: recipes may not contain themselves: A → B → A"]


def test_a_cycle_is_told_from_the_recipe_in_the_file_whatever_was_stored_first(database):
    """B is stored before A: the cycle still reads from the A the file changes, on both
    databases (it once read 'B → A → B' when PostgreSQL returned B first)."""
    import_catalog(
        database.factory,
        HEADER + "recipes:\n  - name: B\n    lines: [{recipe: A, quantity: 1}]\n"
        "  - name: A\n    lines: [{ingredient: Flour, quantity: 1, unit: kg}]\n",
        source="one.yaml",
    )
    errors = _errors(
        database,
        "company: Trattoria Esempio\nrecipes:\n  - name: A\n    lines: [{recipe: B, quantity: 1}]\n",
    )
    assert errors == ["line 4: recipes[0].lines[0]: recipes may not contain themselves: A → B → A"]


def test_inactive_sub_recipes_are_refused_including_by_deactivating_a_stored_one(database):
    import_catalog(
        database.factory,
        HEADER
        + "recipes:\n  - name: Dough\n    lines: [{ingredient: Flour, quantity: 1, unit: kg}]\n"
        "  - name: Pizza\n    lines: [{recipe: Dough, quantity: 1}]\n",
        source="one.yaml",
    )
    errors = _errors(
        database,
        "company: Trattoria Esempio\nrecipes:\n  - name: Dough\n    active: false\n"
        "    lines: [{ingredient: Flour, quantity: 1, unit: kg}]\n",
    )
    assert errors == [
        "recipe 'Pizza' (stored), line 1: sub-recipe 'Dough' is inactive; only active recipes "
        "can be used in one"
    ]


def test_types_ranges_and_unknown_keys_are_checked_before_anything_else(database):
    text = """
company: Trattoria Esempio
ingredients:
  - {name: Flour, base_unit: kg, colour: white}
  - {name: Salt, base_unit: g, measures: {kg: 2, pcs: 0}}
recipes:
  - name: A
    portions: 0
    lines:
      - {ingredient: Flour, quantity: -1, unit: kg, trim: 1}
      - {ingredient: Flour, quantity: 0.0000000001, unit: kg}
"""
    assert _errors(database, text) == [
        "line 4: ingredients[0].colour: unknown key; check its spelling against the documented "
        "format",
        "line 5: ingredients[1].measures.pcs: Input should be greater than 0",
        "line 8: recipes[0].portions: Input should be greater than 0",
        "line 10: recipes[0].lines[0].quantity: Input should be greater than 0",
        "line 10: recipes[0].lines[0].trim: Input should be less than 1",
        "line 11: recipes[0].lines[1].quantity: 0.0000000001 has more than 9 decimal places; "
        f"{QUANTITY_RANGE}",
    ]


def test_measures_must_cross_families_once(database):
    text = """
company: Trattoria Esempio
ingredients:
  - {name: Salt, base_unit: g, measures: {kg: 2}}
  - {name: Wine, base_unit: pcs, measures: {l: 0.75, cl: 75}}
"""
    assert _errors(database, text) == [
        "line 4: ingredients[0].measures.kg: 'kg' is a mass unit like the base unit 'g'; that "
        "conversion is built in, a measure is only for another family",
        "line 5: ingredients[1].measures.cl: a second volume measure ('l' is already given)",
    ]


def test_csv_locations_need_a_known_storage_unit_and_timezone(database):
    text = (
        HEADER
        + """
csv_connections:
  - name: Till
    locations:
      - {name: Room, storage_unit: Cellar, timezone: Europe/Atlantis}
      - {name: Room, storage_unit: Kitchen}
"""
    )
    assert _errors(database, text) == [
        "line 13: csv_connections[0].locations[0].storage_unit: unknown storage unit 'Cellar'",
        "line 13: csv_connections[0].locations[0].timezone: unknown timezone 'Europe/Atlantis'; "
        "use an IANA name such as Europe/Rome",
        "line 14: csv_connections[0].locations[1]: 'Room' appears twice (first at "
        "csv_connections[0].locations[0])",
    ]


def test_bad_yaml_says_where(database):
    (error,) = _errors(database, "company: X\nrecipes:\n  - name: [unclosed\n")
    assert error.startswith("line 4: not valid YAML: ") and "','" in error  # libyaml or PyYAML


def test_changing_the_base_unit_of_an_ingredient_with_movements_is_refused(database):
    from datetime import date

    from stockpot.core.transfer.lines import RawInput, SaleLine
    from stockpot.core.transfer.runner import run_transfer
    from tests.catalogs import ids

    setup_trattoria(database)
    with database.session() as session:
        location = ids(session)["location:Main room"]
    run_transfer(
        database.factory,
        location,
        date(2026, 11, 27),
        [SaleLine("S", "1", "300", "Espresso", Decimal(1))],
        RawInput("test", "[]"),
    )
    errors = _errors(
        database,
        TRATTORIA.replace(
            "{name: Espresso beans, base_unit: kg}", "{name: Espresso beans, base_unit: g}"
        ),
    )
    assert errors == [
        "line 13: ingredients[5].base_unit: 'Espresso beans' has ledger movements in 'kg'; "
        "changing its base unit would make them wrong. Create a new ingredient instead"
    ]


def test_csv_profile_rules_are_kept_as_settings(database):
    text = (
        HEADER
        + """
csv_connections:
  - name: Kasse
    delimiter: ";"
    decimal_separator: ","
    default_quantity: 1.5
    locations: [{name: Filiale, storage_unit: Kitchen, timezone: Europe/Berlin, business_day_start: "05:00"}]
"""
    )
    import_catalog(database.factory, text, source="catalog.yaml")
    with database.session() as session:
        connection = session.scalar(select(Connection))
        assert connection.settings == {
            "delimiter": ";",
            "decimal_separator": ",",
            "default_quantity": "1.5",
        }
        assert session.scalar(select(ExternalLocation.business_day_start)) == time(5, 0)


def test_a_currency_is_read_in_any_case_and_anything_else_is_refused_with_what_is_meant(
    database,
):
    """`currency: eur` was refused with "String should match pattern '^[A-Z]{3}$'"."""
    import_catalog(database.factory, "company: Trattoria Esempio\ncurrency: chf\n", source="c")
    with database.session() as session:
        assert company_by_name(session, "Trattoria Esempio").currency == "CHF"
    assert _errors(database, "company: Trattoria Esempio\ncurrency: Euro\n") == [
        "line 2: currency: write an ISO 4217 currency code of three letters, such as EUR or CHF"
    ]


def test_a_day_start_is_read_as_people_write_it_and_a_percentage_is_told_as_its_number(
    database,
):
    """`business_day_start: "5:00"` was refused ("input is too short") and `trim: 4%` got
    pydantic's "Input should be a valid decimal", with no fix for either."""
    text = (
        HEADER
        + """
csv_connections:
  - name: Till
    locations:
      - {name: Room, storage_unit: Kitchen, business_day_start: "5:00"}
      - {name: Terrace, storage_unit: Bar, business_day_start: 6:30}
      - {name: Garden, storage_unit: Bar, business_day_start: 6}
"""
    )
    import_catalog(database.factory, text, source="catalog.yaml")
    with database.session() as session:
        starts = dict(
            session.execute(select(ExternalLocation.name, ExternalLocation.business_day_start))
            .tuples()
            .all()
        )
    # An hour alone is that hour (pydantic read the number 6 as 00:00:06).
    assert starts == {"Room": time(5, 0), "Terrace": time(6, 30), "Garden": time(6, 0)}
    wrong = (
        HEADER
        + """
recipes:
  - name: Focaccia
    lines:
      - {ingredient: Flour, quantity: 0.3, unit: kg, trim: 4%}
      - {ingredient: Flour, quantity: 0.1, unit: kg, trim: lots}
csv_connections:
  - name: Till
    locations:
      - {name: Room, storage_unit: Kitchen, business_day_start: "25:00"}
"""
    )
    assert _errors(database, wrong) == [
        "line 13: recipes[0].lines[0].trim: '4%' is not a number; write the number alone: "
        "4% is 0.04",
        "line 14: recipes[0].lines[1].trim: 'lots' is not a number; write it with the digits "
        "0-9 and a '.' for decimals, e.g. 2 or 1.5",
        "line 18: csv_connections[0].locations[0].business_day_start: '25:00' is not a time of "
        "day: write it as HH:MM, e.g. 06:30",
    ]
