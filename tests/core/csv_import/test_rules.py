"""A CSV profile with several rules: every rule is applied to every row, each with its own
columns; a profile whose rules would count codes twice is refused when it is saved."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.csv_import.dialect import UnreadableFile
from stockpot.core.csv_import.importer import import_csv
from stockpot.core.errors import InvalidDocument
from stockpot.core.mapping import import_mappings
from stockpot.core.models import Connection
from tests.catalogs import setup_trattoria
from tests.core.csv_import.files import MAPPINGS
from tests.core.csv_import.test_importer import balances

PROFILE = """
company: Trattoria Esempio
csv_connections:
  - name: Zwei
    locations: [{{name: Filiale, storage_unit: Kitchen, timezone: Europe/Berlin}}]
    rules:
      - {{type: column_values_to_pos_codes, source_column: Artikel, quantity_source_column: Menge, date_source_column: Datum}}
      - {{type: column_values_to_pos_codes, source_column: {second}, quantity_source_column: Extramenge}}
    delimiter: ";"
"""
FILE = (
    b"Datum;Artikel;Menge;Extra;Extramenge\n"
    b"2026-11-27;101;2;300;3\n"
    b"2026-11-27;101;1;;\n"
    b"2026-11-27;;;300;1\n"
)


def _setup(database, second: str = "Extra") -> int:
    setup_trattoria(database)
    import_catalog(database.factory, PROFILE.format(second=second), source="zwei.yaml")
    import_mappings(database.factory, MAPPINGS.format(name="Zwei"), source="m.yaml")
    with database.session() as session:
        return session.scalar(select(Connection.id).where(Connection.name == "Zwei"))


def _import(database, connection_id: int, data: bytes = FILE):
    return import_csv(
        database.factory,
        connection_id,
        io.BytesIO(data),
        file_name="zwei.csv",
        max_bytes=10**6,
        default_date=date(2026, 11, 27),
    )


def test_every_rule_is_applied_with_its_own_columns(database):
    connection_id = _setup(database)
    result = _import(database, connection_id)
    assert result.rows == 3 and result.rows_skipped == 0
    found = balances(database)
    assert found[("Kitchen", "Espresso beans")] == Decimal("-0.036"), "(3 + 1) × 0.009 kg"
    assert found[("Kitchen", "Mozzarella")] == Decimal("-0.390625"), "3 Margherita, 4 % trim"


def test_a_file_without_the_second_rule_s_column_says_which(database):
    connection_id = _setup(database)
    with pytest.raises(UnreadableFile, match="no column source_column 'Extra'"):
        _import(database, connection_id, b"Datum;Artikel;Menge\n2026-11-27;101;2\n")


def test_two_rules_on_one_code_column_are_refused_when_saved(database):
    setup_trattoria(database)
    with pytest.raises(InvalidDocument) as refused:
        import_catalog(database.factory, PROFILE.format(second="artikel"), source="zwei.yaml")
    (problem,) = refused.value.problems
    assert str(problem) == (
        "line 4: csv_connections[0]: Value error, rules[1] reads the same source_column "
        "'artikel' as rules[0]; every rule is applied to every row, so its codes would count "
        "twice. Give each rule its own code column"
    )
