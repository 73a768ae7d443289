"""A company's clock: the zone its days are counted on and its times are shown in, and today
on it. One reading for every place that says "today" or shows a time to a company's people
(``/ledger yesterday``, the doctor, CSV imports). A transfer's ``yesterday`` is the
location's own business day instead (``core.jobs.schedule.Clock.today``), and so is a stock
posting's date when its unit takes a location's sales (``posting_day``): its default, and the
day a typed ``today`` or ``yesterday`` counts from."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.db import SessionFactory
from stockpot.core.errors import NotFound
from stockpot.core.jobs.schedule import Clock, report_timezone
from stockpot.core.lookup import storage_unit_by_name
from stockpot.core.models import Company, ExternalLocation


def company_zone(session: Session, company: Company) -> ZoneInfo:
    """The company's clock: its report timezone, else its first location's, else UTC (what
    its days are counted on and its times are shown in)."""
    first = session.scalar(
        select(ExternalLocation.timezone)
        .where(ExternalLocation.company_id == company.id)
        .order_by(ExternalLocation.id)
        .limit(1)
    )
    return report_timezone(company, first)


def today(session: Session, company: Company, now: datetime | None = None) -> date:
    """Today on the company's clock (``company_zone``)."""
    return today_on(company_zone(session, company), now)


def today_on(zone: ZoneInfo, now: datetime | None = None) -> date:
    """Today on a company's clock read already (``company_zone``): a command that shows
    times too reads the clock once, so its date and its times cannot disagree."""
    return (now or datetime.now(zone)).astimezone(zone).date()


def company_today(factory: SessionFactory, company_id: int) -> date:
    """``today`` for a company known by id (a posting's default date)."""
    with factory() as session:
        return today(session, session.get_one(Company, company_id))


def _business_days(session: Session, company: Company, unit_id: int, now: datetime) -> list[date]:
    """The business day now of each location whose sales the storage unit takes."""
    locations = session.scalars(
        select(ExternalLocation).where(
            ExternalLocation.company_id == company.id, ExternalLocation.storage_unit_id == unit_id
        )
    )
    return [Clock.of(location).today(now) for location in locations]


def unit_today(
    session: Session,
    company: Company,
    unit_id: int,
    now: datetime | None = None,
    company_today: date | None = None,
) -> date:
    """The latest day that is open now for a storage unit: the company's date, or the
    business day of a location whose sales the unit takes, by its clock and day start, when
    that is later (a location east of the company's clock is on the next day already).
    ``company_today``: the company's date read already with ``now`` (a count sheet reads its
    clock once)."""
    now = now or datetime.now().astimezone()
    days = _business_days(session, company, unit_id, now)
    return max([company_today or today(session, company, now), *days])


def posting_day(
    session: Session,
    company: Company,
    *unit_ids: int,
    now: datetime | None = None,
    company_today: date | None = None,
) -> date:
    """A posting's default date now in storage units (a move's two): the business day of the
    locations whose sales a unit takes (the latest of them), else the company's date; a
    move's the earlier of its units'. A count typed after a late service, before the day
    start, is the day of that service: dated by the calendar it was ahead of the next day's
    sales and absorbed them into its variance. Never after ``unit_today`` (``not_yet``
    refuses no default)."""
    now = now or datetime.now().astimezone()
    company_today = company_today or today(session, company, now)
    return min(
        max(_business_days(session, company, unit_id, now), default=company_today)
        for unit_id in unit_ids
    )


def unit_posting_day(factory: SessionFactory, company_id: int, *units: str) -> date:
    """``posting_day`` for storage units known by name; a name that is no unit of the company
    counts as no location (the posting refuses it, saying so)."""
    with factory() as session:
        company = session.get_one(Company, company_id)
        ids = []
        for name in units:
            try:
                ids.append(storage_unit_by_name(session, company_id, name).id)
            except NotFound:
                return today(session, company)
        return posting_day(session, company, *ids)


def not_yet(
    session: Session,
    company: Company,
    unit_id: int,
    day: date,
    what: str,
    *,
    now: datetime | None = None,
    company_today: date | None = None,
) -> str | None:
    """Why ``what`` (a count, waste) in a storage unit cannot be dated ``day``, or ``None``:
    it records what has happened, so no day after ``unit_today``. A count dated ahead fixed
    the balance at that day, absorbing every posting up to it, and waste dated ahead took
    stock that was still there; both were accepted up to a year ahead (the typo range of
    ``periods.sane_date``)."""
    open_day = unit_today(session, company, unit_id, now, company_today)
    if day <= open_day:
        return None
    return (
        f"{day.isoformat()} is after today's business day ({open_day.isoformat()}): {what} "
        f"records what has happened; date it {open_day.isoformat()} or earlier"
    )
