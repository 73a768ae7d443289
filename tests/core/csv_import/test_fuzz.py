"""Fuzzing the CSV reader: whatever bytes arrive, the answer is a scan or a clear error, never
a crash."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockpot.core.csv_import.scan import scan
from stockpot.core.errors import StockpotError
from tests.core.csv_import.test_reading import GERMAN_PROFILE, TAB_PROFILE

HEADER = "Datum;Artikelnummer;Artikel;Menge\r\n"
cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
rows = st.lists(st.lists(cells, min_size=0, max_size=6), max_size=20)


def read(data: bytes, profile=GERMAN_PROFILE):
    try:
        result = scan(
            io.BytesIO(data),
            profile,
            file_name="fuzz.csv",
            locations=["Filiale Mitte", "North"],
            default_date=None,
            max_bytes=10**6,
        )
    except StockpotError as error:
        assert str(error), "an error says something"
        return None
    assert result.rows >= 0 and result.invalid_rows <= result.rows
    assert len(result.errors) <= 20
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_scan_or_a_clear_error(data):
    read(data)
    read(data, TAB_PROFILE)


@settings(max_examples=300, deadline=None)
@given(rows, st.sampled_from([";", ",", "\t", "|"]), st.sampled_from(["utf-8", "cp1252"]))
def test_any_table_under_a_real_header_gives_a_scan_or_a_clear_error(table, delimiter, encoding):
    text = HEADER.replace(";", delimiter) + "\r\n".join(delimiter.join(row) for row in table)
    read(text.encode(encoding, errors="replace"))
