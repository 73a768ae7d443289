"""Finding a company's rows by the names users type, with messages that say what exists."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.errors import NotFound, ValidationFailed
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    Ingredient,
    Provider,
    Recipe,
    StorageUnit,
)
from stockpot.core.words import quoted


def fold(text: str) -> str:
    """How a name compares when people type it: no case, no accents (Küche ~ kuche), and no
    invisible formatting characters (a zero-width space or a soft hyphen pasted in with a
    name made 'Lager\u200b' a second unit, shown exactly as Lager)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (c for c in decomposed if not unicodedata.combining(c) and not _invisible(c))
    return " ".join("".join(kept).split())


def _invisible(character: str) -> bool:
    return unicodedata.category(character) == "Cf"


_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (NUL, line breaks, tabs) and the bidirectional overrides and isolates
(a name that reads backwards where it is shown)."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a company, storage unit, ingredient, recipe or location, or
    ``None``: PostgreSQL refuses NUL in text (a crash at the first query that named it), a
    line break splits the name wherever it is listed (Slack, CSV files), and bidirectional
    controls make one name look like another."""
    found = _UNSHOWABLE.search(name)
    if found is None:
        return None
    return f"a name cannot contain the control character U+{ord(found.group()):04X}"


NUL_REFUSED = 'a NUL character ("\\0") is not accepted; remove it'


def nul_problem(text: str) -> str | None:
    """Why free text people type (an address, a note, a supplier) cannot be kept, or
    ``None``: PostgreSQL refuses NUL in text, so a statement carrying one ended in a database
    error (and SQLite kept it). Names have the stricter ``name_problem``."""
    return NUL_REFUSED if "\x00" in text else None


LIKE_ESCAPE = "\\"


SEARCH_MAX = 300
"""The longest name a table holds (a sales line's item name): a longer search matches none."""


def containing(text: str) -> str | None:
    """An ``ILIKE`` pattern (with ``escape=LIKE_ESCAPE``) for names containing ``text`` as
    typed: ``%`` and ``_`` are letters a person typed, not wildcards (a search for ``%`` is
    not a search for everything, and ``Item_1`` does not find ``ItemX1``). ``None`` for a
    text longer than any name: nothing contains it, and SQLite refused its pattern ("LIKE or
    GLOB pattern too complex", a traceback) from 50,000 bytes; and for one with a NUL, which
    no name holds (PostgreSQL refused the pattern: a traceback)."""
    if len(text.strip()) > SEARCH_MAX or nul_problem(text):
        return None
    escaped = (
        text.strip()
        .replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names ``name`` was probably meant to be, best first (typos, accents, case)."""
    by_fold: dict[str, str] = {}
    for candidate in known:
        by_fold.setdefault(fold(candidate), candidate)
    wanted = fold(name)
    found = difflib.get_close_matches(wanted, list(by_fold), n=n, cutoff=0.6)
    contained = [f for f in by_fold if wanted and wanted in f and f not in found]
    return [by_fold[f] for f in [*found, *contained][:n]]


def not_found(what: str, name: str, known: Iterable[str]) -> NotFound:
    """``no storage unit 'Kuche'; did you mean Küche?``, or what exists when nothing is close."""
    names = sorted(set(known))
    # A name that exists but is refused is the caller's to explain; never suggested to itself.
    suggestions = [s for s in closest(name, names) if s != name]
    if suggestions:
        return NotFound(f"no {what} {quoted(name)}; did you mean {' or '.join(suggestions)}?")
    listed = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
    return NotFound(f"no {what} {quoted(name)} (known: {listed or 'none'})")


def catalog_row_by_name(
    session: Session, model: type[Ingredient] | type[Recipe], company_id: int, name: str
) -> Any:
    """The company's ingredient or recipe called ``name`` (case and accents aside), or a
    ``NotFound`` naming the closest ones."""
    rows = list(session.scalars(select(model).where(model.company_id == company_id)))
    wanted = fold(name)
    for row in rows:
        if fold(row.name) == wanted:
            return row
    raise not_found(model.__tablename__, name, [row.name for row in rows])


def storage_unit_by_name(session: Session, company: Company | int, name: str) -> StorageUnit:
    """The company's storage unit called ``name`` (case aside; archived ones too, for their
    history), or a ``NotFound`` that names the closest units in use."""
    company_id = company if isinstance(company, int) else company.id
    wanted = name.strip()
    units = list(session.scalars(select(StorageUnit).where(StorageUnit.company_id == company_id)))
    for unit in units:
        if unit.name == wanted:
            return unit
    same = [unit for unit in units if unit.name.casefold() == wanted.casefold()]
    if len(same) == 1:
        return same[0]
    in_use = (unit.name for unit in units if unit.archived_at is None)
    raise not_found("storage unit", wanted, in_use)


def company_by_name(session: Session, name: str) -> Company:
    company = session.scalar(select(Company).where(Company.name == name))
    if company is None:
        known = ", ".join(session.scalars(select(Company.name).order_by(Company.name))) or "none"
        raise NotFound(
            f"no company '{name}' (known: {known}); `stockpot catalog import` creates one"
        )
    return company


def connection_by_label(session: Session, company: Company, label: str) -> Connection:
    """A connection named as ``provider:name`` (e.g. ``csv:Till export``)."""
    provider_text, _, name = label.partition(":")
    try:
        provider = Provider(provider_text.strip().lower())
    except ValueError:
        providers = ", ".join(p.value for p in Provider)
        raise ValidationFailed(
            f"connection '{label}' should read provider:name with provider one of {providers}"
        ) from None
    connections = list(
        session.scalars(select(Connection).where(Connection.company_id == company.id))
    )
    wanted = name.strip()
    same = [c for c in connections if c.provider == provider and c.name == wanted]
    if not same:  # `csv:kasse` for `csv:Kasse`: names are found case and accents aside
        same = [c for c in connections if c.provider == provider and fold(c.name) == fold(wanted)]
    if len(same) != 1:
        known = ", ".join(sorted(c.label for c in connections))
        raise NotFound(
            f"company '{company.name}' has no connection '{label}' (known: {known or 'none'})"
        )
    return same[0]


def location_names(session: Session, company_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ExternalLocation.name)
            .where(ExternalLocation.company_id == company_id)
            .order_by(ExternalLocation.name)
        )
    )


def location_by_name(session: Session, name: str, company: str | None = None) -> ExternalLocation:
    query = select(ExternalLocation).where(ExternalLocation.name == name)
    if company is not None:
        query = query.where(ExternalLocation.company_id == company_by_name(session, company).id)
    matches = session.scalars(query).all()
    if not matches:
        raise not_found("location", name, session.scalars(select(ExternalLocation.name)))
    if len(matches) > 1:
        owners = ", ".join(
            f"{session.get_one(Company, m.company_id).name} ({m.connection.label})" for m in matches
        )
        raise ValidationFailed(
            f"{len(matches)} locations are named '{name}': {owners}; add --company to choose"
        )
    return matches[0]
