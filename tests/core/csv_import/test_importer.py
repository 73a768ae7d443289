"""Importing CSV files into the ledger, refusing duplicates, undoing, on a real database."""

from __future__ import annotations

import io
from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from stockpot.core import ledger
from stockpot.core.catalog.importer import import_catalog
from stockpot.core.csv_import.dialect import UnreadableFile
from stockpot.core.csv_import.importer import (
    DuplicateFile,
    import_csv,
    preview_csv,
    profiles,
    undo_import,
)
from stockpot.core.csv_import.scan import InvalidCsv
from stockpot.core.errors import ValidationFailed
from stockpot.core.lookup import company_by_name
from stockpot.core.models import (
    Connection,
    CsvImport,
    ExternalLocation,
    ImportStatus,
    LedgerMovement,
    PosItem,
    RunKind,
    TransferRun,
)
from stockpot.core.unmapped import unmapped
from stockpot.core.words import local_time
from tests.core.csv_import.files import GERMAN, TABBED, setup_csv

DAY = date(2026, 11, 27)
LIMIT = 10**6


def connection_id(database, name: str = "Kasse") -> int:
    with database.session() as session:
        return session.scalar(select(Connection.id).where(Connection.name == name))


def balances(database) -> dict[tuple[str, str], Decimal]:
    with database.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        return {
            (b.storage_unit, b.ingredient): b.quantity for b in ledger.balances(session, company)
        }


def run_import(database, data: bytes = GERMAN, name: str = "Kasse", **kw):
    return import_csv(
        database.factory,
        connection_id(database, name),
        io.BytesIO(data),
        file_name=kw.pop("file_name", "kasse.csv"),
        max_bytes=LIMIT,
        triggered_by="test",
        **kw,
    )


def run_preview(database, data: bytes = GERMAN, name: str = "Kasse", **kw):
    return preview_csv(
        database.factory,
        connection_id(database, name),
        io.BytesIO(data),
        file_name=kw.pop("file_name", "kasse.csv"),
        max_bytes=LIMIT,
        **kw,
    )


def test_a_german_export_becomes_one_csv_run_per_day(database):
    setup_csv(database)
    result = run_import(database)
    assert [(r.business_date, r.kind, r.outcome.value) for r in result.reports] == [
        (DAY, RunKind.CSV, "posted"),
        (date(2026, 11, 28), RunKind.CSV, "posted"),
    ]
    assert result.unmapped == {"777": Decimal(1)}
    found = balances(database)
    assert found[("Kitchen", "Espresso beans")] == Decimal("-0.018")  # 3 sold, 1 refunded
    assert found[("Kitchen", "House red")] == Decimal("-1.5")
    with database.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        assert "777" in {row.key for row in unmapped(session, company.id, days=10_000)}
        assert session.scalar(select(PosItem.name).where(PosItem.key == "777")) == "777"


def test_the_same_file_twice_is_refused_unless_forced_and_another_file_adds_up(database):
    setup_csv(database)
    run_import(database)
    with pytest.raises(DuplicateFile, match=r"^kasse \(1\).csv was already imported \(") as refused:
        run_import(database, file_name="kasse (1).csv")
    assert refused.value.previous_id == 1 and "import 1" not in str(refused.value)
    with database.session() as session:
        first = session.get(CsvImport, 1).created_at
    # on the company's clock (its first location is in Rome), not UTC's
    assert f"{local_time(first, ZoneInfo('Europe/Rome'))} as 'kasse.csv'" in str(refused.value)
    other = b"Datum;Artikelnummer;Menge\n27.11.2026;300;1\n"
    run_import(database, other, file_name="late.csv")
    assert balances(database)[("Kitchen", "Espresso beans")] == Decimal("-0.027")
    run_import(database, force=True)
    assert balances(database)[("Kitchen", "Espresso beans")] == Decimal("-0.045")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CsvImport)) == 3


