"""Numbers typed into ``/stock``: a decimal comma is read as one, and a comma that reads as
a thousands separator as well ("1,000") is refused with both readings, never taken as one."""

from __future__ import annotations

from sqlalchemy import select

from stockpot.bot.ids import BlockId
from stockpot.core.models import StockPosting
from tests.bot.conftest import ADMIN
from tests.bot.test_slack_app import posted, reply, texts
from tests.bot.test_stock_slack import count, ingredient_ids


def _postings(bot) -> int:
    with bot.database.session() as session:
        return len(session.scalars(select(StockPosting.id)).all())


def test_a_decimal_comma_in_stock_lines_is_a_decimal_not_a_new_line(bot):
    """The short form splits lines at commas, so ``Flour=1,5kg`` was cut into ``Flour=1``
    and ``5kg`` ("'5kg' should read ingredient=quantity…"), although every other typed
    quantity takes a decimal comma. A comma starts a new line only before ``name=``."""
    bot.send.command("/stock", "receive Kitchen Flour=1,5kg@0,9, Basil=200g", user=ADMIN)
    message = texts(posted(bot, "received in Kitchen"))
    assert "Flour: 1.5 kg" in message and "Basil: 200 g" in message


def test_a_thousands_comma_in_stock_lines_is_refused_with_both_readings(bot):
    """``Flour=1,000kg`` (a thousand kilograms, to whoever typed it) was cut at the comma
    and refused as a line '000kg'; read as a decimal comma it is one kilogram: a receipt a
    thousand times too small. Refused, saying both readings, and nothing is posted."""
    bot.send.command("/stock", "receive Kitchen Flour=1,000kg, Basil=200g", user=ADMIN)
    said = texts(reply(bot, "1,000 could be 1000 or 1"))
    assert "write 1000, or 1.000 for 1" in said
    assert _postings(bot) == 0


def test_a_count_sheet_refuses_a_thousands_comma_and_keeps_decimal_commas(bot):
    ids = ingredient_ids(bot)
    answer = count(bot, "2026-11-26", {"Basil": "12,500", "Flour": "0,125"})
    errors = answer.json()["errors"]
    assert errors == {
        f"{BlockId.STOCK_INGREDIENT_PREFIX}{ids['Basil']}": (
            "12,500 could be 12500 or 12.5: write 12500, or 12.500 for 12.5"
        )
    }
    assert _postings(bot) == 0
    assert count(bot, "2026-11-26", {"Basil": "12500", "Flour": "0,125"}).text == ""
    counted = texts(posted(bot, "counted in Kitchen for 2026-11-26"))
    # each in the unit it is counted in (Flour in kg, Basil in g)
    assert "Flour: 0.125 kg" in counted and "Basil: 12,500 g" in counted


def test_a_cost_with_its_currency_or_a_number_beyond_range_is_told_what_is_wrong(bot):
    """`Flour=25kg@€12`, `@12 EUR` and `Basil=1e309` were each answered with the line's form
    ("should read ingredient=quantity[unit][@unit cost]"), which they follow: the number
    rule now says what is wrong with the number, on its line and field."""
    bot.send.command(
        "/stock", "receive Kitchen Flour=25kg@€12, Water=2l@12 EUR, Basil=1e309g", user=ADMIN
    )
    said = texts(reply(bot, "3 problems, nothing was posted"))
    assert "line 1: unit_cost: 'Flour=25kg@€12': write the number alone, 12, without '€'" in said
    assert "line 2: unit_cost: 'Water=2l@12 EUR': write the number alone, 12, without 'EUR'" in said
    assert "line 3: quantity: 'Basil=1e309g': '1e309' is too large; quantities must" in said
    assert "should read" not in said
    assert _postings(bot) == 0


def test_a_quantity_that_is_no_number_is_told_so_not_read_as_zero(bot):
    """`Basil=0x10g` was read as 0 of a unit `x10g` and refused as "the quantity must be
    more than 0, got 0": a unit is letters, and the quantity is said to be no number."""
    bot.send.command("/stock", "waste Kitchen Basil=0x10g", user=ADMIN)
    said = texts(reply(bot, "nothing was posted"))
    assert "line 1: quantity: 'Basil=0x10g': '0x10g' is not a number; write it with the " in said
    assert "got 0" not in said
    assert _postings(bot) == 0


