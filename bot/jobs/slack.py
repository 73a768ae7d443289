"""Where a job's messages go, and the Slack client that may post there.

A job asked for from Slack reports to the channel it was asked from; scheduled work (automatic
transfers, reports) reports to the company's report channel. In multi-workspace mode the
client is the workspace's own bot, read from the encrypted installation store.

Posting never fails a job: the ledger is already right when a message cannot be delivered,
so a Slack outage is logged (the client itself retries 429s and dropped connections).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.errors import GONE
from stockpot.bot.observed import metered
from stockpot.core.jobs.specs import Notify
from stockpot.core.jobs.worker import JobContext
from stockpot.core.models import Company

log = logging.getLogger(__name__)


class Edit(Enum):
    """How a ``chat.update`` went."""

    DONE = "done"
    GONE = "gone"
    """Slack has no such message of the app's to replace (someone deleted it)."""
    FAILED = "failed"
    """Slack could not be reached or refused for another reason (logged)."""


def _digest(message: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(message, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Target:
    team_id: str
    channel_id: str
    user_id: str | None = None
    message_ts: str | None = None
    """The message the result replaces, if any (``Notify.message_ts``)."""

    @classmethod
    def of(cls, notify: Notify) -> Target:
        return cls(notify.team_id, notify.channel_id, notify.user_id, notify.message_ts)


class Notifier:
    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        client: WebClient | None = None,
        installations: Any = None,
    ) -> None:
        self._factory = factory
        self._client = client
        self._installations = installations

    def client(self, team_id: str) -> WebClient | None:
        if self._installations is not None:
            bot = self._installations.find_bot(enterprise_id=None, team_id=team_id)
            if bot is None:
                return None
            base = self._client
            return metered(
                WebClient(
                    token=bot.bot_token,
                    base_url=base.base_url if base else WebClient.BASE_URL,
                    retry_handlers=base.retry_handlers if base else None,
                )
            )
        return self._client

    def target(self, company_id: int, notify: Notify | None) -> Target | None:
        """``notify`` when the work was asked for there, else the company's report channel."""
        if notify is not None:
            return Target.of(notify)
        with self._factory() as session:
            company = session.get_one(Company, company_id)
            if company.report_channel_id and company.report_team_id:
                return Target(company.report_team_id, company.report_channel_id)
        return None

    def post(self, target: Target | None, message: dict[str, Any]) -> str | None:
        """Post and return the message's ``ts``, or ``None`` when it could not be delivered."""
        client = self.client(target.team_id) if target else None
        if target is None or client is None:
            log.info("no Slack channel to tell: %s", message.get("text"))
            return None
        try:
            return str(client.chat_postMessage(channel=target.channel_id, **message)["ts"])
        except (SlackApiError, SlackClientError, OSError):
            log.warning("could not post to Slack channel %s", target.channel_id, exc_info=True)
            return None

    def post_once(
        self, context: JobContext, key: str, target: Target | None, message: dict[str, Any]
    ) -> str | None:
        """Deliver a job's message once across the job's attempts.

        The message goes where the job was asked to report (``Target.message_ts``: the
        message whose button started it, which the result replaces) or, with no such message,
        is posted; its ``ts`` is kept in the job under ``key`` and a retry updates that same
        message. A retry that has the very message already delivered (a worker that died
        after telling Slack) sends nothing. A message that is gone (deleted in Slack) is
        posted anew rather than lost. (Slack takes no idempotency key: a worker that dies
        between Slack's answer and saving the ``ts`` still leaves the message to be posted
        again.)"""
        digest = _digest(message)
        sent = f"{key}_sent"
        ts = context.result.get(key) or (target.message_ts if target is not None else None)
        if ts and target is not None:
            if context.result.get(key) == ts and context.result.get(sent) == digest:
                return str(ts)
            edit = self.update(target, str(ts), message)
            if edit is not Edit.GONE:
                context.save(**{key: ts, sent: digest if edit is Edit.DONE else None})
                return str(ts)
        ts = self.post(target, message)
        if ts:
            context.save(**{key: ts, sent: digest})
        return ts

    def update(self, target: Target, ts: str, message: dict[str, Any]) -> Edit:
        """Replace the message ``ts`` with ``message``."""
        client = self.client(target.team_id)
        if client is None:
            return Edit.FAILED
        # chat.update edits a message where it is; a thread is not one of its arguments.
        edit = {k: v for k, v in message.items() if k != "thread_ts"}
        try:
            client.chat_update(channel=target.channel_id, ts=ts, **edit)
        except SlackApiError as error:
            log.warning("could not update Slack message %s: %s", ts, error.response.get("error"))
            return Edit.GONE if error.response.get("error") in GONE else Edit.FAILED
        except (SlackClientError, OSError):
            log.warning("could not update Slack message %s", ts, exc_info=True)
            return Edit.FAILED
        return Edit.DONE

    def upload_once(
        self,
        context: JobContext,
        target: Target,
        *,
        filename: str,
        content: bytes | None,
        title: str,
    ) -> None:
        """Upload a job's file at most once across its retries (recorded in the job's result)."""
        if content is None or "chart_uploaded" in context.result:
            return
        self.upload(target, filename=filename, content=content, title=title)
        context.save(chart_uploaded=True)

    def upload(self, target: Target, *, filename: str, content: bytes, title: str) -> None:
        client = self.client(target.team_id)
        if client is None:
            return
        try:
            client.files_upload_v2(
                channel=target.channel_id, filename=filename, content=content, title=title
            )
        except (SlackApiError, SlackClientError, OSError):
            log.warning("could not upload %s to Slack", filename, exc_info=True)
