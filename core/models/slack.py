"""Who may do what from Slack: workspaces linked to companies, bound channels, members."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stockpot.core.db import utcnow
from stockpot.core.models.base import Base, company_fk, created_at, enum_column


class Role(StrEnum):
    ADMIN = "admin"
    """Connects, maps, transfers, activates, pauses, manages members."""
    VIEWER = "viewer"
    """Reads reports and logs."""


class WorkspaceCompany(Base):
    """A Slack workspace linked to a company; the first link is the workspace's default."""

    __tablename__ = "workspace_company"
    __table_args__ = (UniqueConstraint("team_id", "company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    company_id: Mapped[int] = company_fk()
    created_at: Mapped[datetime] = created_at()


class ChannelBinding(Base):
    """A channel that speaks for one company (instead of the workspace's default)."""

    __tablename__ = "channel_binding"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    company_id: Mapped[int] = company_fk()
    created_at: Mapped[datetime] = created_at()


class Member(Base):
    """A Slack user's role in a company."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("company_id", "team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[Role] = enum_column(Role)
    created_at: Mapped[datetime] = created_at()


class SlackFileEvent(Base):
    """A file Slack told us about, once: Slack retries events, the first delivery wins."""

    __tablename__ = "slack_file_event"
    __table_args__ = (UniqueConstraint("team_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    file_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at()


class SlackDelivery(Base):
    """A request Slack delivered, once: a replayed request (the same signed bytes sent again
    within Slack's five minutes) or a retried event finds its key here and does nothing."""

    __tablename__ = "slack_delivery"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WorkspaceLinkCode(Base):
    """A one-time code an operator hands to a workspace to link it to an existing company
    (``stockpot slack link``). Only its hash is kept; it expires and is used once."""

    __tablename__ = "workspace_link_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = company_fk()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_team: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at()
