"""Mappings: imported by code, refused when the target is wrong, listed with what is unmapped."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.errors import InvalidDocument, NotFound
from stockpot.core.lookup import company_by_name
from stockpot.core.mapping import (
    IgnoreChoice,
    IngredientChoice,
    MappingTargetError,
    RecipeChoice,
    import_mappings,
    list_mappings,
    set_mapping,
)
from stockpot.core.models import PosItem, PosMapping
from tests.catalogs import TRATTORIA_MAPPINGS, ids, setup_trattoria

OTHER_COMPANY = """
company: Osteria Altra
storage_units: [{name: Cantina, address: Napoli}]
ingredients: [{name: Limoncello, base_unit: pcs}]
recipes:
  - name: Spritz
    lines: [{ingredient: Limoncello, quantity: 1, unit: pcs}]
"""


def _mapping_count(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(PosMapping))


def _errors(database, text: str) -> list[str]:
    before = _mapping_count(database)
    with pytest.raises(InvalidDocument) as caught:
        import_mappings(database.factory, text, source="mappings.yaml")
    assert _mapping_count(database) == before
    return [str(problem) for problem in caught.value.problems]


def test_the_documented_example_imports_and_lists(database):
    setup_trattoria(database, mappings=False)
    summary = import_mappings(database.factory, TRATTORIA_MAPPINGS, source="mappings.yaml")
    assert (summary.created, summary.updated, summary.new_items) == (6, 0, 6)
    with database.session() as session:
        rows = list_mappings(session, company_by_name(session, "Trattoria Esempio"))
    listed = {row.pos_code: (row.target_kind, row.target, row.factor, row.unit) for row in rows}
    assert listed == {
        "101": ("recipe", "Margherita", "1", "portions"),
        "230": ("recipe", "Glass of red", "1", "portions"),
        "231": ("ingredient", "House red", "1", "pcs"),
        "300": ("ingredient", "Espresso beans", "0.009", "kg"),
        "410": ("recipe", "Tiramisu", "1", "portions"),
        "999": ("ignored", None, None, None),
    }


def test_reimporting_replaces_a_mapping_and_renames_the_item(database):
    setup_trattoria(database)
    summary = import_mappings(
        database.factory,
        """
company: Trattoria Esempio
connection: csv:Till export
mappings:
  - {pos_code: "300", pos_name: Doppio, ingredient: Espresso beans, quantity: 0.018}
  - {pos_name: "Deliveroo  Pizza", recipe: Margherita}
""",
        source="mappings.yaml",
    )
    assert (summary.created, summary.updated, summary.new_items) == (1, 1, 1)
    with database.session() as session:
        item = session.scalar(select(PosItem).where(PosItem.key == "300"))
        assert item.name == "Doppio"
        assert item.mapping.factor == Decimal("0.018")
        by_name = session.scalar(select(PosItem).where(PosItem.key == "name:deliveroo pizza"))
        assert by_name.mapping.factor == Decimal(1) and by_name.external_id is None


def test_targets_of_another_company_unknown_targets_and_bad_factors_are_refused(database):
    setup_trattoria(database, mappings=False)
    import_catalog(database.factory, OTHER_COMPANY, source="other.yaml")
    text = """
company: Trattoria Esempio
connection: csv:Till export
mappings:
  - {pos_code: "1", recipe: Spritz}
  - {pos_code: "2", ingredient: Saffron, quantity: 1}
  - {pos_code: "3", ingredient: Flour, quantity: 0}
  - {pos_code: "4", ingredient: Flour, recipe: Margherita}
  - {pos_code: "5"}
  - {pos_code: "1", ignore: true}
  - {pos_name: Coffee, ingredient: Espresso beans, quantity: 0.009, unit: kg}
"""
    assert _errors(database, text) == [
        "line 5: mappings[0]: recipe 'Spritz' belongs to company 'Osteria Altra', not "
        "'Trattoria Esempio'; a mapping can only use ingredients and recipes of its own company",
        "line 6: mappings[1]: unknown ingredient 'Saffron' in company 'Trattoria Esempio'; add it "
        "to the catalog first",
        "line 7: mappings[2].quantity: Input should be greater than 0",
        "line 8: mappings[3]: Value error, give exactly one of 'ingredient', 'recipe' or "
        "'ignore: true'",
        "line 9: mappings[4]: Value error, give exactly one of 'ingredient', 'recipe' or "
        "'ignore: true'",
        "line 10: mappings[5]: item '1' is mapped twice (see mappings[0])",
        "line 11: mappings[6].unit: unknown key; check its spelling against the documented format",
    ]


def test_a_duplicate_item_in_one_file_is_refused(database):
    setup_trattoria(database, mappings=False)
    text = """
company: Trattoria Esempio
connection: csv:Till export
mappings:
  - {pos_code: "1", ignore: true}
  - {pos_code: " 1 ", recipe: Margherita}
