"""A request for work that is already pending: the one rule for every deduplicated job
started from Slack (a day previewed or posted, a connection synced, a location migrated, a
report sent now, a CSV file imported or an import undone).

Such a request joins the pending job (``core.jobs.queue.enqueue`` returns it, ``created``
false) instead of doing the work twice, and the job answers only where it was asked from.
So the request is answered at once, in its own answer (the command's reply, or the message
whose button was pressed): the same work is under way, and where its result follows. Nothing
is added to the job, so its retries post exactly what they would have posted.
"""

from __future__ import annotations

from collections.abc import Iterable

from stockpot.core.jobs.queue import Enqueued, JobSpec
from stockpot.core.jobs.specs import Notify, notify_of
from stockpot.core.models import Company, Job, JobKind
from stockpot.handlers.context import Services

UNANNOUNCED = (
    "it is the day's automatic transfer, which posts no message when it succeeds (a failure "
    "is said in the report channel, when one is set); `/transfer log` shows its run once done"
)
"""Where the result of a transfer queued without a channel (the automatic one) is seen."""

UNPOSTED = (
    "it was not asked for from Slack and there is no report channel, so its result is not "
    "posted in Slack (`/pos report here` sets one)"
)
"""Where the result of other work queued without a channel goes when the company has no
report channel (the command line's migration, say): nowhere in Slack."""


def joined(svc: Services, queued: Enqueued, here: Notify, what: str) -> str | None:
    """What to tell a request that joined pending work (mrkdwn; ``what`` names the work,
    escaped, e.g. "preview of Main room, 2026-11-27"), or ``None`` when there is nothing to
    add: the request queued its own job, or the job answers into the very message the request
    came from (a second click on the same button: that message becomes the result)."""
    if queued.created:
        return None
    with svc.factory() as session:
        job = session.get(Job, queued.job_id)
        payload = (job.payload if job is not None else None) or {}
        there = notify_of(payload)
        kind = job.kind if job is not None else None
        # A CSV file's work answers in the file's thread.
        threaded = bool(payload.get("thread_ts"))
        company = session.get(Company, job.company_id) if job is not None else None
        reported = company is not None and bool(company.report_channel_id)
    if there is not None and there.message_ts and there.message_ts == here.message_ts:
        return None
    if there is None and kind is JobKind.TRANSFER:
        return f"The same {what} is already under way; {UNANNOUNCED}."
    if there is None and not reported:
        return f"The same {what} is already under way; {UNPOSTED}."
    where = _where(there, here, threaded)
    return f"The same {what} is already under way; its result follows {where}."


def queue_or_join(
    svc: Services, here: Notify, work: Iterable[tuple[JobSpec, str, str]]
) -> tuple[list[str], list[str]]:
    """Queue each ``(spec, name, what)`` of a command that starts several jobs at once (a day
    of each location, a sync of each connection): the ``name`` of each one started, and what
    to tell of each that ``joined`` pending work (``what`` names the work for ``joined``)."""
    started, notes = [], []
    for spec, name, what in work:
        note = joined(svc, svc.jobs.enqueue(spec), here, what)
        if note is None:
            started.append(name)
        else:
            notes.append(note)
    return started, notes


def _where(there: Notify | None, here: Notify, threaded: bool) -> str:
    if there is None:
        return "in the report channel"
    if there.team_id != here.team_id:
        return "in the channel it was asked from"
    channel = "this channel" if there.channel_id == here.channel_id else f"<#{there.channel_id}>"
    where = f"in a thread of {channel}" if threaded else f"in {channel}"
    if there.message_ts:
        return f"{where}, in place of the message it was started from"
    return where
