"""Tenancy and roles for Slack users: which company a request speaks for, and whether the
user may change things there.

A workspace is linked to one or more companies; a channel may be bound to one of them, else
the workspace's first company applies. Every object a request names by id must belong to that
company, whatever the request says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from stockpot.core.errors import StockpotError, UnauthorizedCompanyAccess
from stockpot.core.models import ChannelBinding, Company, Member, Role, WorkspaceCompany


class WorkspaceNotLinked(StockpotError):
    code = "workspace_not_linked"


class NotAllowed(StockpotError):
    code = "not_allowed"


def slack_who(user_id: str) -> str:
    """Who did it, as runs, jobs, postings and connections record a Slack user."""
    return f"{SLACK_WHO}{user_id}"


def slack_user(who: str | None) -> str | None:
    """The Slack user ``slack_who`` recorded in ``who``, or ``None`` for anyone else (``cli``,
    ``scheduler``)."""
    if who is None or not who.startswith(SLACK_WHO):
        return None
    return who.removeprefix(SLACK_WHO) or None


SLACK_WHO = "slack:"


class NotAMember(NotAllowed):
    code = "not_a_member"


@dataclass(frozen=True)
class Actor:
    """The person behind a Slack request, in the company it speaks for."""

    team_id: str
    user_id: str
    company_id: int
    company: str
    role: Role | None

    @property
    def audit(self) -> str:
        """Who did it, as runs, jobs, postings and connections record it: ``slack:<user>``
        (the CLI records ``cli``, the scheduler ``schedule``)."""
        return slack_who(self.user_id)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowed(
                f"you need to be an admin of {self.company} to do this; an admin can add you "
                "with `/pos members add @you admin`"
            )

    def owns(self, row: Any) -> Any:
        """``row`` if it belongs to this company, else a refusal (ids in payloads are input)."""
        if row is None or getattr(row, "company_id", None) != self.company_id:
            raise UnauthorizedCompanyAccess(
                f"that does not belong to {self.company}; nothing was changed"
            )
        return row


def company_id_for(
    team_id: str | ColumnElement[str], channel_id: str | ColumnElement[str] | None
) -> ColumnElement[Any]:
    """The rule, as one SQL expression: the company a channel is bound to, else the
    workspace's first linked company (``NULL``: none). ``company_for`` reads it; an answer
    job's insert embeds it with both ids as bound parameters or columns
    (``core.jobs.queue``'s ``enqueue_answers``; a channel that is ``NULL`` binds nothing),
    so queueing an answer needs no lookup first."""
    linked = (
        select(WorkspaceCompany.company_id)
        .where(WorkspaceCompany.team_id == team_id)
        .order_by(WorkspaceCompany.id)
        .limit(1)
        .scalar_subquery()
    )
    if channel_id is None or (isinstance(channel_id, str) and not channel_id):
        return linked
    bound = (
        select(ChannelBinding.company_id)
        .where(ChannelBinding.team_id == team_id, ChannelBinding.channel_id == channel_id)
        .scalar_subquery()
    )
    return func.coalesce(bound, linked)


def company_for(session: Session, team_id: str, channel_id: str | None) -> Company | None:
    return session.scalar(select(Company).where(Company.id == company_id_for(team_id, channel_id)))


def actor_for(
    session: Session,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    *,
    members_only: bool = True,
    company_id: int | None = None,
) -> Actor:
    """The requester in the company this workspace or channel works for, or in
    ``company_id`` (a button made for that company: in a direct message no channel says
    which of the workspace's companies it speaks for), which must be one this workspace is
    linked to. Only the company's members see its data: anyone else is refused
    (``NotAMember``, naming whom to ask) unless ``members_only`` is off (a command that
    shows nothing of the company, like setting up)."""
    if company_id is not None:
        company = session.scalar(
            select(Company).where(
                Company.id == company_id,
                Company.id.in_(
                    select(WorkspaceCompany.company_id).where(WorkspaceCompany.team_id == team_id)
                ),
            )
        )
        if company is None:
            raise UnauthorizedCompanyAccess(
                "that button was made for a company this Slack workspace is not linked to; "
                "nothing was done (use it in the workspace it was sent to)"
            )
    else:
        company = company_for(session, team_id, channel_id)
    if company is None:
        raise WorkspaceNotLinked(
            "this workspace is not linked to a company yet: a workspace admin runs "
            "`/pos setup <company name>` for a new company, or `/pos link <code>` with the code "
            "the operator prints with `stockpot slack link <company>` for an existing one"
        )
    role = session.scalar(
        select(Member.role).where(
            Member.company_id == company.id, Member.team_id == team_id, Member.user_id == user_id
        )
    )
    if role is None and members_only:
        admins = _admins(session, company, team_id)
        raise NotAMember(
            f"you are not a member of {company.name}, so its data is not shown to you; ask "
            f"{'one of its admins' if admins else 'an admin of it'} to add you with "
            "`/pos members add @you viewer`",
            mention=admins,
        )
    return Actor(team_id, user_id, company.id, company.name, role)


def _admins(session: Session, company: Company, team_id: str) -> tuple[str, ...]:
    """Whom a workspace user asks to become a member: the company's admins there."""
    return tuple(
        session.scalars(
            select(Member.user_id)
            .where(
                Member.company_id == company.id,
                Member.team_id == team_id,
                Member.role == Role.ADMIN,
            )
            .order_by(Member.id)
            .limit(5)
        )
    )


def company_admins(session: Session, company_id: int) -> list[tuple[str, str]]:
    """The company's admins, ``(team_id, user_id)`` each, first made first: whom a notice
    goes to when the company has no channel for it."""
    rows = session.execute(
        select(Member.team_id, Member.user_id)
        .where(Member.company_id == company_id, Member.role == Role.ADMIN)
        .order_by(Member.id)
    )
    return [(team_id, user_id) for team_id, user_id in rows]


def link_workspace(session: Session, team_id: str, company: Company, admin_user_id: str) -> None:
    """Link a workspace to a company; the person who links it becomes its first admin."""
    exists = session.scalar(
        select(WorkspaceCompany).where(
            WorkspaceCompany.team_id == team_id, WorkspaceCompany.company_id == company.id
        )
    )
    if exists is None:
        session.add(WorkspaceCompany(team_id=team_id, company_id=company.id))
    set_role(session, company.id, team_id, admin_user_id, Role.ADMIN)


def bind_channel(session: Session, team_id: str, channel_id: str, company_id: int) -> None:
    binding = session.scalar(
        select(ChannelBinding).where(
            ChannelBinding.team_id == team_id, ChannelBinding.channel_id == channel_id
        )
    )
    if binding is None:
        session.add(ChannelBinding(team_id=team_id, channel_id=channel_id, company_id=company_id))
    else:
        binding.company_id = company_id


def set_role(
    session: Session, company_id: int, team_id: str, user_id: str, role: Role | None
) -> None:
    """Give ``user_id`` a role in the company, or remove them with ``None``."""
    member = session.scalar(
        select(Member).where(
            Member.company_id == company_id, Member.team_id == team_id, Member.user_id == user_id
        )
    )
    if role is None:
        if member is not None:
            session.delete(member)
        return
    if member is None:
        session.add(Member(company_id=company_id, team_id=team_id, user_id=user_id, role=role))
    else:
        member.role = role
