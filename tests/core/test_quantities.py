"""One rule for every quantity read from outside: finite, in range, at most 9 places, in
every importer, with the place named and nothing posted."""

from __future__ import annotations

import io
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.csv_import.cells import parse_quantity
from stockpot.core.csv_import.importer import import_csv
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.csv_import.scan import InvalidCsv
from stockpot.core.errors import InvalidDocument, ValidationFailed
from stockpot.core.exact import write_a_number
from stockpot.core.mapping import import_mappings
from stockpot.core.models import (
    Connection,
    LedgerMovement,
    PosMapping,
    Recipe,
    RecipeLine,
    TransferRun,
)
from stockpot.core.quantities import LIMIT, QUANTITY_RANGE, check_quantity, parse_quantity_text
from stockpot.core.stock.files import read_yaml
from tests.catalogs import setup_trattoria
from tests.core.csv_import.files import setup_csv

CATALOG = """
company: Trattoria Esempio
ingredients:
  - {{name: Flour, base_unit: kg, measures: {{pcs: {measure}}}}}
recipes:
  - name: Bread
    portions: {portions}
    lines:
      - {{ingredient: Flour, quantity: {quantity}, unit: kg, trim: {trim}}}
"""
GOOD = {"measure": "0.5", "portions": "1", "quantity": "1", "trim": "0"}
MAPPINGS = """
company: Trattoria Esempio
connection: csv:Till export
mappings:
  - {{pos_code: "1", ingredient: Flour, quantity: {quantity}}}
"""
BILLION_LAUGHS = """
company: &a Trattoria Esempio
x1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
x2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
x3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
x4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
x5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
x6: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
x7: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
x8: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
x9: [*i, *i, *i, *i, *i, *i, *i, *i, *i, *i]
"""


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_the_rule_accepts_exactly_the_storable_quantities(value):
    storable = value.is_finite() and abs(value) < LIMIT and value.as_tuple().exponent >= -9
    if storable:
        assert check_quantity(value) == value
    else:
        said = "quantities must lie between" if value.is_finite() else "is not a number"
        with pytest.raises(ValueError, match=said):
            check_quantity(value)


def test_typed_quantities_go_through_the_same_rule():
    assert parse_quantity_text(" 0,009 ") == Decimal("0.009")
    for text in ("1e19", "12345678901234567890", "0.0000000001"):
        with pytest.raises(ValueError, match="quantities must lie between"):
            parse_quantity_text(text)
    with pytest.raises(ValueError, match="is not a number; write it with the digits 0-9"):
        parse_quantity_text("two")


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (
            "1.200,5",
            "1.200,5 has a thousands separator ('.'), which is not read: write "
            "1200,5 (a '.' is the decimal point: 1.200 is 1.2)",
        ),
        (
            "1.234.567,89",
            "1.234.567,89 has a thousands separator ('.'), which is not read: "
            "write 1234567,89 (a '.' is the decimal point: 1.200 is 1.2)",
        ),
        ("1,200.5", "1,200.5 has a thousands separator (','), which is not read: write 1200.5"),
        (
            "1,200,000",
            "1,200,000 has a thousands separator (','), which is not read: write 1200000",
        ),
    ],
)
def test_a_number_with_thousands_separators_is_told_to_drop_them(text, told):
    """A German kitchen writes 1.200,5 for twelve hundred and a half: it was "not a number;
    write it with … a '.' for decimals", which says nothing of the separator (and 20,5 was
    taken). Not read as 1200.5 either: a point is the decimal point everywhere (1.200 is
    1.2), and reading it as a separator here would teach otherwise."""
    with pytest.raises(ValueError) as refused:
        parse_quantity_text(text)
    assert str(refused.value) == told
    with pytest.raises(ValueError) as beside_its_unit:  # as /stock receive's short form has it
        parse_quantity_text(f"{text} kg", "kg")
    assert str(beside_its_unit.value) == told
    assert parse_quantity_text("1.200") == Decimal("1.2")
    assert parse_quantity_text("20,5") == Decimal("20.5")


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("€12", "write the number alone, 12, without '€'"),
        ("12 €", "write the number alone, 12, without '€'"),
        ("$12,50", "write the number alone, 12.50, without '$'"),
        ("EUR 12", "write the number alone, 12, without 'EUR'"),
        ("12 EUR", "write the number alone, 12, without 'EUR'"),
    ],
)
def test_a_number_typed_with_its_currency_is_told_to_stand_alone(text, told):
    """A cost typed as it is printed on a delivery note (`€12`, `12 EUR`) was "write a
    number, e.g. 1 or 0.009" or, in YAML, "write it with the digits 0-9": neither says that
    the currency is the trouble. One rule for a typed number and a YAML string alike."""
    with pytest.raises(ValueError) as refused:
        parse_quantity_text(text)
    assert str(refused.value) == told
    with pytest.raises(InvalidDocument) as in_yaml:
        read_yaml(
            f"lines:\n  - {{ingredient: Flour, quantity: 1, unit_cost: '{text}'}}\n",
            source="delivery.yaml",
        )
    assert f"line 2: lines[0].unit_cost: '{text}' is not a number; {told}" in str(in_yaml.value)


