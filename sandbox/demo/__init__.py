"""The demo company: a pizzeria chain's catalog, its mappings, and a till export to upload."""

from __future__ import annotations

from importlib.resources import files

COMPANY = "Pizzeria Beispiel"


def text(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
