"""A run's lines, stored as one value: exact round trips, one digest per set of lines."""

from __future__ import annotations

import zlib
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stockpot.core.transfer.line_store import AS_JSON, PLAIN, decode_lines, encode_lines
from stockpot.core.transfer.lines import LineKind, SaleLine

texts = st.text(min_size=1, max_size=12)  # any character, the separators included
lines = st.lists(
    st.builds(
        SaleLine,
        sale_id=texts,
        line_id=texts,
        pos_code=st.none() | texts,
        name=texts,
        quantity=st.decimals(min_value=-1000, max_value=1000, places=3),
        parent_line_id=st.none() | texts,
        voided=st.booleans(),
        cancelled=st.booleans(),
        kind=st.sampled_from(LineKind),
        skip_reason=st.none() | texts,
    ),
    max_size=30,
)


def _stored(line: SaleLine) -> SaleLine:
    """A line as it comes back: empty optional texts are absent ones."""
    return SaleLine(
        line.sale_id,
        line.line_id,
        line.pos_code or None,
        line.name,
        line.quantity,
        line.parent_line_id or None,
        line.voided,
        line.cancelled,
        line.kind,
        line.skip_reason or None,
    )


@settings(max_examples=300, deadline=None)
@given(lines, st.randoms(use_true_random=False))
def test_lines_come_back_exactly_in_one_order_whatever_order_they_came_in(day, seed):
    encoded = encode_lines(day)
    decoded = decode_lines(encoded.body)
    assert decoded == [_stored(line) for line in encoded.lines]
    assert Counter(decoded) == Counter(_stored(line) for line in day)
    shuffled = list(day)
    seed.shuffle(shuffled)
    again = encode_lines(shuffled)
    assert again.digest == encoded.digest and decode_lines(again.body) == decoded


def test_equal_quantities_written_differently_hash_the_same():
    one = [SaleLine("S1", "1", "101", "Pizza", Decimal("1.0"))]
    other = [SaleLine("S1", "1", "101", "Pizza", Decimal("1"))]
    assert encode_lines(one).digest == encode_lines(other).digest
    assert encode_lines(one).digest != encode_lines([*one, *other]).digest


def test_a_line_holding_a_separator_is_stored_as_json_and_read_back():
    plain = SaleLine("S1", "1", "101", "Pizza", Decimal(2))
    odd = SaleLine("S1", "2", None, "Pizza\x1fDiavola\x1e", Decimal(1))
    assert zlib.decompress(encode_lines([plain]).body).decode()[0] == PLAIN
    encoded = encode_lines([plain, odd])
    assert zlib.decompress(encoded.body).decode()[0] == AS_JSON
    assert decode_lines(encoded.body) == [plain, odd]


def test_no_lines():
    assert decode_lines(encode_lines([]).body) == []
