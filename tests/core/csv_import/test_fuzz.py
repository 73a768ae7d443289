"""Fuzzing the CSV reader: whatever bytes arrive, the answer is a scan or a clear error, never
a crash."""

from __future__ import annotations

import io
from datetime import date, time
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockpot.core.business_day import DayStart
from stockpot.core.csv_import.dialect import SAMPLE_BYTES, detect
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.csv_import.reader import read_rows
from stockpot.core.csv_import.scan import Scan, scan, whole_file
from stockpot.core.errors import StockpotError
from tests.core.csv_import.test_reading import GERMAN_PROFILE, TAB_PROFILE, days

HEADER = "Datum;Artikelnummer;Artikel;Menge\r\n"
cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
rows = st.lists(st.lists(cells, min_size=0, max_size=6), max_size=20)


def read(data: bytes, profile=GERMAN_PROFILE):
    try:
        result = scan(
            io.BytesIO(data),
            profile,
            file_name="fuzz.csv",
            locations=days("Filiale Mitte", "North"),
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


RULES_PROFILE = CsvProfile.model_validate(
    {
        "rules": [
            {
                "type": "column_values_to_pos_codes",
                "source_column": "Artikel",
                "quantity_source_column": "Menge",
                "date_source_column": "Datum",
            },
            {"type": "column_values_to_pos_codes", "source_column": "Extra"},
        ],
        "decimal_separator": ",",
        "date_formats": ["%d.%m.%Y", "%Y-%m-%d"],
        "code_separator": "+",
        "location_column": "Filiale",
    }
)
ONE_RULE = RULES_PROFILE.model_copy(update={"rules": RULES_PROFILE.rules[:1]})
NAMED_RULE = RULES_PROFILE.rules[0].model_copy(update={"name_source_column": "Extra"})
NAMED_RULES = RULES_PROFILE.model_copy(update={"rules": [NAMED_RULE, RULES_PROFILE.rules[1]]})
ONE_NAMED_RULE = RULES_PROFILE.model_copy(update={"rules": [NAMED_RULE]})
ONE_RULE_NO_LOCATION = ONE_RULE.model_copy(update={"location_column": None})
NO_DATE_COLUMN = RULES_PROFILE.model_copy(
    update={"rules": RULES_PROFILE.rules[1:], "location_column": None}
)
LOCATIONS = {
    "Mitte": DayStart(ZoneInfo("Europe/Berlin"), time(5)),
    "Nord": DayStart(ZoneInfo("UTC"), time(0)),
}
FIRST_LOCATION = dict(list(LOCATIONS.items())[:1])
dates = st.sampled_from(
    [
        "27.11.2026",
        "28.11.2026",
        "2026-11-29",
        " 27.11.2026 ",
        "",
        "31.02.2026",
        "28.11.2026 02:10",
        "28.11.2026 05:00:00",
        "2026-11-28T04:30:00Z",
        "28.11.2026 2:10 PM",
    ]
)
codes = st.sampled_from(["101", "102", " 300", "101+102", "A" * 201, "", "+", "7+7"])
quantities = st.sampled_from(["1", "2,5", "-1", "1.234,5", "1.5", "", "x", "1e3"])
places = st.sampled_from(["Mitte", "nord ", "Süd", ""])
record = st.tuples(dates, codes, quantities, codes, places)


def reference(data: bytes, profile: CsvProfile, default_date, locations) -> Scan:
    """What the row-by-row reader (``read_rows``) makes of the file: the oracle of the lean
    scan, accumulated as the scan did before it was made lean."""
    stream = io.BytesIO(data)
    whole = whole_file(stream)
    dialect = detect(stream.read(SAMPLE_BYTES), profile)
    stream.seek(0)
    result = Scan("fuzz.csv", dialect, whole.digest, whole.size)
    for read in read_rows(stream, profile, dialect, locations=locations, default_date=default_date):
        result.rows += 1
        if read.problems:
            result.invalid_rows += 1
            result.error_count += len(read.problems)
            result.errors.extend(read.problems[: max(20 - len(result.errors), 0)])
            continue
        for row in read.rows:
            if len(result.sample) < 5:
                result.sample.append(row)
            if row.name:
                result.names.setdefault(row.codes[0], row.name)
            for code in row.codes:
                result.totals[(row.business_date, row.location, code)] += row.quantity
    return result


def outcome(make):
    try:
        result = make()
    except StockpotError as error:
        return ("error", type(error).__name__, str(error))
    totals = [(key, str(quantity)) for key, quantity in result.totals.items()]
    return (
        result.rows,
        result.invalid_rows,
        result.error_count,
        [str(problem) for problem in result.errors],
        result.sample,
        totals,
        result.names,
    )


@settings(max_examples=400, deadline=None)
@given(
    st.lists(record, max_size=60),
    st.sampled_from([None, date(2026, 11, 30)]),
    st.sampled_from([6, 2]),
    st.sampled_from(
        [RULES_PROFILE, ONE_RULE, ONE_RULE_NO_LOCATION, NO_DATE_COLUMN, NAMED_RULES, ONE_NAMED_RULE]
    ),
    st.sampled_from([LOCATIONS, FIRST_LOCATION]),
)
def test_the_lean_scan_reads_exactly_what_the_row_reader_reads(
    table, default_date, repeat, profile, locations
):
    """Same rows, problems (with their lines), sample, totals and codes' names, in the same
    order, for profiles of several rules (the general loop) and of one rule (keyed by raw
    cells), with and without a name column."""
    lines = ["Datum;Artikel;Menge;Extra;Filiale"]
    for row in table * repeat:
        lines.append(";".join(row))
    lines.insert(len(lines) // 2, "")
    data = "\r\n".join(lines).encode("utf-8")
    lean = outcome(
        lambda: scan(
            io.BytesIO(data),
            profile,
            file_name="fuzz.csv",
            locations=locations,
            default_date=default_date,
            max_bytes=10**7,
        )
    )
    assert lean == outcome(lambda: reference(data, profile, default_date, locations))
