"""A button whose work has started is spent: the message it was pressed on shows what was
started in place of the button, so nobody presses it twice, and the work's result later
replaces that same message (one piece of code for every such offer: Post to ledger, Import,
Undo import, Reprocess, Retry, Catch up, a count file's Post count)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from stockpot.bot.blocks.common import context, message, without_buttons
from stockpot.core.db import SessionFactory
from stockpot.core.jobs.queue import queued_once
from stockpot.core.jobs.specs import Notify, offer_key


def spend(respond: Respond, body: dict[str, Any], note: str, *also: str) -> str | None:
    """Replace the pressed button (and the buttons ``also`` names, e.g. a preview's Cancel)
    with ``note`` in the message it was on; the rest of the message stays. Returns the
    message's ``ts`` for the work's result to replace, or ``None`` for an ephemeral message
    (Slack sends no copy of those with a click, and only its ``response_url`` can change one:
    the note replaces it whole)."""
    pressed = str(body["actions"][0].get("action_id") or "")
    shown = body.get("message")
    if not shown or (body.get("container") or {}).get("is_ephemeral"):
        respond(**message(note, []), replace_original=True)
        return None
    kept = without_buttons(shown.get("blocks") or [], {pressed, *also})
    respond(
        **message(note, [*kept, context(f":hourglass_flowing_sand: {note}")]),
        replace_original=True,
    )
    return str(shown["ts"])


def in_place(target: Notify, ts: str | None) -> Notify:
    """Where a job started from a spent offer reports: into that same message."""
    return target.model_copy(update={"message_ts": ts}) if ts else target


def offered_in(target: Notify, body: dict[str, Any]) -> Notify:
    """Where a job started from a message's button reports: into that message (``None``
    for an ephemeral one: Slack sends no copy of it)."""
    shown = body.get("message")
    if not shown or (body.get("container") or {}).get("is_ephemeral"):
        return target
    return in_place(target, str(shown.get("ts") or "") or None)


def already_started(factory: SessionFactory, what: str, target: Notify) -> bool:
    """Whether this offer's job was queued before (``specs.offer_key``): a stale copy of a
    spent button was pressed."""
    key = offer_key(what, target)
    if key is None:
        return False
    with factory() as session:
        return queued_once(session, key)