def test_a_refusal_repeats_only_the_start_of_a_very_long_line(bot):
    """A 10,000-character line was repeated whole in its refusal (twice for a number: the
    line and the number), a message longer than the command; and so were an unknown
    ingredient's and storage unit's names. Each is shown cut to its first 80 characters."""
    digits, name = "1" * 10_000, "N" * 10_000
    bot.send.command("/stock", f"waste Kitchen Basil={digits}g", user=ADMIN)
    number = texts(reply(bot, "is too large"))
    assert f"line 1: quantity: 'Basil={digits[:73]}…': '{digits[:79]}…' is too large" in number
    bot.send.command("/stock", f"waste Kitchen {name}=1g", user=ADMIN)
    ingredient = texts(reply(bot, "unknown ingredient"))
    assert f"line 1: ingredient: unknown ingredient '{name[:79]}…'" in ingredient
    bot.send.command("/stock", f"waste {name} Basil=1g", user=ADMIN)
    unit = texts(reply(bot, "no storage unit"))
    assert f"no storage unit '{name[:79]}…'" in unit
    assert all(len(said) < 1_000 for said in (number, ingredient, unit))
    assert _postings(bot) == 0


def test_a_quantity_without_a_digit_before_or_after_its_point_is_a_number(bot):
    """``Flour=.5kg`` was refused as "'.5kg' is not a number; write it with the digits 0-9
    and a '.' for decimals" (it is written so) and ``Flour=.5`` was shown the form, while a
    form, a count file and a CSV import all read ``.5`` and ``2.`` as 0.5 and 2."""
    bot.send.command("/stock", "receive Kitchen Flour=.5kg@,9, Basil=2.g", user=ADMIN)
    message = texts(posted(bot, "received in Kitchen"))
    assert "Flour: 0.5 kg · 0.45 EUR" in message and "Basil: 2 g" in message


def test_numbers_in_stock_lines_are_refused_by_the_rule_of_their_field_as_typed(bot):
    """A unit cost of `NaN` was "NaN is not a finite number; quantities must lie between …":
    another sentence than a CSV cell's, and a cost told the quantities' range. `1e-400` was
    echoed as 1.000000E-400, `12345678901` ungrouped beside the grouped range. Each is now
    quoted as typed, in the one sentence, with the range of what it is."""
    bot.send.command(
        "/stock",
        "receive Kitchen Flour=1kg@NaN, Water=2l@-Infinity, Basil=1e-400g, Flour=1kg@1e19, "
        "Basil=12345678901g",
        user=ADMIN,
    )
    said = texts(reply(bot, "5 problems, nothing was posted"))
    told = "write it with the digits 0-9 and a '.' for decimals, e.g. 2 or 1.5"
    assert f"line 1: unit_cost: 'Flour=1kg@NaN': 'NaN' is not a number; {told}" in said
    assert f"line 2: unit_cost: 'Water=2l@-Infinity': '-Infinity' is not a number; {told}" in said
    assert (
        "line 3: quantity: 'Basil=1e-400g': '1e-400' has more than 9 decimal places; "
        "quantities must lie between -999,999,999.999999999 and 999,999,999.999999999" in said
    )
    assert (
        "line 4: unit_cost: 'Flour=1kg@1e19': '1e19' is too large; a unit cost must lie between "
        "0 and 999,999,999.999999999 per unit, in the company's currency, with at most 9 "
        "decimal places" in said
    )
    assert "line 5: quantity: 'Basil=12345678901g': '12345678901' is too large; quantities" in said
    assert "E-400" not in said and "finite" not in said
    assert _postings(bot) == 0


def test_a_quantity_too_large_in_its_base_unit_is_said_in_grouped_figures(bot):
    """`Basil=999999999kg` (basil kept in g) read "999999999 kg is 999999999000 g of Basil,
    too large" beside the grouped range: figures Stockpot works out are grouped."""
    bot.send.command("/stock", "receive Kitchen Basil=999999999kg", user=ADMIN)
    said = texts(reply(bot, "nothing was posted"))
    assert "999,999,999 kg is 999,999,999,000 g of Basil, too large; quantities must" in said


def test_two_lines_typed_without_a_comma_are_told_to_separate_them(bot):
    """``Flour=2kg Basil=30g`` (a space, or a semicolon, where the short form takes a comma)
    was "'2kg Basil=30g' is not a number; write it with the digits 0-9": the fix it gave
    was not the fix. It names the lines and how to separate them, and posts nothing."""
    for typed in (
        "Flour=2kg Basil=30g",
        "Flour=2kg; Tomato sauce=1l@2",
        "Flour=0,5kg Basil=30g",  # the decimal comma was read as a line break before 5kg
    ):
        bot.send.command("/stock", f"receive Kitchen {typed}", user=ADMIN)
        said = texts(reply(bot, "names 2 ingredients"))
        assert "one ingredient=quantity a line" in said and "Flour=2kg, Basil=30g" in said
        assert "not a number" not in said, said
    assert _postings(bot) == 0
