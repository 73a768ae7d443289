"""POS connections, their locations and items, and how items map to inventory."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stockpot.core.models.base import Base, company_fk, created_at, enum_column


class Provider(StrEnum):
    LIGHTSPEED = "lightspeed"
    SIDES = "sides"
    CSV = "csv"

    @property
    def title(self) -> str:
        """The POS kind as people write it: ``Lightspeed``, ``SIDES``, ``CSV``."""
        return {"lightspeed": "Lightspeed", "sides": "SIDES", "csv": "CSV"}[self.value]

    @property
    def single_per_company(self) -> bool:
        """Lightspeed and SIDES allow one connection per company; CSV any number of profiles."""
        return self is not Provider.CSV

    @property
    def from_files(self) -> bool:
        """Its sales come from uploaded CSV files: there is no POS to ask for a day (no sync,
        schedule, fetch or migration); a day is transferred when its file is imported."""
        return self is Provider.CSV

    @classmethod
    def askable(cls) -> tuple[Provider, ...]:
        """The providers with a POS to ask (not ``from_files``), for queries."""
        return tuple(provider for provider in cls if not provider.from_files)


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    ERROR = "error"


class AutomaticTransfer(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class PosItemKind(StrEnum):
    ITEM = "item"
    MODIFIER = "modifier"
    MENU = "menu"
    TOPPING = "topping"


class Connection(Base):
    """A company's link to one POS account or CSV profile."""

    __tablename__ = "connection"
    __table_args__ = (UniqueConstraint("company_id", "provider", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    provider: Mapped[Provider] = enum_column(Provider)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[ConnectionStatus] = enum_column(
        ConnectionStatus, default=ConnectionStatus.CONNECTED
    )
    credentials: Mapped[str | None] = mapped_column(
        Text, doc="Fernet token of the JSON credentials; never plain text"
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = created_at()

    locations: Mapped[list[ExternalLocation]] = relationship(
        back_populates="connection", order_by="ExternalLocation.name"
    )

    @property
    def label(self) -> str:
        """The key operators type and files hold: ``provider:name`` (``csv:Till export``,
        ``stockpot pos sync --connection sides:SIDES``). Slack shows ``shown`` instead."""
        return f"{self.provider.value}:{self.name}"

    @property
    def shown(self) -> str:
        """The connection as its users know it, in every message: its name, with the POS kind
        after it unless the name says it already (``SIDES``, ``Lightspeed``, ``Kasse (CSV)``)."""
        kind = self.provider.title
        return self.name if kind.casefold() in self.name.casefold() else f"{self.name} ({kind})"


class ExternalLocation(Base):
    """A Lightspeed business location, SIDES store or CSV profile location."""

    __tablename__ = "external_location"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    business_day_start: Mapped[time] = mapped_column(default=time(0, 0))
    storage_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("storage_unit.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(default=False)
    automatic_transfer: Mapped[AutomaticTransfer] = enum_column(
        AutomaticTransfer, default=AutomaticTransfer.ACTIVE
    )
    transfer_time: Mapped[time] = mapped_column(
        default=time(6, 0), doc="local time after a business day closes when it is transferred"
    )
    automatic_since: Mapped[date | None] = mapped_column(
        doc="the first business date automatic transfers cover (set on activation and resume)"
    )
    activated_since: Mapped[date | None] = mapped_column(
        doc="the first business date its activation covers (set on activation, kept by pause "
        "and resume): the first day whose sales are expected (core.stock.pending)"
    )
    paused_at: Mapped[datetime | None]
    queued_through: Mapped[date | None] = mapped_column(
        doc="the last business date the scheduler has seen due and dealt with: queued, or "
        "offered for catching up when it was down longer than it queues on its own"
    )
    created_at: Mapped[datetime] = created_at()

    connection: Mapped[Connection] = relationship(back_populates="locations")


class PosItem(Base):
    """Something the POS sells, identified by ``key``: its id or code, else its normalised name."""

    __tablename__ = "pos_item"
    __table_args__ = (UniqueConstraint("connection_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PosItemKind] = enum_column(PosItemKind, default=PosItemKind.ITEM)
    first_seen_in_sales_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()

    mapping: Mapped[PosMapping | None] = relationship(back_populates="pos_item")


class PosMapping(Base):
    """What selling one ``pos_item`` takes from stock: an ingredient, a recipe, or nothing.

    ``factor`` is base units of the ingredient, or portions of the recipe, per item sold.
    """

    __tablename__ = "pos_mapping"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN ingredient_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN recipe_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN ignored THEN 1 ELSE 0 END) = 1",
            name="one_target",
        ),
        CheckConstraint("ignored OR factor > 0", name="factor_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    pos_item_id: Mapped[int] = mapped_column(
        ForeignKey("pos_item.id", ondelete="CASCADE"), unique=True
    )
    ingredient_id: Mapped[int | None] = mapped_column(
        ForeignKey("ingredient.id", ondelete="RESTRICT"), index=True
    )
    recipe_id: Mapped[int | None] = mapped_column(
        ForeignKey("recipe.id", ondelete="RESTRICT"), index=True
    )
    factor: Mapped[Decimal | None]
    ignored: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = created_at()
    updated_by: Mapped[str | None] = mapped_column(String(200))

    pos_item: Mapped[PosItem] = relationship(back_populates="mapping")


class OAuthState(Base):
    """A pending OAuth authorization: the ``state`` handed to the POS is this row's nonce,
    signed. It is bound to a company and the user who started it, expires, and is used once.
    Started from Slack, it is also bound to the browser that opened its start link (which
    hands out the state): that browser holds a cookie whose hash is ``browser_hash``."""

    __tablename__ = "oauth_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[Provider] = enum_column(Provider)
    company_id: Mapped[int] = company_fk()
    started_by: Mapped[str] = mapped_column(String(200))
    connection_name: Mapped[str] = mapped_column(String(200))
    reauthorize: Mapped[bool] = mapped_column(default=False)
    notify_channel: Mapped[str | None] = mapped_column(
        String(32), doc="the Slack channel to tell how the authorization ended"
    )
    notify_user: Mapped[str | None] = mapped_column(String(32))
    notify_team: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None] = mapped_column(
        doc="when a browser opened the start link (it opens once)"
    )
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
