"""Files shared in a bound Slack channel: which company they are read for, whose they are
(``check_reader``), and each file answered once however often Slack delivers its event."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.db import SessionFactory, insert_ignoring_conflicts, unit_of_work
from stockpot.core.errors import UnauthorizedCompanyAccess
from stockpot.core.models import ChannelBinding, Company, SlackFileEvent

log = logging.getLogger(__name__)


def bound_company(session: Session, team_id: str, channel_id: str) -> int | None:
    """The company a channel is bound to (`/pos bind`), if any: only such channels' files
    are read."""
    return session.scalar(
        select(ChannelBinding.company_id).where(
            ChannelBinding.team_id == team_id, ChannelBinding.channel_id == channel_id
        )
    )


def first_share(factory: SessionFactory, team_id: str, file_id: str, channel_id: str) -> bool:
    """Record the file; ``False`` when Slack already delivered it (a retry). The unique key
    decides, so two deliveries racing each other cannot both win."""
    with unit_of_work(factory) as session:
        inserted = insert_ignoring_conflicts(
            session,
            SlackFileEvent.__table__,
            [{"team_id": team_id, "file_id": file_id, "channel_id": channel_id}],
            index_elements=["team_id", "file_id"],
        )
    return inserted == 1


@dataclass(frozen=True)
class FileReader:
    """Whom a Slack file is read for: the person who pressed or submitted (``None``: nobody
    in particular), in the company their request speaks for."""

    team_id: str
    user_id: str | None
    company_id: int


def shared_in(info: Mapping[str, Any]) -> set[str]:
    """The channels ``files.info`` says a file is shared in (public and private)."""
    shares = info.get("shares") or {}
    found = {str(c) for key in ("channels", "groups") for c in info.get(key) or []}
    for kind in ("public", "private"):
        found |= {str(c) for c in shares.get(kind) or {}}
    return found


def check_reader(factory: SessionFactory, info: Mapping[str, Any], reader: FileReader) -> None:
    """The one rule for a Slack file whose id came back from a client (a button's value, a
    modal's file input), checked before a byte of it is read: it was shared in a channel
    bound to the reader's company (Slack's ``files.info`` says where it is shared now), or
    the reader uploaded it (a modal's file input shares it nowhere). Anything else is
    another company's file, or nobody's here: refused, and logged in one line.

    ``slack_file_event`` does not decide it: it keeps the first bound channel a file was
    shared in, not every one, and nothing of a file uploaded through a modal."""
    if reader.user_id and info.get("user") == reader.user_id:
        return
    channels = shared_in(info)
    with factory() as session:
        if channels and session.scalar(
            select(ChannelBinding.id)
            .where(
                ChannelBinding.team_id == reader.team_id,
                ChannelBinding.company_id == reader.company_id,
                ChannelBinding.channel_id.in_(sorted(channels)),
            )
            .limit(1)
        ):
            return
        company = session.get_one(Company, reader.company_id).name
    log.warning(
        "Slack file %s refused to user %s of company %s (team %s): it is shared in %s, "
        "uploaded by %s",
        info.get("id"),
        reader.user_id,
        reader.company_id,
        reader.team_id,
        ", ".join(sorted(channels)) or "no channel",
        info.get("user"),
    )
    raise UnauthorizedCompanyAccess(
        f"that file was not shared in a channel of {company}, nor uploaded by you; nothing "
        f"was posted and none of it was read. Share it in a channel bound to {company} "
        "(`/pos bind`) and use the preview it gets there"
    )
