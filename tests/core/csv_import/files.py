"""CSV profiles and exports the CSV tests share, written the way tills write them."""

from __future__ import annotations

from stockpot.core.catalog.importer import import_catalog
from stockpot.core.mapping import import_mappings
from tests.catalogs import setup_trattoria
from tests.conftest import Database

KASSE = """
company: Trattoria Esempio
csv_connections:
  - name: Kasse
    locations:
      - {name: Filiale Mitte, storage_unit: Kitchen, timezone: Europe/Berlin}
    rules:
      - type: column_values_to_pos_codes
        source_column: Artikelnummer
        quantity_source_column: Menge
        date_source_column: Datum
    delimiter: auto
    encoding: auto
    decimal_separator: ","
    date_formats: ["%d.%m.%Y"]
  - name: Bons
    locations:
      - {name: Room, storage_unit: Kitchen, timezone: Europe/Rome}
      - {name: Terrace, storage_unit: Bar, timezone: Europe/Rome}
    rules:
      - {type: column_values_to_pos_codes, source_column: Codes, quantity_source_column: Qty}
    code_separator: "+"
    location_column: Outlet
"""

MAPPINGS = """
company: Trattoria Esempio
connection: csv:{name}
mappings:
  - {{pos_code: "101", pos_name: Margherita, recipe: Margherita, quantity: 1}}
  - {{pos_code: "231", pos_name: Red bottle, ingredient: House red, quantity: 1}}
  - {{pos_code: "300", pos_name: Espresso, ingredient: Espresso beans, quantity: 0.009}}
"""

# A German till: semicolons, decimal commas, cp1252 (ä, €), dd.mm.yyyy, CRLF.
GERMAN = (
    "Datum;Artikelnummer;Bezeichnung;Menge;Betrag\r\n"
    "27.11.2026;101;Pizza Margherita;2;17,00 €\r\n"
    "27.11.2026;300;Espresso;3;7,50 €\r\n"
    "27.11.2026;300;Espresso (Storno);-1;-2,50 €\r\n"
    "28.11.2026;231;Rotwein Flasche;1,5;30,00 €\r\n"
    "28.11.2026;777;Käsekuchen;1;4,50 €\r\n"
).encode("cp1252")

# Tab-separated UTF-8 with a BOM, several codes per cell, a location column, a quoted
# cell holding a tab and a line break.
TABBED = (
    "\ufeffOutlet\tCodes\tQty\tNote\n"
    'Room\t101+300\t2\t"table 4\tby the\nwindow"\n'
    "terrace\t231\t1\tplain\n"
    'Room\t300\t1.5\t"quoted ""x"""\n'
).encode()


def setup_csv(database: Database) -> None:
    setup_trattoria(database)
    import_catalog(database.factory, KASSE, source="kasse.yaml")
    for name in ("Kasse", "Bons"):
        import_mappings(database.factory, MAPPINGS.format(name=name), source="mappings.yaml")
