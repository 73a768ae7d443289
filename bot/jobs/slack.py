"""Where a job's messages go, and the Slack client that may post there.

A job asked for from Slack reports to the channel it was asked from; scheduled work (automatic
transfers, reports) reports to the company's report channel. In multi-workspace mode the
client is the workspace's own bot, read from the encrypted installation store.

Posting never fails a job: the ledger is already right when a message cannot be delivered,
so a Slack outage is logged (the client itself retries 429s, 500s, 503s and dropped
connections). Slack not taking a job's message for longer (``failure``: whether the reason
may pass) is owed, not lost: in telling a failure or cancellation (``JobContext.telling``) it
raises ``Undelivered`` and the worker keeps the telling owed; in a run it is noted
(``JobContext.owe``) and said again after the job is recorded done (``Reporting.resay``).
Slack refusing for good is logged once.

Exactly once across a worker killed at any point: Slack takes no idempotency key, so every
message a job posts carries its key in the message's ``metadata`` (``event_type``
``stockpot_job_message``), and the job records that it is about to post before it posts. An
attempt that finds that record without the message's ``ts`` (the worker died between Slack's
answer and saving it) looks for the message in the channel (``conversations.history``, or
``conversations.replies`` in a thread, with ``include_all_metadata``) before posting again.
A file is found the same way through ``files.list`` (name, title, channel, uploaded since the
job was queued, and none of those the first attempt saw there before uploading); both look
from ``LOOKBACK`` before that (``looked_back``). A lookup Slack refuses (a scope the install
lacks, a channel the bot left) falls back to posting: at least once, never lost.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.blocks.common import context as context_block
from stockpot.bot.errors import GONE
from stockpot.bot.missing_scope import lacking
from stockpot.bot.observed import metered
from stockpot.core.jobs.effects import job_key
from stockpot.core.jobs.specs import Notify
from stockpot.core.jobs.telling import Telling, Undelivered
from stockpot.core.jobs.worker import JobContext, JobHandler, LeaseLost
from stockpot.core.models import Company

log = logging.getLogger(__name__)


class Edit(Enum):
    """How a ``chat.update`` went."""

    DONE = "done"
    GONE = "gone"
    """Slack has no such message of the app's to replace (someone deleted it)."""
    FAILED = "failed"
    """Slack could not be reached or refused for another reason (logged)."""


PASSING = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "service_unavailable",
        "internal_error",
        "fatal_error",
        "request_timeout",
    }
)
"""Errors in Slack's answer that may pass (each method's page on docs.slack.dev: over a rate
limit, an incident of Slack's own, a request cut short); any other (``channel_not_found``,
``not_in_channel``, ``is_archived``, ``is_inactive``, ``account_inactive``,
``token_revoked``, ``invalid_auth``, ``missing_scope``…) is Slack's last word on that call."""

CALL_ERRORS = (SlackApiError, SlackClientError, OSError, http.client.HTTPException)
"""What a Web API call raises when Slack did not carry it out: Slack's refusal, the client's
own error, or the connection (refused, dropped, cut short: after slack_sdk's retries)."""


def failure(error: BaseException) -> Undelivered:
    """``error`` of a Web API call (one of ``CALL_ERRORS``) as an ``Undelivered``: a few
    words (Slack's error code, or the kind of connection failure; never a token) and whether
    trying later may help: the connection, HTTP 429 or 5xx, or one of ``PASSING``."""
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        status = error.response.status_code
        may_pass = status == 429 or status >= 500 or code in PASSING
        said = f"Slack answered {code or f'HTTP {status}'}"
        fix = lacking(error)
        return Undelivered(f"{said}: {fix}" if fix else said, may_pass=may_pass)
    if isinstance(error, OSError | http.client.HTTPException):
        return Undelivered(f"Slack could not be reached ({type(error).__name__})", may_pass=True)
    return Undelivered(f"the Slack client refused ({type(error).__name__})", may_pass=False)


JOB_MESSAGE = "stockpot_job_message"
"""The ``event_type`` of the metadata every job message carries (its key in the payload)."""
LOOKUP_PAGES = 5
"""How many pages (of 200) of a channel's history a retry reads looking for its message."""


def stamped(message: dict[str, Any], key: str) -> dict[str, Any]:
    """``message`` carrying ``key`` in its metadata, for a retry to find it by."""
    return {**message, "metadata": {"event_type": JOB_MESSAGE, "event_payload": {"key": key}}}


def stamp_of(message: dict[str, Any]) -> str | None:
    """The key a message of ours carries, if any."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != JOB_MESSAGE:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key else None


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


LOOKBACK = timedelta(minutes=5)
"""How long before the job was queued a retry's look for its message or file starts (a
message's key is unique and a file's name and title are the job's, so reading further back
only costs a page; it absorbs a clock apart from Slack's)."""