"""
    assert _errors(database, text) == [
        "line 6: mappings[1]: item '1' is mapped twice (see mappings[0])"
    ]


def test_unknown_company_or_connection_says_what_exists(database):
    setup_trattoria(database, mappings=False)
    with pytest.raises(NotFound, match=r"no company 'Nope' \(known: Trattoria Esempio\)"):
        import_mappings(database.factory, "company: Nope\nconnection: csv:x\n", source="m.yaml")
    with pytest.raises(NotFound, match=r"has no connection 'csv:Kasse' \(known: csv:Till export\)"):
        import_mappings(
            database.factory, "company: Trattoria Esempio\nconnection: csv:Kasse\n", source="m.yaml"
        )


def test_set_mapping_refuses_an_id_of_another_company(database):
    setup_trattoria(database)
    import_catalog(database.factory, OTHER_COMPANY, source="other.yaml")
    with database.session() as session, session.begin():
        foreign = ids(session, "Osteria Altra")
        item = session.scalar(select(PosItem).where(PosItem.key == "101"))
        for choice in (
            RecipeChoice(foreign["recipe:Spritz"], Decimal(1)),
            IngredientChoice(foreign["ingredient:Limoncello"], Decimal(1)),
        ):
            with pytest.raises(MappingTargetError, match="belongs to another company"):
                set_mapping(session, item, choice)
        with pytest.raises(MappingTargetError, match="greater than 0"):
            set_mapping(
                session, item, IngredientChoice(ids(session)["ingredient:Flour"], Decimal(0))
            )
        with pytest.raises(MappingTargetError, match=r"greater than 0, got -1,000$"):
            set_mapping(  # not "got -1E+3": scientific notation is read, never shown back
                session, item, IngredientChoice(ids(session)["ingredient:Flour"], Decimal("-1e3"))
            )
        set_mapping(session, item, IgnoreChoice(), by="test")
    with database.session() as session:
        mapping = session.scalar(select(PosMapping).join(PosItem).where(PosItem.key == "101"))
        assert mapping.ignored and mapping.recipe_id is None and mapping.updated_by == "test"


def test_a_file_written_by_hand_finds_names_case_aside_and_says_what_a_typo_meant(database):
    """`connection: csv:till export` and `ingredient: espresso beans` were refused as unknown,
    though the catalog finds names regardless of case and accents; a typo got no suggestion."""
    setup_trattoria(database, mappings=False)
    text = """
company: Trattoria Esempio
connection: csv:till export
mappings:
  - {pos_code: "300", ingredient: espresso beans, quantity: 0.009}
  - {pos_code: "101", recipe: MARGHERITA}
"""
    summary = import_mappings(database.factory, text, source="mappings.yaml")
    assert (summary.created, summary.new_items) == (2, 2)
    with database.session() as session:
        rows = list_mappings(session, company_by_name(session, "Trattoria Esempio"))
    assert {row.pos_code: row.target for row in rows} == {
        "300": "Espresso beans",
        "101": "Margherita",
    }
    typo = text.replace("espresso beans", "Espreso beans")
    assert _errors(database, typo) == [
        "line 5: mappings[0]: unknown ingredient 'Espreso beans' in company 'Trattoria "
        "Esempio'; did you mean Espresso beans?"
    ]


def test_a_code_or_a_decimal_comma_written_as_a_spreadsheet_would_is_refused_with_the_fix(
    database,
):
    """`pos_code: 101` unquoted said "Input should be a valid string"; `quantity: 0,005` in a
    `{…}` entry said "mappings[0][5].[key]: Input should be a valid string"."""
    setup_trattoria(database, mappings=False)
    head = "company: Trattoria Esempio\nconnection: csv:Till export\nmappings:\n"
    assert _errors(database, head + "  - {pos_code: 101, recipe: Margherita}\n") == [
        'line 4: mappings[0].pos_code: write the code in quotes (pos_code: "101"): unquoted, '
        "YAML reads it as a number, and a code such as 0101 would lose its leading zero"
    ]
    comma = head + '  - {pos_code: "300", ingredient: Espresso beans, quantity: 0,009}\n'
    assert _errors(database, comma) == [
        "line 4: mappings[0].quantity: quantity: 0,009 reads as 0 and a key 009: in a {…} "
        "mapping a comma ends the value; write 0.009, or put the entry on lines of its own "
        "(a decimal comma works there)"
    ]
    on_lines = head + '  - pos_code: "300"\n    ingredient: Espresso beans\n    quantity: 0,009\n'
    assert import_mappings(database.factory, on_lines, source="mappings.yaml").created == 1


def test_suggestions_rank_the_likely_target_and_never_offer_another_dish(database):
    """The map modal offered Pizza Salami, Pizza Rucola and Pizza Hawaii for "Pizza Diavola":
    a word most names share ("Pizza") is no reason; a rarer shared word ranks first."""
    from stockpot.core.unmapped import suggestions
    from stockpot.sandbox import demo

    import_catalog(database.factory, demo.text("catalog.yaml"), source="catalog.yaml")
    with database.session() as session:
        company = company_by_name(session, "Pizzeria Beispiel").id

        def offered(name: str) -> list[str]:
            return [target.name for target in suggestions(session, company, name)]

        assert offered("Pizza Diavola") == []
        assert offered("Familienpizza Margherita") == ["Pizza Margherita"]
        assert offered("Rotwein Montepulciano 0,75l") == ["Montepulciano"]
        assert offered("Pizza Prosciuto") == ["Pizza Prosciutto"]  # a slip in the till
        assert offered("Spaghetti Bolognese") == ["Spaghetti", "Spaghetti Carbonara"]