def _counts(database) -> tuple[int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(LedgerMovement)),
            session.scalar(select(func.count()).select_from(Connection)),
        )


def _catalog_errors(database, text: str) -> list[str]:
    before = _counts(database)
    with pytest.raises(InvalidDocument) as refused:
        import_catalog(database.factory, text, source="catalog.yaml")
    assert _counts(database) == before
    return [str(problem) for problem in refused.value.problems]


@pytest.mark.parametrize(
    ("field", "value", "place"),
    [
        ("quantity", "1.0e+19", "line 9: recipes[0].lines[0].quantity: "),
        ("quantity", "1e19", "line 9: recipes[0].lines[0].quantity: "),
        ("quantity", "12345678901234567890", "line 9: recipes[0].lines[0].quantity: "),
        ("measure", "1.0e+19", "line 4: ingredients[0].measures.pcs: "),
        ("trim", "0.0000000001", "line 9: recipes[0].lines[0].trim: "),
    ],
)
def test_catalog_numbers_out_of_range_are_refused_with_their_place(database, field, value, place):
    (error,) = _catalog_errors(database, CATALOG.format(**{**GOOD, field: value}))
    assert error.startswith(place) and QUANTITY_RANGE in error


@pytest.mark.parametrize(
    ("field", "value", "place"),
    [
        ("quantity", ".nan", "line 9: recipes[0].lines[0].quantity"),
        ("quantity", ".inf", "line 9: recipes[0].lines[0].quantity"),
        ("quantity", "-.inf", "line 9: recipes[0].lines[0].quantity"),
        ("trim", ".NaN", "line 9: recipes[0].lines[0].trim"),
        ("portions", "+.Inf", "line 7: recipes[0].portions"),
    ],
)
def test_yaml_nan_and_infinity_are_no_number_as_a_typed_nan_is(database, field, value, place):
    """YAML's `.nan` was "NaN is not a finite number; quantities must lie between …", a
    typed `NaN` the same, a CSV cell's `NaN` "is not a number; write it with the digits
    0-9": one sentence now, quoting what was written."""
    (error,) = _catalog_errors(database, CATALOG.format(**{**GOOD, field: value}))
    assert error == f"{place}: '{value}' is not a number; {write_a_number()}"


def test_a_mapping_factor_out_of_range_is_refused_with_its_place(database):
    setup_trattoria(database, mappings=False)
    for value in ("1.0e19", "99999999999999999999"):
        with pytest.raises(InvalidDocument) as refused:
            import_mappings(database.factory, MAPPINGS.format(quantity=value), source="m.yaml")
        (problem,) = refused.value.problems
        assert str(problem).startswith("line 5: ") and QUANTITY_RANGE in str(problem)


