"""What every listener works with: the services, and who is asking for which company."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stockpot.bot.work import WorkQueue
from stockpot.core import scope
from stockpot.core.access import Actor, actor_for
from stockpot.core.db import SessionFactory
from stockpot.core.errors import UnauthorizedCompanyAccess, ValidationFailed
from stockpot.core.ids import parse_id
from stockpot.core.jobs import effects
from stockpot.core.jobs.effects import job_key
from stockpot.core.jobs.runtime import JobRuntime
from stockpot.core.jobs.specs import Notify
from stockpot.core.settings import Settings

SERVICES = "stockpot"
ANSWERING = "stockpot_answering"
"""The context key of the answer job a worker dispatches a request for (``Answering``)."""


@dataclass
class Answering:
    """The answer job a request is being answered in, by a worker. Its takeover (the first
    worker died mid-answer) runs the listener again: effects keyed by ``effect_key`` are not
    done twice, and Slack posts are found again (``retry``: look before posting)."""

    job_id: int
    retry: bool
    since: datetime
    posts: int = 0
    uploads: int = 0
    enqueues: int = 0
    kept: dict[str, Any] = field(default_factory=dict)
    """What an earlier attempt recorded (the job's result)."""
    keep: Callable[..., None] | None = None
    """Record in the job's result, for a later attempt."""

    def next_enqueue(self) -> str:
        """The key of the answer's next queued job (the same sequence on every attempt)."""
        self.enqueues += 1
        return job_key(self.job_id, "enqueue", self.enqueues)

    def next_stamp(self) -> str:
        """The key of this answer's next message (the same sequence on every attempt)."""
        self.posts += 1
        return job_key(self.job_id, "answer", self.posts)

    def next_upload(self) -> str:
        """Where the answer's next file upload records the files of its name already there
        (the same sequence on every attempt)."""
        self.uploads += 1
        return f"upload_{self.uploads}_besides"


@dataclass(frozen=True)
class Services:
    factory: SessionFactory
    settings: Settings
    work: WorkQueue
    """Short work off the listener thread (a connection test, a file preview)."""
    jobs: JobRuntime
    """Long work (syncs, transfers, migrations, reports): queued for a worker."""
    installations: Any = None
    """The installation store in multi-workspace mode (``None`` with a single bot token)."""
    answers: Executor | None = None
    """Where the web process answers what no worker can (``bot.acks``); the app's own pool."""


def services(context: BoltContext) -> Services:
    """The services; in an answer job, queueing keyed by the job (``JobRuntime.keyed``)."""
    found: Services = context[SERVICES]
    answering = context.get(ANSWERING)
    if isinstance(answering, Answering) and found.jobs.keys is None:
        found = replace(found, jobs=found.jobs.keyed(answering.next_enqueue))
        context[SERVICES] = found
    return found


def effect_key(context: BoltContext, step: str) -> str | None:
    """The idempotency key of a change this request makes (``core.jobs.effects``) when a
    worker answers it: a takeover of its answer job finds the change done, not doing it
    twice. ``None`` where no attempt can follow (the web process answering)."""
    answering = context.get(ANSWERING)
    return job_key(answering.job_id, step) if isinstance(answering, Answering) else None


def form_key(context: BoltContext, view: dict[str, Any], *parts: object) -> str | None:
    """The idempotency key of what a modal's submission posts: the view, not the delivery.
    Slack gives a submission not acked within 3 s an error and leaves the modal open with what
    was typed; Submit pressed again is a new delivery (a new ``trigger_id``) of the same view,
    whose first submission may well have posted. ``parts``: what else tells submissions of
    one view apart (a count sheet's page: Slack keeps the view's id from page to page)."""
    view_id = view.get("id")
    if not isinstance(view_id, str) or not 0 < len(view_id) <= 64:
        return None
    return ":".join(["form", context.team_id or "", view_id, *map(str, parts)])


def actor(
    context: BoltContext, channel_id: str | None = None, company_id: int | None = None
) -> Actor:
    """The requester in the company this workspace (or channel) speaks for, or in
    ``company_id``, one of the workspace's (``actor_for``)."""
    with services(context).factory() as session:
        return actor_for(
            session, context.team_id or "", context.user_id or "", channel_id, company_id=company_id
        )


def reading(context: BoltContext, who: Actor) -> AbstractContextManager[scope.CompanyScope]:
    """The rows of ``who``'s company, to read."""
    return scope.reading(services(context).factory, who)


def changing(context: BoltContext, who: Actor) -> AbstractContextManager[scope.CompanyScope]:
    """The rows of ``who``'s company, changed in one transaction."""
    return scope.changing(services(context).factory, who)


def said_once(
    context: BoltContext,
    who: Actor,
    step: str,
    change: Callable[[scope.CompanyScope], dict[str, Any]],
) -> dict[str, Any]:
    """Make a change and work out what it says (``change``, JSON: a ``message``) in one
    transaction. Answered by a worker, what it says is kept under the answer job's key in
    that very transaction (``core.jobs.effects``): a takeover (the first worker died after
    the commit, before the job was done) says it again as it was and changes nothing, where
    the change made again would answer the state it left ("there is already a storage unit
    named 'Bar'" to the request that made Bar)."""
    key = effect_key(context, step)
    with changing(context, who) as rows:
        if key is not None and (earlier := effects.take(rows.session, key, who.company_id)):
            return dict(earlier["said"])
        said = change(rows)
        if key is not None:
            effects.record(rows.session, key, {"said": said})
        return said


def button_admin(
    context: BoltContext, body: dict[str, Any], company_id: int | None = None
) -> Actor:
    """Who pressed a button: an admin of the company its channel speaks for (or of
    ``company_id``, the company the button was made for), or a refusal."""
    who = actor(context, channel_of(body), company_id)
    who.require_admin()
    return who


def post(client: WebClient, channel: str, message: dict[str, Any]) -> None:
    client.chat_postMessage(channel=channel, **message)


UNPOSTABLE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
"""Slack's answers to a post where the bot can post nothing: a private channel or a DM it is
not in (``chat:write.public`` reaches public channels only), an archived channel."""


def unpostable(error: SlackApiError) -> str | None:
    """Slack's code when ``error`` says the bot can post nothing in that channel, else None."""
    code = error.response.get("error")
    return str(code) if code in UNPOSTABLE else None


def notify(context: BoltContext, channel_id: str) -> Notify:
    """Where a job asked for here reports: this channel, mentioning who asked."""
    return Notify(
        team_id=context.team_id or "", channel_id=channel_id, user_id=context.user_id or None
    )


def channel_of(body: dict[str, Any]) -> str:
    """The channel of an interaction (a message's, whatever container it came in)."""
    return str((body.get("channel") or {}).get("id") or body["container"].get("channel_id"))


def button_id(body: dict[str, Any]) -> int:
    """The id a Stockpot button carries (``42``, or ``42:7`` from a select); anything else
    is refused, not guessed."""
    action = body["actions"][0]
    raw = str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
    row_id = parse_id(raw.partition(":")[0])
    if row_id is None:
        raise ValidationFailed("that button is not one Stockpot made")
    return row_id


FormMetadata = TypeVar("FormMetadata", bound=BaseModel)


def _form_values(view: dict[str, Any]) -> dict[str, Any]:
    """A submitted form's ``state.values``; ``{}`` when its state is not Slack's shape."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def form_blocks(view: dict[str, Any]) -> list[str]:
    """The block ids of a submitted form's inputs (none when its state is not Slack's)."""
    return [str(block) for block in _form_values(view)]


def form_input(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    """The state of input ``action`` in ``block`` of a submitted form; ``{}`` when the form
    sent none. Forms come back through the user's client: a block missing or of another
    shape is an empty input (it raised ``KeyError`` or ``AttributeError`` before)."""
    blocks = _form_values(view).get(block)
    element = blocks.get(action) if isinstance(blocks, dict) else None
    return element if isinstance(element, dict) else {}


def picked_date(element: dict[str, Any]) -> date | None:
    """The date of a date picker's state (``form_input``, a message's state values); ``None``
    when none is picked. It comes back through the user's client: anything but the picker's
    ``YYYY-MM-DD`` is refused, not a crash."""
    text = element.get("selected_date")
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        raise ValidationFailed("that date is not one the date picker gives") from None


def form_actor(
    context: BoltContext, view: dict[str, Any], model: type[FormMetadata]
) -> tuple[Actor, FormMetadata]:
    """Who submits a modal, for the company the modal was opened for: an admin of it, or a
    refusal. The metadata is the app's own, but it comes back through the user's client."""
    try:
        metadata = model.model_validate_json(str(view.get("private_metadata") or ""))
    except ValidationError:
        raise ValidationFailed("this form is not one Stockpot made") from None
    channel = getattr(metadata, "channel_id", None)
    who = actor(context, channel)
    if who.company_id != getattr(metadata, "company_id", None):
        raise UnauthorizedCompanyAccess("this form was opened for another company")
    who.require_admin()
    return who, metadata
