"""Saving a CSV profile from a form (the Slack modal) through the catalog import, so a form
and a catalog file are checked by the same rules and written by the same code."""

from __future__ import annotations

import json
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.catalog.importer import ImportSummary, import_catalog

FORM_SOURCE = "CSV profile form"


def save_profile(
    factory: sessionmaker[Session],
    company: str,
    name: str,
    settings: dict[str, Any],
    location: dict[str, str] | None = None,
) -> ImportSummary:
    """Create or replace the profile ``name`` of ``company`` (its reading settings are
    replaced whole), adding ``location`` ({name, storage_unit, timezone}) when given.
    Raises ``InvalidDocument`` whose problems name the setting at fault."""
    entry: dict[str, Any] = {"name": name, **settings}
    if location:
        entry["locations"] = [location]
    plain = json.loads(json.dumps({"company": company, "csv_connections": [entry]}))
    text = yaml.safe_dump(plain, allow_unicode=True)
    return import_catalog(factory, text, source=FORM_SOURCE)