@pytest.mark.parametrize("importer", [import_catalog, import_mappings])
def test_nested_aliases_are_refused_at_once_with_their_line(database, importer):
    started = time.process_time()
    with pytest.raises(InvalidDocument) as refused:
        importer(database.factory, BILLION_LAUGHS, source="bomb.yaml")
    (problem,) = refused.value.problems
    assert str(problem) == (
        "line 2: YAML anchors and aliases are not accepted (anchor &a); write the values out "
        "in full"
    )
    assert time.process_time() - started < 5  # a bound, not a timing: the bomb takes hours


def test_a_single_alias_is_refused_too(database):
    (error,) = _catalog_errors(database, "company: X\nstorage_units:\n  - *unit\n")
    assert error.startswith("line 3: YAML anchors and aliases are not accepted (alias *unit)")


def test_a_csv_quantity_of_twenty_digits_posts_nothing_and_says_where(database):
    setup_csv(database)
    with database.session() as session:
        kasse = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))
    data = b"Datum;Artikelnummer;Menge\n27.11.2026;101;12345678901234567890\n"
    with pytest.raises(InvalidCsv) as refused:
        import_csv(database.factory, kasse, io.BytesIO(data), file_name="k.csv", max_bytes=10**6)
    assert (  # the value once, as written (it was repeated ungrouped beside a grouped range)
        f"line 2, column 'Menge': value '12345678901234567890' is too large; {QUANTITY_RANGE}"
    ) in str(refused.value)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 0


def test_many_large_rows_that_sum_beyond_the_range_post_nothing(database):
    setup_csv(database)
    with database.session() as session:
        kasse = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))
    data = b"Datum;Artikelnummer;Menge\n" + b"27.11.2026;231;999999999\n" * 3
    with pytest.raises(ValidationFailed, match="quantities must lie between") as refused:
        import_csv(database.factory, kasse, io.BytesIO(data), file_name="k.csv", max_bytes=10**6)
    assert "231" in str(refused.value) and "nothing was posted" in str(refused.value)
    assert _counts(database)[0] == 0


@pytest.mark.parametrize("value", ["1e19", "0.0000000001"])
def test_a_csv_profile_default_quantity_out_of_range_is_refused(value):
    with pytest.raises(ValueError, match=f"'{value}' .* quantities must lie between"):
        CsvProfile.model_validate({"default_quantity": value})


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1e999999", "'1e999999' is too large"),
        ("1e99999999", "'1e99999999' is too large"),
        ("-1E+99999999", "'-1E+99999999' is too large"),
        ("1e-99999999", "'1e-99999999' has more than 9 decimal places"),
        ("1" + "0" * 60, f"'1{'0' * 60}' is too large"),
        ("sNaN", "'sNaN' is not a number; write it with the digits 0-9"),
    ],
)
def test_huge_exponents_are_refused_in_a_short_message_not_an_overflow(text, shown):
    """``abs()`` of 1e99999999 raised ``decimal.Overflow`` (not a ValueError: a crash in
    every importer), and 1e999999 was written out as a million digits in the message."""
    with pytest.raises(ValueError) as refused:
        parse_quantity_text(text)
    assert str(refused.value).startswith(shown) and len(str(refused.value)) < 200


@pytest.mark.parametrize("text", ["-0", "0E+100", "-0.000"])
def test_zero_is_zero_however_it_is_written(text):
    assert str(parse_quantity_text(text)) == "0"


@pytest.mark.parametrize("value", ['"1e99999999"', "1e99999999", '"1e999999"'])
def test_a_catalog_quantity_with_a_huge_exponent_is_refused_with_its_place(database, value):
    (error,) = _catalog_errors(database, CATALOG.format(**{**GOOD, "quantity": value}))
    assert error.startswith("line 9: recipes[0].lines[0].quantity: ") and len(error) < 300