def looked_back(since: datetime) -> datetime:
    """Where a retry's look for what a job posted since ``since`` starts: the one rule for
    messages (``find_message``) and files (``find_file``)."""
    return since - LOOKBACK


def find_message(
    client: WebClient,
    channel: str,
    stamp: str,
    since: datetime,
    thread_ts: str | None = None,
    *,
    owed: bool = False,
) -> str | None:
    """The ``ts`` of the message carrying ``stamp`` posted in ``channel`` (in the thread
    ``thread_ts``) since about ``since``, or ``None``: none, or Slack would not say (logged).
    ``owed``: Slack away for a reason that may pass raises ``Undelivered`` instead (a telling
    tried later looks again, rather than posting what may be there already)."""
    try:
        for shown in _history(client, channel, looked_back(since), thread_ts):
            if stamp_of(shown) == stamp:
                return str(shown["ts"])
    except CALL_ERRORS as error:
        failed = failure(error)
        if owed and failed.may_pass:
            raise failed from error
        log.warning(
            "could not look for message %s in %s (%s): it may be posted twice",
            stamp,
            channel,
            failed,
        )
    return None


def _history(
    client: WebClient, channel: str, since: datetime, thread_ts: str | None
) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    for _ in range(LOOKUP_PAGES):
        args: dict[str, Any] = {
            "channel": channel,
            "oldest": _slack_ts(since),
            "inclusive": True,
            "include_all_metadata": True,
            "limit": 200,
        }
        if cursor:
            args["cursor"] = cursor
        page = (
            client.conversations_replies(ts=thread_ts, **args)
            if thread_ts
            else client.conversations_history(**args)
        )
        yield from page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def files_named(
    client: WebClient, channel: str, filename: str, title: str, since: datetime
) -> set[str] | None:
    """The ids of the files named ``filename`` titled ``title`` shared in ``channel`` since
    about ``since`` (``looked_back``), or ``None`` when Slack would not say (logged)."""
    oldest = int(looked_back(since).timestamp())  # files.list takes whole seconds
    try:
        listed = client.files_list(channel=channel, ts_from=str(oldest), count=100)
    except CALL_ERRORS as error:
        log.warning(
            "could not look for file %s in %s (%s): it may be uploaded twice",
            filename,
            channel,
            failure(error),
        )
        return None
    return {
        str(f.get("id"))
        for f in listed.get("files") or []
        if f.get("name") == filename and f.get("title") == title
    }


def find_file(
    client: WebClient,
    channel: str,
    filename: str,
    title: str,
    since: datetime,
    besides: Collection[str] = (),
) -> bool:
    """Whether the bot shared ``filename`` titled ``title`` in ``channel`` since about
    ``since`` (``looked_back``): a file other than those ``besides`` (the same name's files
    already there before the upload looked for: another job's, such as the same day's report
    asked for again)."""
    found = files_named(client, channel, filename, title, since)
    return bool(found and found - set(besides))


def _not_taken(error: BaseException, doing: str, owed: bool) -> None:
    """A call Slack did not carry out: raised for a telling (``failure``: the worker says it,
    once, with the job's id), else logged."""
    if owed:
        raise failure(error) from error
    traceback = None if isinstance(error, SlackApiError) else error  # Slack's word says it
    log.warning("could not %s (%s)", doing, failure(error), exc_info=traceback)


SENT_AGAIN = (
    ":repeat: Sent again: sending this was cut short before Stockpot could note it sent, "
    "and it cannot read direct messages to check. If it reached you twice, either copy's "
    "button does the same, once."
)


def sent_again(message: dict[str, Any]) -> dict[str, Any]:
    """A direct message posted again after an attempt that may have posted it died before
    saving its ``ts`` (``Target.direct``: it cannot be looked for), saying so. Posted again
    rather than dropped: a missed offer lost leaves its days untransferred with nothing
    else to say so, where two copies of it cost a glance (its button acts once)."""
    return {**message, "blocks": [*(message.get("blocks") or []), context_block(SENT_AGAIN)]}


def sent_key(key: str) -> str:
    """Where ``Notifier.post_once`` notes which message it delivered under ``key``."""
    return f"{key}_sent"


def channel_key(key: str) -> str:
    """Where a job notes the conversation Slack posted its message under ``key`` in, when
    it is not the target's channel: a message to a person goes to the app's DM with them,
    whose ``D…`` id ``chat.update`` needs (their user id there is ``channel_not_found``)."""
    return f"{key}_channel"


