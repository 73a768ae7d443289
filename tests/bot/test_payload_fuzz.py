"""Fuzzing what comes back from Slack: button values and modal metadata are user-controlled,
so any value gives a clear refusal, never a crash and never another company's object."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from stockpot.bot.metadata import (
    CatchUpValue,
    ConnectSidesMetadata,
    CsvFileValue,
    MapItemMetadata,
    TransferValue,
    VarianceValue,
)
from stockpot.core.errors import ValidationFailed
from stockpot.core.ids import MAX_ID
from stockpot.handlers.context import button_id

MODELS = [TransferValue, CatchUpValue, ConnectSidesMetadata, MapItemMetadata, CsvFileValue]
values = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"\{.{0,80}\}", fullmatch=True),
    st.integers().map(str),
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_a_button_value_is_an_id_or_refused(raw):
    body = {"actions": [{"value": raw}]}
    try:
        found = button_id(body)
    except ValidationFailed:
        return
    head = raw.partition(":")[0]
    assert 0 < found <= MAX_ID and head.isascii() and head.isdigit() and int(head) == found


@pytest.mark.parametrize("raw", ["²", "٣", "0", "2147483648", "9" * 400, "-1", " 1", "1.0"])
def test_a_button_value_that_is_no_row_id_is_refused(raw):
    with pytest.raises(ValidationFailed):
        button_id({"actions": [{"value": raw}]})


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=150, deadline=None)
@given(raw=values)
def test_a_payload_parses_strictly_or_is_refused(model, raw):
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError:
        return
    assert parsed.dump() and model.model_validate_json(parsed.dump()) == parsed


def test_a_value_the_app_makes_from_an_old_row_renders_and_is_refused_when_it_comes_back():
    """Dates in values are checked (SaneDate); a count dated 2999, posted before postings'
    dates were, must still render its variance: the app makes its values unchecked
    (``made``), and the click on one is refused as a button Stockpot did not make."""
    value = VarianceValue.made(
        storage_unit="Lager", opening=date(2026, 11, 1), closing=date(2999, 1, 1)
    ).dump()
    assert '"closing":"2999-01-01"' in value
    with pytest.raises(ValidationError, match="outside the dates Stockpot works with"):
        VarianceValue.model_validate_json(value)
    with pytest.raises(ValidationError):
        VarianceValue(storage_unit="Lager", opening=date(2026, 11, 1), closing=date(2999, 1, 1))
