"""The catalog file (``stockpot catalog import``): its shape, as typed models."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from stockpot.core.clock_time import parse_clock_time
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.documents import DocumentModel
from stockpot.core.errors import StockpotError
from stockpot.core.lookup import name_problem
from stockpot.core.quantities import Cost, FractionBelowOne, PositiveQuantity


def _name(text: str) -> str:
    problem = name_problem(text)
    if problem is not None:
        raise PydanticCustomError("name", problem)
    return text


Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_name)]


def _code_as_text(code: Any) -> Any:
    """``pos_code: 101`` unquoted is a YAML number (``0101`` the octal 65): refused with the
    fix rather than pydantic's "Input should be a valid string"."""
    if isinstance(code, int | float | Decimal) and not isinstance(code, bool):
        raise PydanticCustomError(
            "pos_code_number",
            'write the code in quotes (pos_code: "101"): unquoted, YAML reads it as a number, '
            "and a code such as 0101 would lose its leading zero",
        )
    return code


PosCode = Annotated[
    str,
    BeforeValidator(_code_as_text),
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_name),
]
"""A POS code held to the rule of names: sales lines with a line break, a tab, NUL or a
bidirectional control in their code are refused, so a mapping of one could never match."""
Positive = PositiveQuantity
Fraction01 = FractionBelowOne


def _clock_time(value: Any) -> Any:
    """A time of day written as people write it (``5:00``; ``parse_clock_time``), not only
    pydantic's ``05:00`` ("input is too short"). A YAML number is read the same way, as an
    hour: pydantic took ``6`` for six seconds past midnight."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    try:
        return parse_clock_time(value)
    except StockpotError as error:
        raise PydanticCustomError("clock_time", str(error)) from None


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


def _currency(code: str) -> str:
    """``eur`` is EUR; anything but three letters says what is meant (the bare pattern said
    "String should match pattern '^[A-Z]{3}$'")."""
    upper = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", upper):
        raise PydanticCustomError(
            "currency", "write an ISO 4217 currency code of three letters, such as EUR or CHF"
        )
    return upper


class StorageUnitDoc(DocumentModel):
    name: Name
    address: str = ""


class IngredientDoc(DocumentModel):
    name: Name
    base_unit: str
    measures: dict[str, Positive] = Field(default_factory=dict)
    active: bool = True
    cost: Cost | None = None
    """Cost per base unit in the company's currency; absent keeps the stored cost."""


class RecipeLineDoc(DocumentModel):
    ingredient: Name | None = None
    recipe: Name | None = None
    quantity: Positive
    unit: str | None = None
    trim: Fraction01 = Decimal(0)
    issue_storage: Name | None = None


class RecipeDoc(DocumentModel):
    name: Name
    portions: Positive = Decimal(1)
    default_issue_storage: Name | None = None
    active: bool = True
    lines: list[RecipeLineDoc] = Field(default_factory=list)


class CsvLocationDoc(DocumentModel):
    name: Name
    storage_unit: Name
    timezone: str = "UTC"
    business_day_start: ClockTime = time(0, 0)


class CsvConnectionDoc(CsvProfile):
    """A CSV connection: its locations and its profile (how its files are read), checked
    here so a typo in a reading setting is an error with its line, not a surprise later."""

    name: Name
    locations: list[CsvLocationDoc] = Field(default_factory=list)

    def profile_settings(self) -> dict[str, Any]:
        """The reading settings the file gives, as stored on the connection."""
        settings = self.settings_json()
        settings.pop("name", None)
        settings.pop("locations", None)
        return settings


class CatalogDoc(DocumentModel):
    company: Name
    currency: Annotated[str, AfterValidator(_currency)] | None = None
    """ISO 4217 code (EUR, CHF, USD…) of the company's costs; absent keeps the stored one."""
    storage_units: list[StorageUnitDoc] = Field(default_factory=list)
    ingredients: list[IngredientDoc] = Field(default_factory=list)
    recipes: list[RecipeDoc] = Field(default_factory=list)
    csv_connections: list[CsvConnectionDoc] = Field(default_factory=list)