def test_undo_reverses_exactly_that_import(database):
    setup_csv(database)
    first = run_import(database)
    other = b"Datum;Artikelnummer;Menge\n27.11.2026;300;1\n"
    run_import(database, other, file_name="late.csv")
    undone = undo_import(database.factory, first.import_id, triggered_by="test")
    assert len(undone.reports) == 2
    found = balances(database)
    assert found[("Kitchen", "Espresso beans")] == Decimal("-0.009")  # late.csv stays
    assert found.get(("Kitchen", "House red"), Decimal(0)) == 0
    with database.session() as session:
        assert session.get(CsvImport, first.import_id).status is ImportStatus.UNDONE
        reversals = session.scalar(
            select(func.count()).where(LedgerMovement.reverses_id.is_not(None))
        )
        assert reversals > 0
    with database.session() as session:
        undone_at = session.get(CsvImport, first.import_id).undone_at
    with pytest.raises(ValidationFailed, match="already undone") as refused:
        undo_import(database.factory, first.import_id)
    assert str(refused.value).endswith(local_time(undone_at, ZoneInfo("Europe/Rome")))
    run_import(database)  # undone, so importing it again is no duplicate
    assert balances(database)[("Kitchen", "House red")] == Decimal("-1.5")


def test_a_file_with_errors_posts_nothing_unless_valid_rows_only(database):
    setup_csv(database)
    bad = b"Datum;Artikelnummer;Menge\n27.11.2026;101;zwei\n27.11.2026;300;1\n"
    with pytest.raises(InvalidCsv, match="line 2, column 'Menge': value 'zwei'"):
        run_import(database, bad)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 0
        assert session.scalar(select(func.count()).select_from(CsvImport)) == 0
    result = run_import(database, bad, valid_only=True)
    assert (result.rows, result.rows_skipped) == (1, 1)
    assert balances(database)[("Kitchen", "Espresso beans")] == Decimal("-0.009")


def test_unreadable_files_post_nothing(database):
    setup_csv(database)
    for data in (b"", b"Datum;Artikelnummer;Menge\n", b"\x00\x01\x02binary"):
        with pytest.raises(UnreadableFile):
            run_import(database, data)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 0


def test_a_location_column_and_several_codes_per_cell(database):
    setup_csv(database)
    preview = run_preview(database, TABBED, "Bons", file_name="bons.tsv", default_date=DAY)
    assert preview.unmapped == {} and preview.duplicate_of is None
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TransferRun)) == 0
    result = run_import(database, TABBED, name="Bons", default_date=DAY)
    assert sorted(r.location for r in result.reports) == ["Room", "Terrace"]
    found = balances(database)
    assert found[("Bar", "House red")] == Decimal(-1)
    assert found[("Kitchen", "Espresso beans")] == Decimal("-0.0315")
    again = run_preview(database, TABBED, "Bons", file_name="bons.tsv", default_date=DAY)
    assert again.duplicate_of == result.import_id


def test_profiles_are_listed_with_their_settings(database):
    setup_csv(database)
    listed = {p.label: p for p in profiles(database.factory)}
    assert listed["csv:Kasse"].profile.decimal_separator == ","
    assert listed["csv:Bons"].locations.keys() == {"Room", "Terrace"}
    with pytest.raises(ValidationFailed, match="has no rule"):
        listed["csv:Till export"].profile.require_rules()


def test_a_mapping_added_later_reprocesses_a_csv_day_from_its_stored_lines(database):
    from stockpot.core.pos.connections import transfer_day
    from stockpot.core.settings import Settings

    setup_csv(database)
    run_import(database)
    mapping = """
company: Trattoria Esempio
connection: csv:Kasse
mappings:
  - {pos_code: "777", pos_name: Käsekuchen, ingredient: Eggs, quantity: 2}
"""
    from stockpot.core.mapping import import_mappings

    import_mappings(database.factory, mapping, source="m.yaml")
    with database.session() as session:
        location_id = session.scalar(select(TransferRun.location_id).limit(1))
    report = transfer_day(database.factory, Settings(), location_id, date(2026, 11, 28))
    assert report.outcome.value == "posted" and report.unmapped == []
    found = balances(database)
    assert found[("Kitchen", "Eggs")] == Decimal(-2)
    assert found[("Kitchen", "House red")] == Decimal("-1.5")  # the day's other sales stay


