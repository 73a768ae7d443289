"""What is owed to whoever waits for a job that ended without its result: the failure or the
cancellation to tell, kept in the job's row (``Job.telling``) by the very statement that
records the end, and cleared once the job's handler has said it.

A worker killed between the two (after the commit, before or during the ``chat.update`` of
"Importing…" into the refusal) leaves the telling owed under its lease; when the lease runs out
any worker claims it like a job and tells it (``core.jobs.worker``), through the same
idempotent path (a message's ``ts`` kept in the job: the same message is updated, never a
second one posted). A job queued again (Retry) owes nothing until it ends again.

Slack away for longer than its client's own retries (``Undelivered``, for a reason that may
pass) leaves the telling owed: it is due again after the worker's doubling wait
(``STOCKPOT_JOB_RETRY_SECONDS``, up to an hour), for up to ``TRIES`` tries, through the same
idempotent path. Slack refusing for good (the channel gone, the app uninstalled) is not
tried again. A job that succeeded owes the same way the messages of its run Slack did not
take for a reason that may pass (``Telling.said``): recorded done together with them, it has
them said again by the next worker (``JobHandler.resay``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stockpot.core.errors import TRIED_AGAIN

ON_REQUEST = "cancelled on request"
"""The reason of a job cancelled by a person (``queue.request_cancel``), queued or running."""

DATABASE_AWAY_AGAIN = "; the job will be tried again"
DATABASE_AWAY = f"the database could not be reached{DATABASE_AWAY_AGAIN}"
"""Why an attempt failed when the database did not answer and attempts are left."""


def as_final(reason: str) -> str:
    """``reason`` as a job's final failure says it: a transient error promises another try
    (``TRIED_AGAIN``, ``DATABASE_AWAY``), true while attempts are left and not once none
    is ("SIDES did not answer …; it will be tried again" was told with Retry, as the end)."""
    for promise in (TRIED_AGAIN, DATABASE_AWAY_AGAIN):
        if reason.endswith(promise):
            return reason.removesuffix(promise)
    return reason


def database_away_at_last(attempts: int) -> str:
    """Why a job failed whose last attempt met the database away: said by the worker that
    ran it when it can record so, else by the claim that finds that attempt unrecorded after
    the one before it met the database away (``DATABASE_AWAY``)."""
    return (
        f"the database could not be reached at the last of its {attempts} attempts; "
        "try the job again once the database is back"
    )


TRIES = 8
"""How many times a telling is tried while Slack is away: the waits between them double from
``STOCKPOT_JOB_RETRY_SECONDS`` up to an hour (with the default 60 s, about 2 hours in all)."""


class Undelivered(Exception):
    """What a telling was to say did not reach Slack. ``may_pass``: for a reason that may
    pass (Slack unreachable, rate-limiting, an incident of its own), so it is tried again
    later; otherwise Slack refused for good and it is not. The message names the reason in a
    few words, never a token."""

    def __init__(self, reason: str, *, may_pass: bool) -> None:
        super().__init__(reason)
        self.may_pass = may_pass


@dataclass(frozen=True)
class Telling:
    """How a job ended, as its handler needs it to say so without the exception (which a
    worker that tells it after a crash never saw): the reason shown and the ``facts`` the
    handler drew from the error (``JobHandler.facts``: which buttons help)."""

    reason: str
    cancelled: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    tries: int = 0
    """Tries that could not reach Slack so far (``Undelivered`` that may pass)."""
    said: dict[str, Any] = field(default_factory=dict)
    """A job that succeeded: the messages of its run Slack did not take, each under its key
    with what its handler needs to say it again (``JobContext.owe``)."""

    def dump(self) -> dict[str, Any]:
        saved = {"reason": self.reason, "cancelled": self.cancelled, "facts": dict(self.facts)}
        if self.tries:
            saved["tries"] = self.tries
        if self.said:
            saved["said"] = dict(self.said)
        return saved

    @classmethod
    def load(cls, saved: dict[str, Any]) -> Telling:
        return cls(
            reason=str(saved.get("reason") or ""),
            cancelled=bool(saved.get("cancelled")),
            facts=dict(saved.get("facts") or {}),
            tries=int(saved.get("tries") or 0),
            said=dict(saved.get("said") or {}),
        )
