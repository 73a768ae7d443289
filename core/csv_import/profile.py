"""A CSV connection's profile: how to read its files (the catalog's ``csv_connections``).

The same model checks the catalog YAML (with line-numbered errors) and reads the settings
stored on the connection, so the two can never disagree about a key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from stockpot.core.csv_import.cells import date_format_problem
from stockpot.core.documents import DocumentModel
from stockpot.core.errors import ValidationFailed
from stockpot.core.quantities import PositiveQuantity

Column = Annotated[str, StringConstraints(min_length=1, max_length=200)]
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")
ISO_DATE = "%Y-%m-%d"


class CodesRule(DocumentModel):
    """The product's only rule type: POS codes (and optionally quantity, date) from columns."""

    type: Literal["column_values_to_pos_codes"]
    source_column: Column
    quantity_source_column: Column | None = None
    date_source_column: Column | None = None


class CsvProfile(DocumentModel):
    """Reading settings of a CSV connection; every key is optional except ``rules``."""

    rules: list[CodesRule] = Field(default_factory=list)
    delimiter: Literal["auto", ",", ";", "\t", "|"] = "auto"
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp1252", "latin-1"] = "auto"
    decimal_separator: Literal[".", ","] = "."
    date_formats: list[str] = Field(default_factory=lambda: [ISO_DATE], min_length=1)
    code_separator: str | None = Field(default=None, min_length=1, max_length=5)
    header_row: bool = True
    default_quantity: PositiveQuantity = Decimal(1)
    location_column: Column | None = None

    @field_validator("date_formats")
    @classmethod
    def _formats_have_a_date(cls, formats: list[str]) -> list[str]:
        for value in formats:
            if not all(part in value for part in ("%d", "%m")) or "%Y" not in value.replace(
                "%y", "%Y"
            ):
                raise ValueError(
                    f"date format {value!r} needs %d, %m and %Y (or %y), e.g. '%d.%m.%Y'"
                )
            problem = date_format_problem(value)
            if problem is not None:
                raise ValueError(problem)
        return formats

    @model_validator(mode="after")
    def _rules_read_different_columns(self) -> CsvProfile:
        """Every rule is applied to every row: two rules on one code column would count each
        of its codes twice."""
        seen: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            column = rule.source_column.strip().casefold()
            if column in seen:
                raise ValueError(
                    f"rules[{index}] reads the same source_column '{rule.source_column}' as "
                    f"rules[{seen[column]}]; every rule is applied to every row, so its codes "
                    "would count twice. Give each rule its own code column"
                )
            seen[column] = index
        return self

    @model_validator(mode="after")
    def _separators_differ(self) -> CsvProfile:
        if self.code_separator is not None and self.code_separator == self.delimiter:
            raise ValueError("code_separator must differ from the delimiter")
        return self

    @property
    def needs_date(self) -> bool:
        """Some rule reads no date column: its sales take the date given with the file."""
        return any(rule.date_source_column is None for rule in self.rules)

    def require_rules(self) -> None:
        if not self.rules:
            raise ValidationFailed(
                "this CSV connection has no rule: add one of type column_values_to_pos_codes "
                "with the source_column that holds the POS codes (catalog csv_connections)"
            )

    def settings_json(self, *, only_set: bool = True) -> dict[str, Any]:
        """The profile as stored on the connection (decimals as strings)."""
        return self.model_dump(mode="json", exclude_unset=only_set)

    @classmethod
    def of_settings(cls, settings: dict[str, Any] | None, *, label: str) -> CsvProfile:
        """The profile stored on a connection; a broken one says how to fix it."""
        try:
            return cls.model_validate(settings or {})
        except ValueError as error:
            raise ValidationFailed(
                f"the profile of {label} is invalid ({error}); fix its csv_connections entry "
                "in the catalog and import it again"
            ) from None