def test_files_imported_at_the_same_time_for_one_day_all_count(database):
    import threading

    setup_csv(database)
    barrier, errors = threading.Barrier(4), []

    def worker(index: int) -> None:
        data = f"Datum;Artikelnummer;Menge\n27.11.2026;300;{index + 1}\n".encode()
        barrier.wait()
        try:
            run_import(database, data, file_name=f"part{index}.csv")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert balances(database)[("Kitchen", "Espresso beans")] == Decimal("-0.090")  # 10 × 0.009


def test_preview_and_import_put_a_sale_after_midnight_on_the_business_day_it_belongs_to(database):
    """Filiale Mitte's day starts at 05:00: the till's 02:10 on Saturday is Friday night's
    sale, as the POS connectors count it; 05:00 is Saturday's. Both were Saturday's."""
    setup_csv(database)
    with database.session() as session, session.begin():
        location = session.scalar(
            select(ExternalLocation).where(ExternalLocation.name == "Filiale Mitte")
        )
        location.business_day_start = time(5)
    data = b"Datum;Artikelnummer;Menge\n28.11.2026 02:10;101;2\n28.11.2026 05:00;300;1\n"
    expected = {
        (DAY, "Filiale Mitte", "101"): Decimal(2),
        (date(2026, 11, 28), "Filiale Mitte", "300"): Decimal(1),
    }
    preview = run_preview(database, data, file_name="nacht.csv")
    assert preview.scan.totals == expected
    result = run_import(database, data, file_name="nacht.csv")
    assert [(r.business_date, r.outcome.value) for r in result.reports] == [
        (DAY, "posted"),
        (date(2026, 11, 28), "posted"),
    ]
    with database.session() as session:
        runs = session.execute(
            select(TransferRun.business_date, func.count()).group_by(TransferRun.business_date)
        ).all()
    assert sorted(runs) == [(DAY, 1), (date(2026, 11, 28), 1)]


def test_a_code_the_catalog_does_not_know_is_named_by_the_files_name_column(database):
    """The preview listed "777 sold 1" and the import made an item called "777": with a
    ``name_source_column`` the code is named as the till names it, in the preview, in the
    unmapped list and in the map form."""
    from tests.core.csv_import.files import KASSE

    setup_csv(database)
    named = KASSE.replace(
        "        date_source_column: Datum\n",
        "        date_source_column: Datum\n        name_source_column: Bezeichnung\n",
    )
    import_catalog(database.factory, named, source="kasse.yaml")
    preview = run_preview(database)
    assert preview.unmapped == {"777": Decimal(1)}
    assert preview.names["777"] == "Käsekuchen"
    assert preview.names["300"] == "Espresso"  # its first name, not "Espresso (Storno)"
    run_import(database)
    with database.session() as session:
        company = company_by_name(session, "Trattoria Esempio")
        [row] = unmapped(session, company.id)
        item = session.scalar(select(PosItem).where(PosItem.key == "777"))
    assert (row.code, row.name, item.name) == ("777", "Käsekuchen", "Käsekuchen")


class CountingFile(io.BytesIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = super().readinto(buffer)
        self.read_bytes += count
        return count

    def read1(self, size: int = -1) -> bytes:
        data = super().read1(size)
        self.read_bytes += len(data)
        return data


def test_a_files_names_are_gathered_in_the_one_reading_of_its_rows(database):
    """The names came from a second reading of the whole file after the scan; now the scan
    keeps each code's first name: the file is read for its hash, its dialect's sample and its
    rows, once each."""
    from tests.core.csv_import.files import KASSE

    setup_csv(database)
    named = KASSE.replace(
        "        date_source_column: Datum\n",
        "        date_source_column: Datum\n        name_source_column: Bezeichnung\n",
    )
    import_catalog(database.factory, named, source="kasse.yaml")
    for service in (preview_csv, import_csv):
        stream = CountingFile(GERMAN)
        result = service(
            database.factory,
            connection_id(database),
            stream,
            file_name="kasse.csv",
            max_bytes=LIMIT,
        )
        assert stream.read_bytes == 3 * len(GERMAN), service.__name__
    assert result.rows == 5
    with database.session() as session:
        item = session.scalar(select(PosItem).where(PosItem.key == "777"))
    assert item.name == "Käsekuchen"
