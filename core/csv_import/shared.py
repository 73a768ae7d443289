"""Files shared in a bound Slack channel: which company they are read for, and each file
answered once however often Slack delivers its event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.db import SessionFactory, insert_ignoring_conflicts, unit_of_work
from stockpot.core.models import ChannelBinding, SlackFileEvent


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
