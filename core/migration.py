"""Historical migration: a location's last N business days, oldest first, each an ordinary
transfer run of kind ``migration`` (so rerunning it after fixing mappings corrects each day).

One migration per location at a time. Until the jobs system, that is kept in this process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from core.business_day import business_date_of
from core.db import utcnow
from core.errors import StockpotError, ValidationFailed
from core.models import ExternalLocation, RunKind, RunOutcome
from core.pos import connections
from core.pos.errors import DayNotComplete
from core.settings import Settings

DEFAULT_DAYS = 90
MAX_DAYS = 400

_running: set[int] = set()
_lock = threading.Lock()


def migration_running(location_id: int) -> bool:
    with _lock:
        return location_id in _running


@contextmanager
def _claim(location_id: int, name: str) -> Iterator[None]:
    with _lock:
        if location_id in _running:
            raise ValidationFailed(f"a migration of '{name}' is already running")
        _running.add(location_id)
    try:
        yield
    finally:
        with _lock:
            _running.discard(location_id)


@dataclass
class MigrationProgress:
    total: int
    done: int = 0
    posted: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)


def last_complete_day(location: ExternalLocation) -> date:
    """Yesterday, in the location's own business days."""
    today = business_date_of(utcnow(), ZoneInfo(location.timezone), location.business_day_start)
    return today - timedelta(days=1)


def migrate(
    factory: sessionmaker[Session],
    settings: Settings,
    location_id: int,
    days: int = DEFAULT_DAYS,
    *,
    triggered_by: str = "",
    on_progress: Callable[[MigrationProgress], None] = lambda progress: None,
) -> MigrationProgress:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"migrate between 1 and {MAX_DAYS} days, not {days}")
    with factory() as session:
        location = session.get_one(ExternalLocation, location_id)
        name, last = location.name, last_complete_day(location)
        if location.storage_unit_id is None:
            raise ValidationFailed(f"link a storage unit to '{name}' before migrating it")
    progress = MigrationProgress(total=days)
    with _claim(location_id, name):
        for offset in range(days - 1, -1, -1):
            day = last - timedelta(days=offset)
            try:
                report = connections.transfer_day(
                    factory,
                    settings,
                    location_id,
                    day,
                    kind=RunKind.MIGRATION,
                    triggered_by=triggered_by,
                )
            except DayNotComplete as error:
                progress.failed.append(f"{day}: {error}")
                break
            except StockpotError as error:
                progress.failed.append(f"{day}: {error}")
            else:
                if report.outcome is RunOutcome.UNCHANGED:
                    progress.unchanged += 1
                else:
                    progress.posted += 1
            progress.done += 1
            on_progress(progress)
    return progress