@pytest.mark.parametrize(
    ("text", "unit", "said"),
    [
        ("80g", "kg", "write the number alone, in kg: 0.08 (80 g)"),
        ("1,5 kg", "g", "write the number alone, in g: 1500 (1.5 kg)"),
        ("33 cl", "l", "write the number alone, in l: 0.33 (33 cl)"),
        ("0,2 kg", "kg", "write the number alone, 0.2, without 'kg'"),
        ("2 l", "kg", "write the number alone, in kg: 'l' is not kg"),
        ("5 Stück", "pcs", "write the number alone, 5, without 'Stück'"),
        ("2 pcs", "portions", "write the number alone, 2, without 'pcs'"),
        ("80g", None, "write the number alone, 80, without 'g'"),
    ],
)
def test_a_number_with_another_unit_than_the_fields_is_refused_with_it_converted(text, unit, said):
    """ "80g" typed as the grams of mozzarella on a pizza, where the field counts kg, was
    answered "write the number alone, 80, without 'g'": followed, that maps 80 kg per
    pizza. The refusal now gives the number in the field's unit."""
    with pytest.raises(ValueError) as refused:
        parse_quantity_text(text, unit)
    assert str(refused.value) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1,000", "1,000 could be 1000 or 1: write 1000, or 1.000 for 1"),
        ("12,500", "12,500 could be 12500 or 12.5: write 12500, or 12.500 for 12.5"),
        ("125,250", "125,250 could be 125250 or 125.25: write 125250, or 125.250 for 125.25"),
        (" -1,000 ", "-1,000 could be -1000 or -1: write -1000, or -1.000 for -1"),
        ("1,000 kg", "1,000 could be 1000 or 1: write 1000, or 1.000 for 1"),
    ],
)
def test_a_comma_that_reads_as_thousands_or_decimals_is_refused_with_both(text, said):
    """A decimal comma is accepted, so "1,000" (an English thousands separator) was read as
    one: a thousandfold error in a count or a receipt. Refused, saying both readings."""
    with pytest.raises(ValueError) as refused:
        parse_quantity_text(text, "kg")
    assert str(refused.value) == said


@pytest.mark.parametrize(
    ("text", "value"),
    [("0,125", "0.125"), ("1,5", "1.5"), ("12,25", "12.25"), ("2,2500", "2.25"), ("1000", "1000")],
)
def test_a_comma_that_can_only_be_a_decimal_comma_is_one(text, value):
    assert parse_quantity_text(text) == Decimal(value)


def test_a_csv_profile_with_a_decimal_comma_reads_three_decimals_as_declared():
    """The profile says what its comma is: the ambiguity is for numbers typed by people."""
    assert parse_quantity("1,000", ",") == Decimal(1)
    assert parse_quantity("1,000", ".") == Decimal(1000)


def test_a_count_file_in_yaml_says_both_readings_of_a_thousands_comma():
    """``quantity: 1,000`` in a YAML count file (a string to YAML) was refused as "Input
    should be a valid decimal", which says neither what is wrong nor what to write."""
    with pytest.raises(InvalidDocument) as refused:
        read_yaml("lines:\n  - ingredient: Flour\n    quantity: 1,000\n", source="count.yaml")
    assert "'1,000' is not a number; 1,000 could be 1000 or 1: write 1000, or 1.000 for 1" in (
        str(refused.value)
    )


