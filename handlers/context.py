"""What every listener works with: the services, and who is asking for which company."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.work import WorkQueue
from core.access import Actor, actor_for
from core.settings import Settings

SERVICES = "stockpot"


@dataclass(frozen=True)
class Services:
    factory: sessionmaker[Session]
    settings: Settings
    work: WorkQueue
    installations: Any = None
    """The installation store in multi-workspace mode (``None`` with a single bot token)."""


def services(context: BoltContext) -> Services:
    return context[SERVICES]


def actor(context: BoltContext, channel_id: str | None = None) -> Actor:
    """The requester in the company this workspace (or channel) speaks for."""
    with services(context).factory() as session:
        return actor_for(session, context.team_id or "", context.user_id or "", channel_id)


def post(client: WebClient, channel: str, message: dict[str, Any]) -> None:
    client.chat_postMessage(channel=channel, **message)
