"""Which workspace works for which company, and how that is decided.

A workspace works for one company. ``/pos setup <name>`` creates a new company for a workspace
that has none. An existing company is never handed to a workspace because someone there knows
its name: the operator runs ``stockpot slack link <company>``, which prints a short code that
is valid for ``LINK_CODE_TTL`` and once; ``/pos link <code>`` in the workspace links it. Only
the code's hash is stored. (With a single bot token there is one workspace, the operator's
own: there ``/pos setup`` of a company no workspace has yet still links it.)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stockpot.core.access import NotAllowed, company_for, link_workspace
from stockpot.core.db import utcnow
from stockpot.core.errors import NotFound, UnauthorizedCompanyAccess, ValidationFailed
from stockpot.core.lookup import name_problem
from stockpot.core.models import Company, WorkspaceCompany, WorkspaceLinkCode

LINK_CODE_TTL = timedelta(minutes=30)
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
"""No 0/O, 1/I/L or U: a code read aloud or retyped stays the same code."""
_LENGTH = 12


class AlreadyLinked(ValidationFailed):
    code = "workspace_already_linked"


@dataclass(frozen=True)
class LinkCode:
    code: str
    company: str
    expires_at: datetime


def _normalised(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def new_link_code(session: Session, company_name: str) -> LinkCode:
    """A fresh single-use code for linking a workspace to ``company_name``."""
    company = session.scalar(select(Company).where(Company.name == company_name))
    if company is None:
        raise NotFound(
            f"no company named '{company_name}'; `stockpot catalog import` creates one, or a "
            "workspace admin runs `/pos setup <name>` for a new one"
        )
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    code = "-".join(raw[i : i + 4] for i in range(0, _LENGTH, 4))
    expires = utcnow() + LINK_CODE_TTL
    session.add(WorkspaceLinkCode(company_id=company.id, code_hash=_hash(code), expires_at=expires))
    return LinkCode(code, company.name, expires)


def _refuse_if_linked(session: Session, team_id: str, wanted: str | None) -> None:
    linked = company_for(session, team_id, None)
    if linked is None:
        return
    if wanted is not None and linked.name == wanted:
        raise AlreadyLinked(f"this workspace already works for {linked.name}; nothing changed")
    raise AlreadyLinked(
        f"this workspace already works for {linked.name}, and a workspace works for one "
        "company; nothing changed"
    )


def redeem_link_code(session: Session, team_id: str, user_id: str, code: str) -> str:
    """Link the workspace to the code's company (the redeemer becomes an admin of it) and
    use the code up; returns the company's name. Unknown, used and expired codes are refused
    alike, so a guess learns nothing."""
    now = utcnow()
    row = session.scalar(
        select(WorkspaceLinkCode)
        .where(WorkspaceLinkCode.code_hash == _hash(code))
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotAllowed(
            "that link code is not valid (codes work once, for 30 minutes); ask the operator "
            "for a new one: `stockpot slack link <company>`"
        )
    _refuse_if_linked(session, team_id, None)
    used = session.execute(
        update(WorkspaceLinkCode)
        .where(WorkspaceLinkCode.id == row.id, WorkspaceLinkCode.used_at.is_(None))
        .values(used_at=now, used_by_team=team_id)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise NotAllowed("that link code was just used; ask the operator for a new one")
    company = session.get_one(Company, row.company_id)
    link_workspace(session, team_id, company, user_id)
    return company.name


def set_up_workspace(
    session: Session, team_id: str, user_id: str, name: str, *, may_link_existing: bool
) -> None:
    """Create the company ``name`` for a workspace that works for none yet; the requester is
    its first admin. An existing company is linked only when ``may_link_existing`` (a single
    workspace install) and no other workspace has it; otherwise it takes a link code."""
    problem = name_problem(name)
    if problem is not None:
        raise ValidationFailed(problem)
    _refuse_if_linked(session, team_id, name)
    company = session.scalar(select(Company).where(Company.name == name))
    if company is None:
        company = Company(name=name)
        session.add(company)
        session.flush()
    else:
        elsewhere = session.scalar(
            select(WorkspaceCompany.team_id).where(WorkspaceCompany.company_id == company.id)
        )
        if elsewhere is not None or not may_link_existing:
            raise UnauthorizedCompanyAccess(
                f"a company named {name} already exists; to link this workspace to it, ask the "
                f'operator to run `stockpot slack link "{name}"` and then run '
                "`/pos link <code>` here with the code it prints"
            )
    link_workspace(session, team_id, company, user_id)
