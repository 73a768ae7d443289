"""When work is due: automatic transfers per location, daily reports per company.

The scheduler process only calls ``tick`` now and then; every decision is computed from the
clock and the database, so a restart, a second scheduler or a missed tick changes nothing
(each occurrence has a ``once_key``). Due times are local wall-clock times built with
``zoneinfo``, so they stay right across DST changes: business date D is transferred at the
location's ``transfer_time`` on the first local day after D's window has closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from stockpot.core.business_day import business_date_of, business_day_window, known_zone
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs import specs
from stockpot.core.jobs.queue import JobSpec, enqueue_many
from stockpot.core.models import (
    AutomaticTransfer,
    Company,
    Connection,
    ConnectionStatus,
    ExternalLocation,
    Job,
    JobKind,
    JobState,
    Provider,
    RunKind,
    TransferDay,
)

log = logging.getLogger(__name__)

LOOKBACK_DAYS = 31
"""The most due days the scheduler queues on its own for a location at once (it was down, or
it is the location's first tick): the older ones it has not dealt with are offered in one
message for catching up (``missed_offer``), never queued unasked, never skipped silently."""


@dataclass(frozen=True)
class Clock:
    """A location's schedule: its timezone, when its business day starts, when to transfer."""

    timezone: ZoneInfo
    day_start: time
    transfer_time: time

    @classmethod
    def of(cls, location: ExternalLocation) -> Clock:
        return cls(ZoneInfo(location.timezone), location.business_day_start, location.transfer_time)

    def today(self, now: datetime) -> date:
        """The business date open at ``now``: the location's today, whatever the company's
        clock says (a location far west of it is still on the day before for hours)."""
        return business_date_of(now, self.timezone, self.day_start)

    def due_at(self, day: date) -> datetime:
        """When business date ``day`` is transferred: the first ``transfer_time`` on the
        local clock at or after the day's window has closed. A time the autumn change repeats
        counts twice (02:30 in Berlin on 25 October 2026 is 00:30 and 01:30 UTC): a window
        closing between the two is transferred at the second that day, not a day later; one
        inside the spring gap resolves with the offset before the change."""
        _, end = business_day_window(day, self.timezone, self.day_start)
        local_day = end.astimezone(self.timezone).date()
        for on in (local_day, local_day + timedelta(days=1)):
            for fold in (0, 1):
                wall = datetime.combine(on, self.transfer_time, self.timezone).replace(fold=fold)
                # In UTC: Python compares two times of one zone by wall clock, fold ignored.
                due = wall.astimezone(UTC)
                if due >= end:
                    return due
        raise AssertionError("a transfer time always comes within two local days")

    def first_day_due_after(self, instant: datetime) -> date:
        """The earliest business date whose transfer is due after ``instant``."""
        day = business_date_of(instant, self.timezone, self.day_start) - timedelta(days=2)
        while self.due_at(day) <= instant:
            day += timedelta(days=1)
        return day

    def last_due(self, now: datetime) -> date:
        """The latest business date already due at ``now`` (every earlier one is too)."""
        return self.first_day_due_after(now) - timedelta(days=1)


def coverage_start(location: ExternalLocation, now: datetime) -> date:
    """The first day automatic transfers cover: set on activation and resume; for a location
    activated before the scheduler existed, yesterday."""
    if location.automatic_since is not None:
        return location.automatic_since
    return Clock.of(location).today(now) - timedelta(days=1)


def activate(location: ExternalLocation, now: datetime | None = None) -> None:
    """Automatic transfers start with the first day due after now (earlier days are what a
    migration is for)."""
    location.automatic_since = Clock.of(location).first_day_due_after(now or utcnow())
    location.activated_since = location.automatic_since
    location.paused_at = None


def pause(location: ExternalLocation, now: datetime | None = None) -> None:
    if location.automatic_transfer is AutomaticTransfer.ACTIVE:
        location.automatic_transfer = AutomaticTransfer.PAUSED
        location.paused_at = now or utcnow()


@dataclass(frozen=True)
class MissedDays:
    first: date
    last: date
    days: list[date] = field(default_factory=list)


def resume(session: Session, location: ExternalLocation, now: datetime | None = None) -> MissedDays:
    """Resume automatic transfers from the next due day, and return the days that fell due
    while paused and have no transfer yet: they are offered for catching up, never skipped
    silently."""
    now = now or utcnow()
    clock = Clock.of(location)
    resumed_from = clock.first_day_due_after(now)
    paused_at = location.paused_at
    location.automatic_transfer = AutomaticTransfer.ACTIVE
    location.automatic_since = resumed_from
    location.paused_at = None
    if paused_at is None:
        return MissedDays(resumed_from, resumed_from)
    first = clock.first_day_due_after(paused_at)
    last = resumed_from - timedelta(days=1)
    return MissedDays(first, last, untransferred(session, location.id, first, last))


def untransferred(session: Session, location_id: int, first: date, last: date) -> list[date]:
    """The days from ``first`` to ``last`` with no live run and no automatic transfer ever
    queued (one that failed was told with its Retry, and a Catch up would not queue it
    again): what there is to catch up."""
    if last < first:
        return []
    done = set(
        session.scalars(
            select(TransferDay.business_date).where(
                TransferDay.location_id == location_id,
                TransferDay.business_date.between(first, last),
                TransferDay.live_run_id.is_not(None),
            )
        )
    )
    done.update(
        session.scalars(
            select(Job.business_date).where(
                Job.location_id == location_id,
                Job.kind == JobKind.TRANSFER,
                Job.business_date.between(first, last),
                Job.once_key.startswith(specs.automatic_transfers_of(location_id)),
            )
        )
    )
    span = (last - first).days + 1
    return [day for day in (first + timedelta(days=n) for n in range(span)) if day not in done]


CATCH_UP_MAX_DAYS = 400
"""The most days one Catch up queues (a migration's limit: a longer pause is migrated)."""


def catch_up_range(
    location: ExternalLocation, first: date, last: date, now: datetime | None = None
) -> list[date]:
    """The days from ``first`` to ``last`` a Catch up may queue: days that already fell due,
    at most ``CATCH_UP_MAX_DAYS`` of them. A button's range comes back through the user's
    client; one that no pause could have missed (a century, days not yet due) is refused
    before a single day is listed."""
    due = Clock.of(location).first_day_due_after(now or utcnow())
    span = (last - first).days + 1
    if span < 1 or last >= due:
        raise ValidationFailed("that button is not one Stockpot made")
    if span > CATCH_UP_MAX_DAYS:
        raise ValidationFailed(
            f"{span} days is more than a catch-up takes ({CATCH_UP_MAX_DAYS}); migrate them "
            "instead (`/pos migrate <location> <days>`)"
        )
    return [first + timedelta(days=n) for n in range(span)]


def catch_up(location: ExternalLocation, days: list[date], triggered_by: str) -> list[JobSpec]:
    """Automatic transfers for days missed while paused (the same once-keys the scheduler
    would have used, so catching up twice queues each day once)."""
    return [
        specs.transfer(
            location.company_id,
            location.id,
            day,
            run_kind=RunKind.AUTOMATIC,
            triggered_by=triggered_by,
        )
        for day in days
    ]


def report_day_due(company: Company, timezone: ZoneInfo, now: datetime) -> date:
    """The latest business date whose report time has passed: yesterday's report is due at
    ``report_time`` today."""
    local = now.astimezone(timezone)
    due_today = datetime.combine(local.date(), company.report_time, tzinfo=timezone).astimezone(UTC)
    return local.date() - timedelta(days=1 if now >= due_today else 2)


SUPERSEDING = (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
"""The states of a later report that make an earlier one stale: one that will post or did."""


def superseding_report(session: Session, company_id: int, day: date) -> date | None:
    """The latest day after ``day`` whose scheduled report of the company is queued, running
    or done, if any: a scheduled report of ``day`` is then stale and not posted. Reports
    queued day after day while no worker ran posted one per day at once when one came back;
    the scheduler, when it was down itself, queues only the latest day (``report_day_due``),
    and so both ways the channel gets the one report. A later one cancelled or failed
    supersedes nothing: it did, and the channel got no report at all."""
    return session.scalar(
        select(func.max(Job.business_date)).where(
            Job.kind == JobKind.REPORT,
            Job.company_id == company_id,
            Job.once_key.is_not(None),
            Job.business_date > day,
            Job.state.in_(SUPERSEDING),
        )
    )


def report_timezone(company: Company, first_location_timezone: str | None) -> ZoneInfo:
    """The company's report timezone, else its first location's, else UTC (also for a
    timezone no one knows, which ``due_work`` logs)."""
    zones = (company.report_timezone or "", first_location_timezone or "", "UTC")
    return ZoneInfo(next(zone for zone in zones if known_zone(zone)))


@dataclass
class TickSummary:
    transfers: int = 0
    reports: int = 0
    offers: int = 0
    """Messages offering to catch up days the scheduler did not queue itself."""


@dataclass(frozen=True)
class Advance:
    """A location's ``queued_through`` as a tick read it, and the day it moves it to."""

    location_id: int
    read: date | None
    through: date


@dataclass
class DueWork:
    """What one tick found due: the jobs, and how far each location is then dealt with."""

    jobs: list[JobSpec] = field(default_factory=list)
    advances: list[Advance] = field(default_factory=list)


def location_due(
    session: Session, location: ExternalLocation, now: datetime
) -> tuple[list[JobSpec], Advance | None]:
    """A location's days that fell due since the scheduler last dealt with it: the latest
    ``LOOKBACK_DAYS`` queued, the older ones (if any is not transferred) offered."""
    clock = Clock.of(location)
    since = coverage_start(location, now)
    if location.queued_through is not None:
        since = max(since, location.queued_through + timedelta(days=1))
    last = clock.last_due(now)
    if last < since:
        return [], None
    first_queued = max(since, last - timedelta(days=LOOKBACK_DAYS - 1))
    wanted = [
        specs.transfer(
            location.company_id,
            location.id,
            first_queued + timedelta(days=n),
            run_kind=RunKind.AUTOMATIC,
            triggered_by="schedule",
        )
        for n in range((last - first_queued).days + 1)
    ]
    if first_queued > since:
        offer = missed_offer(session, location, (since, first_queued - timedelta(days=1)))
        if offer is not None:
            wanted.append(offer)
    return wanted, Advance(location.id, location.queued_through, last)


def missed_offer(
    session: Session, location: ExternalLocation, skipped: tuple[date, date]
) -> JobSpec | None:
    """The message offering the days of ``skipped`` not transferred, if there are any."""
    days = untransferred(session, location.id, *skipped)
    if not days:
        return None
    payload = specs.MissedDaysPayload(first=days[0], last=days[-1], days=len(days))
    return specs.missed_days(location.company_id, location.id, skipped, payload)


def due_work(session: Session, now: datetime) -> DueWork:
    """Every automatic transfer and report due at ``now`` and not queued yet, and the offers
    of days the scheduler was away too long to queue itself."""
    due = DueWork()
    wanted = due.jobs
    locations = session.scalars(
        select(ExternalLocation)
        .join(Connection)
        .where(
            ExternalLocation.active.is_(True),
            ExternalLocation.automatic_transfer == AutomaticTransfer.ACTIVE,
            Connection.provider.in_(Provider.askable()),
            Connection.status == ConnectionStatus.CONNECTED,
        )
        .options(selectinload(ExternalLocation.connection))
    ).all()
    for location in locations:
        # One row's unknown timezone (stored before syncs checked it) stops its own schedule,
        # never every company's: the whole tick raised on it.
        if not known_zone(location.timezone):
            log.error(
                "location %s of company %s has the unknown timezone %r: its automatic "
                "transfers wait until a sync or the catalog gives it a known one",
                location.id,
                location.company_id,
                location.timezone,
            )
            continue
        jobs, advance = location_due(session, location, now)
        wanted.extend(jobs)
        if advance is not None:
            due.advances.append(advance)
    reporting = session.scalars(select(Company).where(Company.report_channel_id.is_not(None))).all()
    first_timezone: dict[int, str] = {}
    if reporting:
        for company_id, zone in session.execute(
            select(ExternalLocation.company_id, ExternalLocation.timezone)
            .where(ExternalLocation.company_id.in_([c.id for c in reporting]))
            .order_by(ExternalLocation.id)
        ):
            first_timezone.setdefault(company_id, zone)
    for company in reporting:
        if company.report_timezone and not known_zone(company.report_timezone):
            log.error(
                "company %s has the unknown report timezone %r: its reports and days follow "
                "its first location's clock until /pos report here gives it a known one",
                company.id,
                company.report_timezone,
            )
        timezone = report_timezone(company, first_timezone.get(company.id))
        wanted.append(specs.report(company.id, report_day_due(company, timezone, now)))
    keys = [spec.once_key for spec in wanted if spec.once_key]
    taken = (
        set(session.scalars(select(Job.once_key).where(Job.once_key.in_(keys)))) if keys else set()
    )
    due.jobs = [spec for spec in wanted if spec.once_key not in taken]
    return due


def tick(factory: sessionmaker[Session], now: datetime | None = None) -> TickSummary:
    """Queue what is due. Safe to run from any number of processes at once."""
    now = now or utcnow()
    with factory() as session:
        due = due_work(session, now)
    return queue_due(factory, due)


def queue_due(factory: sessionmaker[Session], due: DueWork) -> TickSummary:
    """Queue what a tick found due, moving each location's ``queued_through`` on in the same
    transaction, from the value the tick read only: a location another scheduler moved on
    since is left to the next tick (its offer, over a range that scheduler saw differently,
    would otherwise be posted twice)."""
    if not due.jobs and not due.advances:
        return TickSummary()
    with unit_of_work(factory) as session:
        moved_on = set()
        # In one order: two schedulers each holding a row the other waits for would deadlock.
        for advance in sorted(due.advances, key=lambda advance: advance.location_id):
            read = ExternalLocation.queued_through
            moved = session.execute(
                update(ExternalLocation)
                .where(
                    ExternalLocation.id == advance.location_id,
                    read.is_(None) if advance.read is None else read == advance.read,
                )
                .values(queued_through=advance.through)
            )
            if moved.rowcount != 1:
                moved_on.add(advance.location_id)
        jobs = [spec for spec in due.jobs if spec.location_id not in moved_on]
        return TickSummary(
            transfers=enqueue_many(session, [s for s in jobs if s.kind is JobKind.TRANSFER]),
            reports=enqueue_many(session, [s for s in jobs if s.kind is JobKind.REPORT]),
            offers=enqueue_many(session, [s for s in jobs if s.kind is JobKind.MISSED_DAYS]),
        )
