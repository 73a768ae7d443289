"""Reading exports without a database: dialects, cells, and the messages for bad input."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from stockpot.core.business_day import DayStart
from stockpot.core.cell_text import inert
from stockpot.core.csv_import.cells import business_date, parse_date, parse_quantity
from stockpot.core.csv_import.dialect import SAMPLE_BYTES, UnreadableFile, detect
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.csv_import.scan import SAMPLE_ROWS, InvalidCsv, scan
from tests.core.csv_import.files import GERMAN, TABBED

DAY = date(2026, 11, 27)
GERMAN_PROFILE = CsvProfile.model_validate(
    {
        "rules": [
            {
                "type": "column_values_to_pos_codes",
                "source_column": "Artikelnummer",
                "quantity_source_column": "Menge",
                "date_source_column": "Datum",
            }
        ],
        "decimal_separator": ",",
        "date_formats": ["%d.%m.%Y"],
    }
)
TAB_PROFILE = CsvProfile.model_validate(
    {
        "rules": [
            {
                "type": "column_values_to_pos_codes",
                "source_column": "Codes",
                "quantity_source_column": "Qty",
            }
        ],
        "code_separator": "+",
        "location_column": "Outlet",
    }
)


def days(*names: str, start: time = time(0), zone: str = "Europe/Berlin") -> dict:
    """Locations by name with one clock: where the reading tests need no day start, the
    day starts at midnight (a date with a time stays on its calendar date)."""
    return {name: DayStart(ZoneInfo(zone), start) for name in names}


def read(data: bytes, profile: CsvProfile = GERMAN_PROFILE, **kw):
    options = {"locations": days("Filiale Mitte"), "default_date": None, "max_bytes": 10**6}
    return scan(io.BytesIO(data), profile, file_name="kasse.csv", **{**options, **kw})


def test_a_german_export_semicolons_decimal_commas_cp1252():
    result = read(GERMAN)
    assert result.dialect.describe() == "cp1252, semicolon"
    assert (result.rows, result.error_count) == (5, 0)
    assert result.dates == [DAY, date(2026, 11, 28)]
    assert result.totals == {
        (DAY, "Filiale Mitte", "101"): Decimal(2),
        (DAY, "Filiale Mitte", "300"): Decimal(2),  # 3 sold, 1 refunded
        (date(2026, 11, 28), "Filiale Mitte", "231"): Decimal("1.5"),
        (date(2026, 11, 28), "Filiale Mitte", "777"): Decimal(1),
    }


def test_tabs_bom_several_codes_a_location_column_and_quoted_newlines():
    result = read(TABBED, TAB_PROFILE, locations=days("Room", "Terrace"), default_date=DAY)
    assert result.dialect.describe() == "utf-8-sig, tab"
    assert (result.rows, result.error_count) == (3, 0)
    assert result.totals == {
        (DAY, "Room", "101"): Decimal(2),
        (DAY, "Room", "300"): Decimal("3.5"),
        (DAY, "Terrace", "231"): Decimal(1),
    }
    assert [row.line for row in result.sample] == [2, 4, 5]  # the quoted newline counts


def test_quoted_delimiters_stay_in_their_cell():
    data = b'Artikelnummer,Menge,Datum,Name\n"101",2,2026-11-27,"Pizza, large"\n'
    profile = GERMAN_PROFILE.model_copy(
        update={"decimal_separator": ".", "date_formats": ["%Y-%m-%d"]}
    )
    result = read(data, profile)
    assert result.dialect.delimiter == "," and result.totals == {
        (DAY, "Filiale Mitte", "101"): Decimal(2)
    }


def test_bad_rows_are_reported_by_line_column_value_and_fix():
    data = (
        b"Datum;Artikelnummer;Menge\n"
        b"27.11.2026;101;zwei\n"
        b"31.02.2026;101;1\n"
        b"27.11.2026;;1\n"
        b'27.11.2026;=HYPERLINK("http://x");=1+1\n'
        b"27.11.2026;300;-2\n"
    )
    result = read(data)
    assert result.error_count == 4 and result.invalid_rows == 4
    messages = [str(problem) for problem in result.errors]
    assert messages[0] == (
        "line 2, column 'Menge': value 'zwei' is not a number; write it with the digits 0-9 "
        "and a ',' for decimals, e.g. 2 or 1,5"
    )
    assert messages[1].startswith("line 3, column 'Datum': value '31.02.2026' is not a date")
    assert "%d.%m.%Y (e.g. 27.11.2026)" in messages[1]
    assert (
        messages[2]
        == "line 4, column 'Artikelnummer': has no POS code; fill it in or delete the row"
    )
    assert messages[3].startswith("line 5, column 'Menge': value ''=1+1' is not a number")
    with pytest.raises(InvalidCsv) as refused:
        result.refuse_if_invalid()
    assert "4 errors, nothing was imported" in str(refused.value)
    assert result.totals == {(DAY, "Filiale Mitte", "300"): Decimal(-2)}  # refunds are fine


def test_only_the_first_twenty_errors_are_listed_with_the_total():
    data = b"Datum;Artikelnummer;Menge\n" + b"27.11.2026;101;x\n" * 30
    result = read(data)
    assert (len(result.errors), result.error_count) == (20, 30)
    with pytest.raises(InvalidCsv, match="and 10 more"):
        result.refuse_if_invalid()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \r\n", "the file is empty"),
        (b"Datum;Artikelnummer;Menge\r\n", "header but no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 3, column '‰PNG': a NUL character"),
        (b"Datum;Code;Menge\n27.11.2026;101;1\n", "no column source_column 'Artikelnummer'"),
    ],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(UnreadableFile, match=message):
        read(data)


def test_a_file_over_the_limit_is_refused_before_reading():
    with pytest.raises(UnreadableFile, match="over the limit of 1 MB; split it"):
        read(GERMAN * 10_000, max_bytes=1_048_576)


def test_a_date_is_needed_when_the_file_has_none():
    profile = TAB_PROFILE
    result = read(TABBED, profile, locations=days("Room", "Terrace"))
    assert result.error_count == 3
    assert "has no date and none was given" in str(result.errors[0])


def test_cells():
    assert parse_quantity("1,5", ",") == Decimal("1.5")
    assert parse_quantity("1.234,5", ",") == Decimal("1234.5")
    assert parse_quantity("-2", ".") == Decimal(-2)
    with pytest.raises(ValueError, match="decimal separator is ','"):
        parse_quantity("1.5", ",")
    with pytest.raises(ValueError, match="more than 9 decimal places"):
        parse_quantity("0.0000000001", ".")
    for other_digits in ("١٢", "１２", "1²", "٣,٥"):  # Arabic-Indic, fullwidth, superscript
        with pytest.raises(ValueError, match="is not a number"):
            parse_quantity(other_digits, ",")
    assert parse_date("27.11.2026 14:32", ["%d.%m.%Y"]) == datetime(2026, 11, 27, 14, 32)  # noqa: DTZ001
    assert parse_date(" 27.11.2026 ", ["%d.%m.%Y"]) == DAY
    # A typed year outside the dates Stockpot works with is a problem of its cell (a file
    # dated 2999 or 1900 was imported and posted).
    for typo in ("27.11.2999", "01.01.1900", "31.12.1999"):
        with pytest.raises(ValueError, match="outside the dates Stockpot works with"):
            parse_date(typo, ["%d.%m.%Y"])
    assert inert("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert inert("@SUM(A1)") == "'@SUM(A1)" and inert("101") == "101"


def test_detection_falls_back_to_cp1252_and_fixed_settings_win():
    assert detect("Käse;1\n".encode("cp1252"), GERMAN_PROFILE).encoding == "cp1252"
    assert detect("Käse;1\n".encode(), GERMAN_PROFILE).encoding == "utf-8"
    fixed = GERMAN_PROFILE.model_copy(update={"delimiter": "|", "encoding": "latin-1"})
    assert detect(b"a;b\n", fixed).describe() == "latin-1, pipe"


def test_a_profile_that_is_wrong_says_so():
    with pytest.raises(ValueError, match="needs %d, %m and %Y"):
        CsvProfile.model_validate({"date_formats": ["%Y"]})
    with pytest.raises(ValueError, match="column_values_to_pos_codes"):
        CsvProfile.model_validate({"rules": [{"type": "regex", "source_column": "A"}]})


@pytest.mark.parametrize("pattern", ["%d.%m.%Y %", "%d.%m.%Y %Q", "%d.%d.%m.%Y"])
def test_a_date_format_that_cannot_read_its_own_dates_is_refused_with_the_profile(pattern):
    """It has %d, %m and %Y, so it was saved; then every row of every file was refused as
    "not a date in the format %d.%m.%Y % (e.g. 27.11.2026 %)", and a directive given twice
    raised ``re.error`` out of the reader (a traceback for each import)."""
    with pytest.raises(ValueError, match="cannot read back a date it writes"):
        CsvProfile.model_validate({"date_formats": [pattern]})


@pytest.mark.parametrize(
    "pattern", ["%d.%m.%Y", "%d.%m.%y", "%Y-%m-%dT%H:%M:%S%z", "%d.%m.%Y %I:%M %p", "%d.%m.%Y%%"]
)
def test_the_date_formats_tills_write_are_kept(pattern):
    assert CsvProfile.model_validate({"date_formats": [pattern]}).date_formats == [pattern]


def test_a_bom_is_ignored_even_when_the_encoding_is_fixed_to_utf8():
    fixed = TAB_PROFILE.model_copy(update={"encoding": "utf-8"})
    result = read(TABBED, fixed, locations=days("Room", "Terrace"), default_date=DAY)
    assert result.error_count == 0 and result.rows == 3


def test_rows_without_a_quantity_column_take_the_default_quantity():
    profile = CsvProfile.model_validate(
        {
            "rules": [{"type": "column_values_to_pos_codes", "source_column": "Code"}],
            "default_quantity": "2",
        }
    )
    result = read(b"Code\n101\n101\n", profile, default_date=DAY)
    assert result.totals == {(DAY, "Filiale Mitte", "101"): Decimal(4)}
    with pytest.raises(ValueError, match="greater than 0"):
        CsvProfile.model_validate({"default_quantity": 0})


TIMED = (
    b"Datum;Artikelnummer;Menge\n"
    b"27.11.2026 22:30;101;1\n"
    b"28.11.2026 02:10;101;2\n"  # Friday night's late sale
    b"28.11.2026 05:00;101;4\n"  # the first minute of Saturday's business day
    b"2026-11-28T03:30:00Z;300;1\n"  # 04:30 in Berlin: still Friday's
    b"2026-11-28T04:30:00+00:00;300;2\n"  # 05:30 in Berlin: Saturday's
    b"28.11.2026;231;1\n"  # a date without a time: the export already says the day
)
TIMED_PROFILE = GERMAN_PROFILE.model_copy(update={"date_formats": ["%d.%m.%Y", "%Y-%m-%d"]})
FRIDAY, SATURDAY = DAY, date(2026, 11, 28)


def test_a_time_in_the_date_cell_places_the_sale_on_its_locations_business_day():
    """A till writes its clock's time; with the day starting at 05:00 a sale at 02:10 belongs
    to the day before, as the POS connectors count it (core.business_day). It was imported
    on the calendar date (the time was ignored)."""
    result = read(TIMED, TIMED_PROFILE, locations=days("Filiale Mitte", start=time(5)))
    assert result.error_count == 0
    assert result.totals == {
        (FRIDAY, "Filiale Mitte", "101"): Decimal(3),
        (SATURDAY, "Filiale Mitte", "101"): Decimal(4),
        (FRIDAY, "Filiale Mitte", "300"): Decimal(1),
        (SATURDAY, "Filiale Mitte", "300"): Decimal(2),
        (SATURDAY, "Filiale Mitte", "231"): Decimal(1),
    }
    assert [row.business_date for row in result.sample] == [
        FRIDAY,
        FRIDAY,
        SATURDAY,
        FRIDAY,
        SATURDAY,
    ]


def test_a_day_starting_at_midnight_keeps_the_calendar_date():
    result = read(TIMED, TIMED_PROFILE, locations=days("Filiale Mitte"))
    assert result.totals[(SATURDAY, "Filiale Mitte", "101")] == Decimal(6)
    assert result.totals[(SATURDAY, "Filiale Mitte", "300")] == Decimal(3)
    assert (FRIDAY, "Filiale Mitte", "300") not in result.totals


def test_each_row_is_placed_by_its_own_locations_day_start():
    """Several rules (the scan's general loop) and a location column: Room's day starts at
    05:00, Terrace's at midnight, so the same 02:10 is Friday's in one and Saturday's in the
    other."""
    profile = CsvProfile.model_validate(
        {
            "rules": [
                {
                    "type": "column_values_to_pos_codes",
                    "source_column": "Code",
                    "date_source_column": "When",
                },
                {"type": "column_values_to_pos_codes", "source_column": "Extra"},
            ],
            "location_column": "Outlet",
            "date_formats": ["%d.%m.%Y %H:%M"],
        }
    )
    rows = "".join(f"{place};28.11.2026 02:10;101;\n" for place in ("Room", "Terrace") * 3)
    places = days("Room", start=time(5)) | days("Terrace")
    result = read(f"Outlet;When;Code;Extra\n{rows}".encode(), profile, locations=places)
    assert result.totals == {
        (FRIDAY, "Room", "101"): Decimal(3),
        (SATURDAY, "Terrace", "101"): Decimal(3),
    }


def test_the_business_day_over_a_dst_night():
    """25 October 2026 in Berlin has 25 hours: 04:59 is still the night of the 24th, 05:00
    the 25th's."""
    berlin = DayStart(ZoneInfo("Europe/Berlin"), time(5))
    night = date(2026, 10, 24)
    assert business_date(parse_date("25.10.2026 02:30", ["%d.%m.%Y"]), berlin) == night
    assert business_date(parse_date("25.10.2026 04:59", ["%d.%m.%Y"]), berlin) == night
    assert business_date(parse_date("25.10.2026 05:00", ["%d.%m.%Y"]), berlin) == date(2026, 10, 25)


@pytest.mark.parametrize("extra_rule", [False, True], ids=["one rule", "two rules"])
def test_a_sale_before_the_day_start_of_the_first_date_stockpot_works_with_is_refused(
    extra_rule: bool,
):
    """02:10 on 2000-01-01 with the day starting at 05:00 is business day 1999-12-31, outside
    the dates Stockpot works with: a problem of its line, wherever the scan reads it (the
    first rows, then each loop past them). The calendar date alone was checked, and the
    sale was totalled and imported under 1999-12-31. 05:00 that day is the first day's."""
    profile = GERMAN_PROFILE.model_copy(update={"date_formats": ["%d.%m.%Y"]})
    header, extra = "Datum;Artikelnummer;Menge", ""
    if extra_rule:
        rules = [*profile.rules, {"type": "column_values_to_pos_codes", "source_column": "Extra"}]
        profile = CsvProfile.model_validate({**profile.model_dump(), "rules": rules})
        header, extra = f"{header};Extra", ";"
    first_day = [f"01.01.2000 05:00;101;1{extra}"] * SAMPLE_ROWS
    night = f"01.01.2000 02:10;101;1{extra}"
    data = "\n".join([header, night, *first_day, night, ""]).encode()
    result = read(data, profile, locations=days("Filiale Mitte", start=time(5)))
    assert (result.error_count, [problem.line for problem in result.errors]) == (2, [2, 8])
    assert str(result.errors[0]).startswith(
        "line 2, column 'Datum': value '01.01.2000 02:10' falls on business day 1999-12-31 at "
        "its location (its day starts at 05:00, Europe/Berlin), outside the dates Stockpot "
        "works with (2000-01-01 to "
    )
    assert result.totals == {(date(2000, 1, 1), "Filiale Mitte", "101"): Decimal(SAMPLE_ROWS)}


def test_a_time_that_cannot_be_read_is_a_problem_not_ignored():
    result = read(b"Datum;Artikelnummer;Menge\n28.11.2026 2:10 AM;101;1\n")
    assert result.error_count == 1
    assert "has a time '2:10 AM' after the date that is not HH:MM" in str(result.errors[0])


NAMED_RULE = {**GERMAN_PROFILE.rules[0].model_dump(), "name_source_column": "Artikel"}
NAMED = CsvProfile.model_validate(
    {**GERMAN_PROFILE.model_dump(), "rules": [NAMED_RULE], "code_separator": "+"}
)
TWO_NAMED_RULES = CsvProfile.model_validate(
    {
        **NAMED.model_dump(),
        "rules": [NAMED_RULE, {"type": "column_values_to_pos_codes", "source_column": "Extra"}],
    }
)


@pytest.mark.parametrize("profile", [NAMED, TWO_NAMED_RULES], ids=["one rule", "two rules"])
def test_a_codes_name_is_the_first_a_valid_row_gives_it_alone(profile):
    """Past the sample rows the scan does not read rows one by one: a code is named by its
    first valid row with a name, whichever way the row is read."""
    data = (
        "Datum;Artikelnummer;Artikel;Menge;Extra\n"
        + "27.11.2026;101;Margherita;1;\n" * (SAMPLE_ROWS + 1)
        + "27.11.2026;102;;1;\n"  # no name yet
        "27.11.2026;102;Salami;1;\n"
        "27.11.2026;102;Salami grande;1;\n"
        "27.11.2026;7+8;Combo;1;\n"  # a cell of several codes names none
        "27.11.2026;103;Not read;x;\n"  # an invalid row names nothing
        "27.11.2026;103;Tiramisu;1;\n"
    ).encode()
    result = read(data, profile, max_bytes=10**6)
    assert result.error_count == 1
    assert result.names == {"101": "Margherita", "102": "Salami", "103": "Tiramisu"}


def test_a_file_without_the_name_column_is_read_without_names():
    result = read(GERMAN, NAMED)
    assert (result.error_count, result.names) == (0, {})


NUL_FIX = (
    ': a NUL character ("\\0") is not accepted; remove it from the file, or, if the file is not '
    "text (an Excel workbook, an image, UTF-16 text), export the sales as CSV (in Excel: Save as "
    "→ CSV UTF-8)"
)


@pytest.mark.parametrize("rows_before", [0, 5_000], ids=["at the start", "past the sample"])
def test_a_nul_byte_is_refused_at_its_line_and_column(rows_before):
    """The start of a file with one was refused as "binary data" without saying where, and one
    past the dialect's sample passed the checks and failed the import telling to correct the
    item in the POS."""
    data = (
        b"Datum;Artikelnummer;Menge\n"
        + b"27.11.2026;101;1\n" * rows_before
        + b'27.11.2026;"1\x0001\n";1\n'
        + b"27.11.2026;101;1\n"
    )
    assert len(data) > SAMPLE_BYTES or not rows_before
    with pytest.raises(UnreadableFile) as refused:
        read(data)
    assert str(refused.value) == f"line {rows_before + 2}, column 'Artikelnummer'{NUL_FIX}"


def test_a_nul_byte_without_a_header_row_or_in_a_utf16_file_is_placed_by_column_number():
    profile = GERMAN_PROFILE.model_copy(update={"header_row": False})
    with pytest.raises(UnreadableFile, match=r"^line 1, column 2: a NUL character"):
        read(b"27.11.2026;1\x0001;1\n", profile)
    utf16 = "Datum;Artikelnummer;Menge\n27.11.2026;101;1\n".encode("utf-16")
    with pytest.raises(UnreadableFile, match=r"^line 1, column 1: a NUL character"):
        read(utf16)
