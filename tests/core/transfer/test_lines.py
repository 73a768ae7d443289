import json
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stockpot.core.documents import read_text_file
from stockpot.core.errors import InvalidDocument
from stockpot.core.quantities import QUANTITY_RANGE, quantity_problem
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
        "[1]: 'quantity': 'two' is not a number; write it with the digits 0-9 and a '.' for "
        "decimals, e.g. 2 or 1.5",
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


def refusal(text: str) -> list[str]:
    with pytest.raises(InvalidDocument) as caught:
        parse_lines_file(text, source="day.json")
    return [str(problem) for problem in caught.value.problems]


def one_line(**fields: object) -> str:
    line = {"sale_id": "S1", "line_id": "1", "pos_code": "101", "quantity": 1, **fields}
    return json.dumps([line], ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # RecursionError out of json.loads
            "[" * 100_000 + "]" * 100_000,
            "arrays or objects are nested too deeply; a sales-lines file is one array of flat "
            "objects",
        ),
        (  # int() refused 4301 digits with a bare ValueError
            one_line().replace('"quantity": 1', '"quantity": ' + "9" * 5000),
            f"[0]: 'quantity' {'9' * 79}… is too large; {QUANTITY_RANGE}",  # its start, as written
        ),
        (  # a float: infinity, shown as 'inf'; then as 1.000000E+400, an exponent not written
            one_line().replace('"quantity": 1', '"quantity": 1e400'),
            f"[0]: 'quantity' 1E+400 is too large; {QUANTITY_RANGE}",
        ),
        (
            one_line().replace('"quantity": 1', '"quantity": NaN'),
            "[0]: 'quantity': 'NaN' is not a number; write it with the digits 0-9 and a '.' for "
            "decimals, e.g. 2 or 1.5",  # one sentence, as typed in Slack or in a CSV cell
        ),
        (  # json keeps the last key silently
            one_line().replace('"quantity": 1', '"quantity": 1, "quantity": 100'),
            "[0]: 'quantity' is given twice; give it once",
        ),
        (  # Decimal reads other scripts' digits and '_'
            one_line(quantity="٣"),
            "[0]: 'quantity': '٣' is not a number; write it with the digits 0-9 and a '.' for "
            "decimals, e.g. 2 or 1.5",
        ),
        (
            one_line(quantity="1_000"),
            "[0]: 'quantity': '1_000' is not a number; write it with the digits 0-9 and a '.' "
            "for decimals, e.g. 2 or 1.5",
        ),
        (  # PostgreSQL: value too long for type character varying(300), mid-transfer
            one_line(name="x" * 10_000, pos_code=None),
            "[0]: 'name' has 10,000 characters; at most 200 are accepted",
        ),
        (  # the key is the folded name: 400 characters, varchar(300) refused it mid-transfer
            one_line(name="ß" * 200, pos_code=None),
            "[0]: 'name' is 400 characters long when compared regardless of case (ß is ss); "
            "at most 295 are accepted",
        ),
        (  # PostgreSQL: text fields cannot contain NUL
            one_line(pos_code="10\x001"),
            "[0]: 'pos_code' cannot contain the control character U+0000",
        ),
        (
            one_line(name="Margherita\u202e", pos_code=None),
            "[0]: 'name' cannot contain the control character U+202E",
        ),
        (  # UnicodeEncodeError when the day's lines were stored
            one_line().replace('"101"', '"10\\ud83d"'),
            "[0]: 'pos_code' holds half a character (the escape \\ud83d alone); write the "
            "character itself or both halves of its escape",
        ),
    ],
)
def test_a_hostile_lines_file_is_refused_with_the_place(text, expected):
    assert refusal(text) == [expected]


def test_numbers_are_read_exactly_not_through_a_float():
    """``123456789.123456789`` as a float is ``123456789.12345679``: 8 places, accepted, and
    silently a different quantity."""
    text = one_line().replace('"quantity": 1', '"quantity": 123456789.123456789')
    (line,) = parse_lines_file(text, source="day.json")
    assert line.quantity == Decimal("123456789.123456789")


def test_a_utf8_file_with_a_bom_is_read_and_any_other_bytes_are_refused_with_the_line(tmp_path):
    path = tmp_path / "day.json"
    path.write_bytes(b"\xef\xbb\xbf" + one_line().encode())
    (line,) = parse_lines_file(read_text_file(path), source="day.json")
    assert line.pos_code == "101"
    path.write_bytes(b"[\n" + '"Caf\u00e9"'.encode("cp1252") + b"]")
    with pytest.raises(InvalidDocument) as caught:
        read_text_file(path)
    assert [str(problem) for problem in caught.value.problems] == [
        "line 2: not UTF-8 text (byte 0xe9 is not UTF-8); save the file as UTF-8 (in Excel: "
        "CSV UTF-8; in an editor: Save with encoding UTF-8)"
    ]


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(
        ["1e400", "-0", "1e-30", "٣", "1,5", "+1", "", " ", "NaN", "9" * 45, "x" * 250, "\x00"]
    ),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
LINE_FIELDS = ["sale_id", "line_id", "pos_code", "name", "quantity", "kind", "voided"]
HOSTILE_LINES = st.lists(
    st.dictionaries(st.sampled_from(LINE_FIELDS), JSON_VALUES, max_size=7) | JSON_VALUES,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE_LINES, st.sampled_from(["", "[", "]", "{", '"', "\n", ",", ":", "NaN"]))
@example([{"sale_id": "S", "line_id": "1", "quantity": 1}], "")
@example([{"sale_id": "S", "line_id": "1", "quantity": 1, "name": "x" * 250}], "")
@example([{"sale_id": "S", "line_id": "1", "quantity": 1, "pos_code": "\ud800"}], "")
def test_any_json_gives_lines_or_the_documented_refusal(items, noise):
    """Whatever JSON (or near-JSON) arrives, the answer is lines whose every value a database
    stores, or ``InvalidDocument`` whose every problem says where; never another exception."""
    text = json.dumps(items, allow_nan=True, ensure_ascii=False) + noise
    try:
        lines = parse_lines_file(text, source="day.json")
    except InvalidDocument as error:
        assert error.problems and all(str(problem) for problem in error.problems)
        assert all(p.place or p.line or "JSON" in p.message for p in error.problems)
        return
    for line in lines:
        assert quantity_problem(line.quantity) is None
        for text_value in (line.sale_id, line.line_id, line.pos_code or "", line.name):
            assert len(text_value) <= 200 and "\x00" not in text_value
            text_value.encode("utf-8")
