"""Historical migration: a location's last N business days, oldest first, each an ordinary
transfer run of kind ``migration`` (so rerunning it after fixing mappings corrects each day).

A migration is a job (one pending per location, see ``core.jobs.specs``); this module is the
work itself. It calls ``checkpoint`` before each day, which is where a cancellation stops it,
and reports progress after each day, which is what a retry on another worker resumes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.db import utcnow
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.jobs.queue import pending
from stockpot.core.jobs.schedule import Clock
from stockpot.core.models import ExternalLocation, JobKind, RunKind, RunOutcome
from stockpot.core.pos import connections
from stockpot.core.pos.base import FetchedDay
from stockpot.core.pos.errors import DayNotComplete, PosAuthError
from stockpot.core.pos.http import RetryPolicy
from stockpot.core.quantities import TYPED_NUMBER
from stockpot.core.settings import Settings
from stockpot.core.words import echoed

DEFAULT_DAYS = 90
MAX_DAYS = 400
FETCH_THREADS = 2
"""Requests of one migration in flight at most: Lightspeed asks for sequential requests per
token; a second one in flight covers the POS's answer time (the connection's pacer spaces
them either way)."""
AHEAD = 6
"""Days asked for ahead of the one being posted: the POS's answer time overlaps with
posting, and a day whose posting takes longer (a busy host, a collection) does not hold up
the next requests, which keep to the pacer's rhythm. About 3 MB held a fetched day."""


@dataclass
class MigrationProgress:
    first: date
    last: date
    done: int = 0
    posted: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (self.last - self.first).days + 1

    def dump(self) -> dict[str, Any]:
        data = asdict(self)
        data["first"], data["last"] = self.first.isoformat(), self.last.isoformat()
        return data

    @classmethod
    def load(cls, data: dict[str, Any]) -> MigrationProgress:
        return cls(
            first=date.fromisoformat(data["first"]),
            last=date.fromisoformat(data["last"]),
            done=int(data.get("done", 0)),
            posted=int(data.get("posted", 0)),
            unchanged=int(data.get("unchanged", 0)),
            failed=list(data.get("failed", [])),
        )


def last_complete_day(location: ExternalLocation) -> date:
    """Yesterday, in the location's own business days."""
    return Clock.of(location).today(utcnow()) - timedelta(days=1)


_NUMBER = re.compile(TYPED_NUMBER)
"""What reads as a number when typed after a location's name: ``90``, ``-5``, ``1.5``,
``1,5``, ``1e309``."""


def _days_refused(written: str) -> ValidationFailed:
    return ValidationFailed(
        f"migrate a whole number of days from 1 to {MAX_DAYS}, not {echoed(written)}"
    )


def typed_days(words: list[str]) -> tuple[str, str | None]:
    """``<location> [days]`` split: a last word that reads as a number is the day count
    (``1e309`` was taken as part of the name: "no location 'Main room 1e309'")."""
    if len(words) > 1 and _NUMBER.fullmatch(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), None


def days_of(written: str | None) -> int:
    """The days a typed count asks for (``DEFAULT_DAYS`` when none was typed); one that is no
    whole number is refused here, one out of range by ``plan``."""
    if written is None:
        return DEFAULT_DAYS
    if written.isascii() and written.isdigit() and len(written) <= len(str(MAX_DAYS)) + 1:
        return int(written)
    raise _days_refused(written)


def plan(session: Session, location: ExternalLocation, days: int) -> MigrationProgress:
    """The days a migration of ``days`` covers, refusing what cannot be migrated."""
    if not 1 <= days <= MAX_DAYS:
        raise _days_refused(str(days))
    if location.storage_unit_id is None:
        raise ValidationFailed(f"link a storage unit to '{location.name}' before migrating it")
    last = last_complete_day(location)
    return MigrationProgress(first=last - timedelta(days=days - 1), last=last)


def migration_running(session: Session, location_id: int) -> bool:
    return pending(session, JobKind.MIGRATION, location_id) is not None


def migrate(
    factory: sessionmaker[Session],
    settings: Settings,
    location_id: int,
    progress: MigrationProgress,
    *,
    triggered_by: str = "",
    checkpoint: Callable[[], None] = lambda: None,
    on_progress: Callable[[MigrationProgress], None] = lambda progress: None,
    effect_key: str | None = None,
    policy: RetryPolicy | None = None,
) -> MigrationProgress:
    """Transfer the days ``progress`` has not done yet, oldest first.

    The next days are fetched while the current one is posted (``AHEAD``), so a migration
    is bound by the POS's request rate rather than by its answer time or by posting. A day
    the POS could not serve for now raises, so the job is retried from that day, and so do
    credentials that stop working (the migration goes on from that day once reconnected). A
    day that cannot be transferred as things are is noted and the migration goes on; a day
    the POS has not closed ends it. With ``effect_key`` each day's run is kept under
    ``<effect_key>:<day>``, so a retry after a day was posted but before the progress was
    saved reports that day's run instead of posting it again. ``policy``: how the POS's
    requests are retried (and waited for: the fetches wait in their own threads, outside any
    database transaction)."""

    fetch = connections.DayFetcher(
        factory,
        settings,
        location_id,
        run_kind=RunKind.MIGRATION,
        triggered_by=triggered_by,
        policy=policy,
    )
    ahead = ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="stockpot-prefetch")
    in_flight: dict[date, Future[FetchedDay]] = {}
    try:
        while progress.done < progress.total:
            checkpoint()
            day = progress.first + timedelta(days=progress.done)
            for step in range(AHEAD):
                later = day + timedelta(days=step)
                if later <= progress.last and later not in in_flight:
                    in_flight[later] = ahead.submit(fetch, later)
            try:
                report = connections.transfer_fetched(
                    factory,
                    location_id,
                    day,
                    in_flight.pop(day).result(),
                    kind=RunKind.MIGRATION,
                    triggered_by=triggered_by,
                    effect_key=f"{effect_key}:{day}" if effect_key else None,
                    keep_movements=False,
                )
            except DayNotComplete as error:
                progress.failed.append(f"{day}: {error}")
                on_progress(progress)
                break
            except PosAuthError:
                raise
            except StockpotError as error:
                if getattr(error, "transient", False):
                    raise
                progress.failed.append(f"{day}: {error}")
            else:
                if report.outcome is RunOutcome.UNCHANGED:
                    progress.unchanged += 1
                else:
                    progress.posted += 1
            progress.done += 1
            on_progress(progress)
    finally:
        ahead.shutdown(wait=True, cancel_futures=True)
        fetch.close()
    return progress
