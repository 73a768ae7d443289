import pytest

from stockpot.core.errors import InvalidDocument
from stockpot.core.quantities import QUANTITY_RANGE
from stockpot.core.transfer.lines import LineKind, item_key, parse_lines_file


def test_lines_parse_with_defaults_and_optional_fields():
    lines = parse_lines_file(
        '[{"sale_id": 7, "line_id": "1", "pos_code": "101", "name": "Pizza", "quantity": 2},'
        ' {"sale_id": "7", "line_id": "2", "pos_code": null, "name": "Extra cheese",'
        '  "quantity": "0.5", "parent_line_id": "1", "kind": "modifier", "voided": true}]',
        source="day.json",
    )
    assert [(line.sale_id, line.key, str(line.quantity)) for line in lines] == [
        ("7", "101", "2"),
        ("7", "name:extra cheese", "0.5"),
    ]
    assert lines[1].kind is LineKind.MODIFIER and lines[1].voided and lines[1].parent_line_id == "1"


def test_every_bad_line_is_reported_by_index():
    with pytest.raises(InvalidDocument) as caught:
        parse_lines_file(
            '[{"sale_id": "1", "line_id": "1", "pos_code": "A", "quantity": 1},'
            ' {"sale_id": "1", "line_id": "5", "pos_code": "A", "quantity": "two"},'
            ' {"sale_id": "1", "line_id": "2", "quantity": 1},'
            ' {"sale_id": "1", "line_id": "1", "pos_code": "A", "quantity": 1},'
            ' {"line_id": "3", "pos_code": "A", "quantity": 1, "voided": "yes", "colour": 1},'
            ' {"sale_id": "1", "line_id": "4", "pos_code": "A", "quantity": 0.0000000001}]',
            source="day.json",
        )
    assert [str(problem) for problem in caught.value.problems] == [
        "[1]: 'quantity' must be a number, got 'two'",
        "[2]: a line needs a 'pos_code' or, failing that, a 'name'",
        "[3]: line '1' of sale '1' appears twice",
        "[4]: 'sale_id' is missing; unknown field(s) colour; known fields: cancelled, kind, "
        "line_id, name, parent_line_id, pos_code, quantity, sale_id, skip_reason, voided; 'voided' must be "
        "true or false, got 'yes'",
        f"[5]: 'quantity' 0.0000000001 has more than 9 decimal places; {QUANTITY_RANGE}",
    ]


def test_invalid_json_says_where():
    with pytest.raises(InvalidDocument, match="line 2: not valid JSON"):
        parse_lines_file('[\n{"sale_id": }]', source="day.json")


def test_item_identity_is_the_code_else_the_normalised_name():
    assert item_key(" 101 ", "Margherita") == "101"
    assert (
        item_key(None, "  Glass   of RED ") == item_key("", "glass of red") == "name:glass of red"
    )