def test_a_decimal_comma_in_a_yaml_file_is_a_decimal_as_in_slack_and_count_files(database):
    """``quantity: 1,5`` (a string to YAML, written as in Slack or a CSV count file) was
    refused as "Input should be a valid decimal": every YAML quantity takes a decimal comma by
    the one rule, and ``1,000`` stays refused with both readings (above)."""
    count = read_yaml(
        "lines:\n  - ingredient: Flour\n    quantity: 1,5\n    unit_cost: 0,9\n",
        source="count.yaml",
    )
    assert [(line.quantity, line.unit_cost) for line in count.lines] == [
        (Decimal("1.5"), Decimal("0.9"))
    ]
    setup_trattoria(database, mappings=False)
    import_catalog(
        database.factory,
        "company: Trattoria Esempio\nrecipes:\n  - name: Half loaf\n    portions: 2\n"
        "    lines:\n      - ingredient: Flour\n        quantity: 0,25\n        unit: kg\n"
        "        trim: 0,1\n",
        source="catalog.yaml",
    )
    import_mappings(
        database.factory,
        "company: Trattoria Esempio\nconnection: csv:Till export\nmappings:\n"
        '  - pos_code: "1"\n    ingredient: Flour\n    quantity: 1,5\n',
        source="m.yaml",
    )
    with database.session() as session:
        line = session.scalars(
            select(RecipeLine)
            .join(Recipe, RecipeLine.recipe_id == Recipe.id)
            .where(Recipe.name == "Half loaf")
        ).one()
        assert (line.quantity, line.trim) == (Decimal("0.25"), Decimal("0.1"))
        assert session.scalar(select(PosMapping.factor)) == Decimal("1.5")


@pytest.mark.parametrize("separator", [".", ","])
def test_scientific_notation_reads_by_one_rule_in_csv_cells_and_typed_text(separator):
    """`1e309` read "is not a number" in a CSV import but "too large" typed in Slack: one
    rule now, in both: scientific notation is a number, held to the one range."""
    with pytest.raises(ValueError) as typed:
        parse_quantity_text("1e309")
    with pytest.raises(ValueError) as cell:
        parse_quantity("1e309", separator)  # said after the cell's value, quoted as written
    assert str(typed.value) == f"'1e309' {cell.value}"
    assert str(cell.value).startswith("is too large; quantities must lie between")
    assert parse_quantity("1E+3", separator) == parse_quantity_text("1e3") == Decimal(1000)


def test_text_that_is_no_number_is_refused_by_one_sentence_naming_it():
    """Typed text, a YAML string and a sales line's quantity said "write a number, e.g. 1
    or 0.009", "write it with the digits 0-9 and a '.' for decimals" or "…, a '.' for
    decimals and no separators": one message now, from one function, naming what was written."""
    told = "write it with the digits 0-9 and a '.' for decimals, e.g. 2 or 1.5"
    for text in ("0x10", "lots", "١٢", "1_000"):
        with pytest.raises(ValueError) as typed:
            parse_quantity_text(text)
        assert str(typed.value) == f"'{text}' is not a number; {told}"
        with pytest.raises(InvalidDocument) as in_yaml:
            read_yaml(f"lines:\n  - {{ingredient: Flour, quantity: '{text}'}}\n", source="w.yaml")
        assert f"line 2: lines[0].quantity: '{text}' is not a number; {told}" in str(in_yaml.value)


def test_a_csv_import_refuses_a_number_in_the_sentence_a_typed_one_gets(database):
    """A CSV cell's `NaN` was "is not a number" where typed it was "is not a finite number;
    quantities must lie between …"; a cell's `1e-400` was "value '1e-400' 1.000000E-400 has
    more than 9 decimal places", repeated in an exponent nobody wrote. One sentence now: the
    cell's value as written (quoted once), what is wrong with it, as typed text is told."""
    setup_csv(database)
    with database.session() as session:
        kasse = session.scalar(select(Connection.id).where(Connection.name == "Kasse"))
    cells = ["NaN", "Infinity", "1e-400", "12345678901"]
    data = "Datum;Artikelnummer;Menge\n" + "".join(f"27.11.2026;101;{c}\n" for c in cells)
    with pytest.raises(InvalidCsv) as refused:
        import_csv(
            database.factory, kasse, io.BytesIO(data.encode()), file_name="k.csv", max_bytes=10**6
        )
    said = str(refused.value)
    for line, text in enumerate(cells, start=2):
        with pytest.raises(ValueError) as typed:
            parse_quantity_text(text)
        sentence = str(typed.value).replace("'.'", "','").replace("1.5", "1,5")  # its separator
        assert f"line {line}, column 'Menge': value {sentence}" in said
    assert "E-400" not in said and "finite" not in said
