"""The modal that creates or edits a CSV profile (``/pos csv profile [name]``).

Every input's block id and action id is the profile key it sets (``bot.ids.CsvProfileField``),
so the handler reads the form and places the catalog's errors back on the right input.
"""

from __future__ import annotations

from typing import Any

from stockpot.bot.blocks.common import Block, clip, context
from stockpot.bot.ids import CallbackId
from stockpot.bot.ids import CsvProfileField as F

DELIMITER_CHOICES = [
    ("auto", "auto-detect"),
    (",", "comma ,"),
    (";", "semicolon ;"),
    ("\t", "tab"),
    ("|", "pipe |"),
]
ENCODING_CHOICES = [
    ("auto", "auto-detect"),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("cp1252", "Windows-1252"),
    ("latin-1", "Latin-1"),
]
DECIMAL_CHOICES = [(".", "point 1.5"), (",", "comma 1,5")]
TEXT_KEYS = {
    F.NAME: ("Profile name", False),
    F.SOURCE_COLUMN: ("Column with the POS codes", False),
    F.QUANTITY_SOURCE_COLUMN: ("Column with the quantity", True),
    F.DATE_SOURCE_COLUMN: ("Column with the date", True),
    F.DATE_FORMATS: ("Date formats, comma-separated (e.g. %d.%m.%Y)", True),
    F.CODE_SEPARATOR: ("Separator of several codes in one cell (e.g. +)", True),
    F.LOCATION_COLUMN: ("Column naming the location", True),
    F.DEFAULT_QUANTITY: ("Quantity of rows without one (default 1)", True),
    F.LOCATION_NAME: ("New location (name)", True),
    F.LOCATION_TIMEZONE: ("Its timezone (IANA, e.g. Europe/Berlin)", True),
}
SELECT_KEYS = {
    F.DELIMITER: ("Delimiter", DELIMITER_CHOICES),
    F.ENCODING: ("Encoding", ENCODING_CHOICES),
    F.DECIMAL_SEPARATOR: ("Decimal separator", DECIMAL_CHOICES),
}


def _option(value: str, label: str) -> Block:
    return {"text": {"type": "plain_text", "text": clip(label, 75)}, "value": value}


def _text_input(key: str, initial: str) -> Block:
    label, optional = TEXT_KEYS[key]
    element: Block = {"type": "plain_text_input", "action_id": key}
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": key,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _select(key: str, initial: str, choices: list[tuple[str, str]]) -> Block:
    label, _ = SELECT_KEYS[key]
    options = [_option(value, text) for value, text in choices]
    chosen = next((o for o in options if o["value"] == initial), options[0])
    return {
        "type": "input",
        "block_id": key,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "static_select",
            "action_id": key,
            "options": options,
            "initial_option": chosen,
        },
    }


def profile_modal(
    metadata: str, current: dict[str, Any], storage_units: list[str], name: str = ""
) -> dict:
    """``current`` is the profile's stored settings (empty for a new one)."""
    rule = (current.get("rules") or [{}])[0]
    initial = {
        "name": name,
        "source_column": rule.get("source_column") or "",
        "quantity_source_column": rule.get("quantity_source_column") or "",
        "date_source_column": rule.get("date_source_column") or "",
        "date_formats": ", ".join(current.get("date_formats") or []),
        "code_separator": current.get("code_separator") or "",
        "location_column": current.get("location_column") or "",
        "default_quantity": str(current.get("default_quantity") or ""),
        "location_name": "",
        "location_timezone": "",
    }
    blocks: list[Block] = [_text_input(key, initial[key]) for key in list(TEXT_KEYS)[:4]]
    blocks += [
        _select(key, str(current.get(key) or choices[0][0]), choices)
        for key, (_, choices) in SELECT_KEYS.items()
    ]
    blocks += [_text_input(key, initial[key]) for key in list(TEXT_KEYS)[4:]]
    blocks.append(
        {
            "type": "input",
            "block_id": F.LOCATION_STORAGE_UNIT,
            "optional": True,
            "label": {"type": "plain_text", "text": "Its storage unit"},
            "element": {
                "type": "static_select",
                "action_id": F.LOCATION_STORAGE_UNIT,
                "options": [_option(unit, unit) for unit in storage_units[:100]]
                or [_option("-", "no storage units yet")],
            },
        }
    )
    blocks.append(context("Saved like the catalog's csv_connections entry; see the README."))
    return {
        "type": "modal",
        "callback_id": CallbackId.CSV_PROFILE_FORM,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "CSV profile"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