def _digest(message: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(message, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Target:
    team_id: str
    channel_id: str
    user_id: str | None = None
    message_ts: str | None = None
    """The message the result replaces, if any (``Notify.message_ts``)."""
    direct: bool = False
    """A direct message to the user ``channel_id`` names: the bot cannot read it back
    (``im:history`` is not among its scopes), so a retry cannot look for what it posted."""

    @classmethod
    def of(cls, notify: Notify) -> Target:
        return cls(notify.team_id, notify.channel_id, notify.user_id, notify.message_ts)

    def apart(self) -> Target:
        """The same channel, for a message of its own (one that replaces no other)."""
        return replace(self, message_ts=None)


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

    def post(
        self, target: Target | None, message: dict[str, Any], *, owed: bool = False
    ) -> Target | None:
        """Post and return where the message is: the conversation Slack answered (a person's
        DM for a user id) and its ``ts`` (``message_ts``); ``None`` when it could not be
        delivered (``owed``: Slack not taking it raises ``Undelivered``)."""
        client = self.client(target.team_id) if target else None
        if target is None or client is None:
            log.info("no Slack channel to tell: %s", message.get("text"))
            return None
        try:
            answer = client.chat_postMessage(channel=target.channel_id, **message)
        except CALL_ERRORS as error:
            _not_taken(error, f"post to Slack channel {target.channel_id}", owed)
            return None
        channel = str(answer.get("channel") or target.channel_id)
        return replace(target, channel_id=channel, message_ts=str(answer["ts"]))

    def where(self, context: JobContext, key: str, target: Target | None) -> Target | None:
        """``target`` in the conversation the job's message under ``key`` was posted in
        (``channel_key``): the one to update it in."""
        channel = context.result.get(channel_key(key))
        return replace(target, channel_id=str(channel)) if target and channel else target

    def deliver(
        self, context: JobContext, key: str, target: Target | None, message: dict[str, Any]
    ) -> str | None:
        """Post a job's message once across its attempts and return its ``ts`` (kept in the
        job under ``key``), or ``None`` when it could not be delivered (``_said``). A message
        an earlier attempt delivered is not posted again, whether that attempt saved its
        ``ts`` or died first (then it is found by the key it carries)."""
        return self._said(
            context,
            key,
            target,
            message,
            False,
            lambda: self._deliver(context, key, target, message),
        )

    def _deliver(
        self, context: JobContext, key: str, target: Target | None, message: dict[str, Any]
    ) -> str | None:
        saved = context.result.get(key)
        if saved:
            return str(saved)
        if target is None:
            self.post(target, message, owed=True)  # logs that there is nowhere to tell
            return None
        stamp = job_key(context.job.id, key)
        intent = f"{key}_posting"
        if context.result.get(intent) and target.direct:
            message = sent_again(message)
        elif context.result.get(intent):
            found = self.find(
                target, stamp, context.job.created_at, message.get("thread_ts"), owed=True
            )
            if found:
                context.save(**{key: found})
                return found
        elif not context.save(**{intent: True}):
            raise LeaseLost  # claimed again since: the new claim posts it
        placed = self.post(target, stamped(message, stamp), owed=True)
        if placed is None:
            return None
        moved = placed.channel_id != target.channel_id  # one save: never a ts without its DM
        where = {channel_key(key): placed.channel_id} if moved else {}
        context.save(**{key: placed.message_ts}, **where)
        return placed.message_ts

    def _said(
        self,
        context: JobContext,
        key: str,
        target: Target | None,
        message: dict[str, Any],
        again: bool,
        say: Callable[[], str | None],
    ) -> str | None:
        """``say()``'s ``ts``. Slack not taking the message raises in a telling
        (``Undelivered``: the worker keeps the telling owed); in a run it is logged and, for
        a reason that may pass, owed with the job's success (``JobContext.owe``)."""
        try:
            ts = say()
        except Undelivered as undelivered:
            if context.telling is not None:
                raise
            later = undelivered.may_pass and target is not None
            log.warning(
                "could not say %s of job %s (%s)%s",
                key,
                context.job.id,
                undelivered,
                "; it is said again once the job is done" if later else "",
            )
            if later:
                assert target is not None
                context.owe(key, {"target": asdict(target), "message": message, "again": again})
            return None
        context.owe(key, None)
        return ts

    def say_again(self, context: JobContext, said: dict[str, Any]) -> None:
        """Say the messages a job's run could not (``JobContext.owe``), each once across
        the tries (``post_once``: one already said is not sent again)."""
        for key, owed in said.items():
            target = Target(**owed["target"])
            self.post_once(context, key, target, owed["message"], again=bool(owed["again"]))

    def find(
        self,
        target: Target,
        stamp: str,
        since: datetime,
        thread_ts: str | None = None,
        *,
        owed: bool = False,
    ) -> str | None:
        client = self.client(target.team_id)
        if client is None:
            return None
        return find_message(client, target.channel_id, stamp, since, thread_ts, owed=owed)

    def post_once(
        self,
        context: JobContext,
        key: str,
        target: Target | None,
        message: dict[str, Any],
        *,
        again: bool = False,
    ) -> str | None:
        """Deliver a job's result once across the job's attempts.

        The message goes where the job was asked to report (``Target.message_ts``: the
        message whose button started it, which the result replaces) or, with no such message,
        is posted (``deliver``: found again, not posted twice, after a worker died between
        posting and saving its ``ts``); a retry updates that same message. A retry that has
        the very message already delivered sends nothing. A message that is gone (deleted in
        Slack) is posted anew rather than lost.

        ``again``: a job's failure, told once per failure (``core.jobs.telling``): the
        message is updated even if it was already sent as it is, since a Retry replaced it
        meanwhile ("Trying again…") and the same refusal is to be said again.

        Slack not taking it: ``_said``."""
        return self._said(
            context,
            key,
            target,
            message,
            again,
            lambda: self._post_once(context, key, target, message, again=again),
        )

    def _post_once(
        self,
        context: JobContext,
        key: str,
        target: Target | None,
        message: dict[str, Any],
        *,
        again: bool,
    ) -> str | None:
        digest = _digest(message)
        sent = sent_key(key)
        target = self.where(context, key, target)
        ts = context.result.get(key) or (target.message_ts if target is not None else None)
        if ts and target is not None:
            said = context.result.get(key) == ts and context.result.get(sent) == digest
            if said and not again:
                return str(ts)
            edit = self.update(target, str(ts), message, owed=True)
            if edit is not Edit.GONE:
                context.save(**{key: ts, sent: digest if edit is Edit.DONE else None})
                return str(ts)
            # Gone (deleted in Slack): posted anew, and that message is the one kept.
            context.save(**{key: None, f"{key}_posting": None})
        posted = self._deliver(context, key, target, message)
        if posted:
            context.save(**{key: posted, sent: digest})
        return posted

    def update(
        self, target: Target, ts: str, message: dict[str, Any], *, owed: bool = False
    ) -> Edit:
        """Replace the message ``ts`` with ``message`` (``owed``: Slack not taking it, for
        another reason than the message being gone, raises ``Undelivered``)."""
        client = self.client(target.team_id)
        if client is None:
            return Edit.FAILED
        # chat.update edits a message where it is; a thread is not one of its arguments.
        edit = {k: v for k, v in message.items() if k != "thread_ts"}
        try:
            client.chat_update(channel=target.channel_id, ts=ts, **edit)
        except CALL_ERRORS as error:
            if isinstance(error, SlackApiError) and error.response.get("error") in GONE:
                log.warning("could not update Slack message %s: it is gone", ts)
                return Edit.GONE
            _not_taken(error, f"update Slack message {ts}", owed)
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
        """Upload a job's file once across its retries: recorded in the job's result, and an
        attempt after one that died mid-upload looks for the file (``files.list``: this name
        and title, in this channel, since the job was queued, and not one of those the first
        attempt saw there before it uploaded) before uploading again."""
        if content is None or "chart_uploaded" in context.result:
            return
        if context.result.get("chart_uploading"):
            besides = context.result.get("chart_besides") or []
            if self.find_file(target, filename, title, context.job.created_at, besides):
                context.save(chart_uploaded=True)
                return
        else:
            client = self.client(target.team_id)
            there = client and files_named(
                client, target.channel_id, filename, title, context.job.created_at
            )
            context.save(chart_uploading=True, chart_besides=sorted(there or ()))
        self.upload(target, filename=filename, content=content, title=title, job=context.job.id)
        context.save(chart_uploaded=True)

    def find_file(
        self,
        target: Target,
        filename: str,
        title: str,
        since: datetime,
        besides: Collection[str] = (),
    ) -> bool:
        client = self.client(target.team_id)
        return client is not None and find_file(
            client, target.channel_id, filename, title, since, besides
        )

    def upload(
        self, target: Target, *, filename: str, content: bytes, title: str, job: int
    ) -> None:
        """Upload a file of job ``job``; Slack not taking it is one log line (a chart is
        not owed: the message it illustrates is)."""
        client = self.client(target.team_id)
        if client is None:
            return
        try:
            client.files_upload_v2(
                channel=target.channel_id, filename=filename, content=content, title=title
            )
        except CALL_ERRORS as error:
            doing = f"upload {filename} of job {job} to Slack channel {target.channel_id}"
            _not_taken(error, doing, owed=False)


class Reporting(JobHandler):
    """A job that reports to Slack through ``notifier``: what Slack did not take during its
    run, for a reason that may pass, is said again once the job is done (``resay``)."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def resay(self, context: JobContext, telling: Telling) -> None:
        self.notifier.say_again(context, telling.said)
