"""A company's clock: the zone its days are counted on and its times are shown in, and today
on it. One reading for every place that says "today" or shows a time to a company's people
(stock postings, ``/ledger yesterday``, the doctor, CSV imports). A transfer's ``yesterday``
is the location's own business day instead (``core.jobs.schedule.Clock.today``)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from stockpot.core.db import SessionFactory
from stockpot.core.jobs.schedule import report_timezone
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
