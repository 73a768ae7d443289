"""What one request may read and change: the rows of the company it speaks for, nothing else.

Slack handlers and the CLI open a ``CompanyScope`` for the company a request is for and ask it
for rows: by id (ids in payloads are input, so a row of another company is refused exactly as a
row that does not exist: the reply never tells which) or by the name a person typed (with the
closest names offered when nothing matches). The rules that were repeated at every call site
live here once: ownership, did-you-mean, "one connection per provider", who did it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from stockpot.core.access import Actor
from stockpot.core.db import SessionFactory, unit_of_work
from stockpot.core.errors import IntegrationExists, UnauthorizedCompanyAccess, ValidationFailed
from stockpot.core.lookup import not_found, storage_unit_by_name
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    Member,
    Provider,
    StorageUnit,
    TransferDay,
)
from stockpot.core.storage import unit_choices

Owned = TypeVar("Owned")


class CompanyScope:
    """The rows of ``actor``'s company, read through ``session``."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    @property
    def company_id(self) -> int:
        return self.actor.company_id

    def company(self) -> Company:
        return self.session.get_one(Company, self.actor.company_id)

    def find(self, kind: type[Owned], row_id: int | None, *options: Any) -> Owned | None:
        """The ``kind`` row ``row_id`` if it is this company's, else ``None`` (missing and
        another company's are the same answer)."""
        row = None if row_id is None else self.session.get(kind, row_id, options=options or None)
        if row is None or getattr(row, "company_id", None) != self.actor.company_id:
            return None
        return row

    def get(self, kind: type[Owned], row_id: int | None, *options: Any) -> Owned:
        """The ``kind`` row ``row_id`` if it is this company's; one refusal otherwise, the
        same whether the row is missing or another company's."""
        row = self.find(kind, row_id, *options)
        if row is None:
            raise UnauthorizedCompanyAccess(
                f"that does not belong to {self.actor.company}; nothing was changed"
            )
        return row

    def location(self, location_id: int | None) -> ExternalLocation:
        """A location by id, with its connection loaded (callers read its provider)."""
        return self.get(ExternalLocation, location_id, selectinload(ExternalLocation.connection))

    def locations(
        self, name: str = "", *, pos_only: bool = False, active_only: bool = False
    ) -> list[ExternalLocation]:
        """The locations called ``name`` ("" or ``all``: every one), by name, with their
        connections. An unknown name is refused with the closest names."""
        query = (
            select(ExternalLocation)
            .where(ExternalLocation.company_id == self.actor.company_id)
            .options(selectinload(ExternalLocation.connection))
            .order_by(ExternalLocation.name)
        )
        every = list(self.session.scalars(query))
        named = bool(name) and name != "all"

        def eligible(location: ExternalLocation) -> bool:
            return (not active_only or location.active) and (
                not pos_only or not location.connection.provider.from_files
            )

        found = [
            location
            for location in every
            if (not named or location.name == name) and eligible(location)
        ]
        if named and not found:
            for location in every:
                if location.name == name:
                    raise _refused(location, pos_only=pos_only)
            what = "location with a POS" if pos_only else "location"
            raise not_found(
                f"{what} in {self.actor.company}",
                name,
                [location.name for location in every if eligible(location)],
            )
        return found

    def storage_unit(self, name: str) -> StorageUnit:
        """A storage unit by the name typed; an unknown one is refused with the closest."""
        return storage_unit_by_name(self.session, self.actor.company_id, name)

    def connection(self, provider: Provider) -> Connection | None:
        """The company's connection to ``provider``: Lightspeed and SIDES have at most one."""
        return provider_connection(self.session, self.actor.company_id, provider)

    def csv_profile(self, name: str) -> Connection | None:
        """The company's CSV connection (profile) called ``name``, if any."""
        return self.session.scalar(
            select(Connection).where(
                Connection.company_id == self.actor.company_id,
                Connection.provider == Provider.CSV,
                Connection.name == name,
            )
        )

    def storage_unit_names(self) -> list[str]:
        """The storage units a person may choose (archived ones are no choice), by name."""
        return unit_choices(self.session, self.actor.company_id)

    def connections(self) -> list[Connection]:
        """Every connection of the company (POS and CSV), oldest first."""
        return list(
            self.session.scalars(
                select(Connection)
                .where(Connection.company_id == self.actor.company_id)
                .order_by(Connection.id)
            )
        )

    def pos_connections(self) -> list[Connection]:
        """The company's POS connections (not its CSV profiles), oldest first."""
        return list(
            self.session.scalars(
                select(Connection)
                .where(
                    Connection.company_id == self.actor.company_id,
                    Connection.provider.in_(Provider.askable()),
                )
                .order_by(Connection.id)
            )
        )

    def members(self) -> list[Member]:
        """The company's members in this workspace."""
        return list(
            self.session.scalars(
                select(Member).where(
                    Member.company_id == self.actor.company_id,
                    Member.team_id == self.actor.team_id,
                )
            )
        )

    def transferred_days(self, location: ExternalLocation, first: date, last: date) -> set[date]:
        """The days from ``first`` to ``last`` that ``location`` has a live run for."""
        return set(
            self.session.scalars(
                select(TransferDay.business_date).where(
                    TransferDay.location_id == location.id,
                    TransferDay.business_date.between(first, last),
                    TransferDay.live_run_id.is_not(None),
                )
            )
        )


def provider_connection(session: Session, company_id: int, provider: Provider) -> Connection | None:
    """The company's connection to ``provider``: Lightspeed and SIDES have at most one."""
    return session.scalar(
        select(Connection)
        .where(Connection.company_id == company_id, Connection.provider == provider)
        .order_by(Connection.id)
        .limit(1)
    )


def refuse_second_connection(session: Session, company_id: int, provider: Provider) -> None:
    """One Lightspeed and one SIDES connection per company: a second is the product's
    ``<provider>_integration_exists`` error (the existing one is reauthorized or updated)."""
    if provider_connection(session, company_id, provider) is not None:
        raise IntegrationExists(provider.value, session.get_one(Company, company_id).name)


@contextmanager
def reading(factory: SessionFactory, actor: Actor) -> Iterator[CompanyScope]:
    """A scope to read through; nothing it does is written."""
    with factory() as session:
        yield CompanyScope(session, actor)


@contextmanager
def changing(factory: SessionFactory, actor: Actor) -> Iterator[CompanyScope]:
    """A scope whose changes are committed together when the block ends without an error."""
    with unit_of_work(factory) as session:
        yield CompanyScope(session, actor)


def _refused(location: ExternalLocation, *, pos_only: bool) -> ValidationFailed:
    """Why a location named exactly is not one the command works on, and what to do
    instead (never "did you mean" the very name typed)."""
    if pos_only and location.connection.provider.from_files:
        return ValidationFailed(
            f"{location.name} gets its sales from the CSV files of {location.connection.name}, "
            "not from a POS Stockpot can ask for a day: share the day's export in a bound "
            "channel (or `/pos csv`) and press Import, or run `stockpot csv import FILE "
            f"--connection {location.connection.name}`"
        )
    return ValidationFailed(f"{location.name} is not active: activate it in `/pos locations` first")
