"""What is owed to whoever waits for a job that ended without its result: the failure or the
cancellation to tell, kept in the job's row (``Job.telling``) by the very statement that
records the end, and cleared once the job's handler has said it.

A worker killed between the two (after the commit, before or during the ``chat.update`` of
"Importing…" into the refusal) leaves the telling owed under its lease; when the lease runs out
any worker claims it like a job and tells it (``core.jobs.worker``), through the same
idempotent path (a message's ``ts`` kept in the job: the same message is updated, never a
second one posted). A job queued again (Retry) owes nothing until it ends again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ON_REQUEST = "cancelled on request"
"""The reason of a job cancelled by a person (``queue.request_cancel``), queued or running."""

DATABASE_AWAY = "the database could not be reached; the job will be tried again"
"""Why an attempt failed when the database did not answer and attempts are left."""


def database_away_at_last(attempts: int) -> str:
    """Why a job failed whose last attempt met the database away: said by the worker that
    ran it when it can record so, else by the claim that finds that attempt unrecorded after
    the one before it met the database away (``DATABASE_AWAY``)."""
    return (
        f"the database could not be reached at the last of its {attempts} attempts; "
        "try the job again once the database is back"
    )


@dataclass(frozen=True)
class Telling:
    """How a job ended, as its handler needs it to say so without the exception (which a
    worker that tells it after a crash never saw): the reason shown and the ``facts`` the
    handler drew from the error (``JobHandler.facts``: which buttons help)."""

    reason: str
    cancelled: bool = False
    facts: dict[str, Any] = field(default_factory=dict)

    def dump(self) -> dict[str, Any]:
        return {"reason": self.reason, "cancelled": self.cancelled, "facts": dict(self.facts)}

    @classmethod
    def load(cls, saved: dict[str, Any]) -> Telling:
        return cls(
            reason=str(saved.get("reason") or ""),
            cancelled=bool(saved.get("cancelled")),
            facts=dict(saved.get("facts") or {}),
        )
