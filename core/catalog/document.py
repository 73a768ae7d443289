"""The catalog file (``stockpot catalog import``): its shape, as typed models."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from core.db import SCALE
from core.documents import DocumentModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Positive = Annotated[Decimal, Field(gt=0, decimal_places=SCALE)]
Fraction01 = Annotated[Decimal, Field(ge=0, lt=1, decimal_places=SCALE)]


class StorageUnitDoc(DocumentModel):
    name: Name
    address: str = ""


class IngredientDoc(DocumentModel):
    name: Name
    base_unit: str
    measures: dict[str, Positive] = Field(default_factory=dict)
    active: bool = True


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
    business_day_start: time = time(0, 0)


class CsvConnectionDoc(DocumentModel):
    """A CSV profile. Keys other than ``name`` and ``locations`` are its reading rules, kept
    as the profile's settings (the CSV import defines and checks them)."""

    model_config = ConfigDict(extra="allow")

    name: Name
    locations: list[CsvLocationDoc] = Field(default_factory=list)

    @property
    def rules(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class CatalogDoc(DocumentModel):
    company: Name
    storage_units: list[StorageUnitDoc] = Field(default_factory=list)
    ingredients: list[IngredientDoc] = Field(default_factory=list)
    recipes: list[RecipeDoc] = Field(default_factory=list)
    csv_connections: list[CsvConnectionDoc] = Field(default_factory=list)
