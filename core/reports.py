"""The daily report of a company: what each location's previous business day did, what is
left to map, what went wrong, which balances went negative, and two weeks of consumption."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.business_day import known_zone
from stockpot.core.db import utcnow
from stockpot.core.errors import ValidationFailed
from stockpot.core.jobs.schedule import Clock
from stockpot.core.ledger import StockLine, balances
from stockpot.core.models import (
    Company,
    ExternalLocation,
    Ingredient,
    Job,
    JobKind,
    JobState,
    LedgerMovement,
    TransferDay,
    TransferRun,
)
from stockpot.core.stock.costs import value
from stockpot.core.units import largest_by_family, ranked
from stockpot.core.unmapped import UnmappedRow, coverage, offered_days, unmapped

TOP_DEDUCTIONS = 5
TOP_UNMAPPED = 5
CHART_DAYS = 14
CHART_INGREDIENTS = 5


@dataclass(frozen=True)
class Deduction:
    ingredient: str
    unit: str
    quantity: Decimal
    value: Decimal | None = None
    """At the ingredient's cost, when it has one."""


@dataclass
class LocationDay:
    """One location's business day as the report shows it."""

    name: str
    state: str
    """``posted``, ``unchanged``, ``failed``, ``pending``, ``not transferred``, ``paused`` or
    ``not due yet`` (its transfer time has not come: a location west of the company's clock
    is still open when the company's report is due, which is no missing day)."""
    due_at: datetime | None = None
    """When a day not closed yet is transferred."""
    timezone: str = "UTC"
    """The location's, to show ``due_at`` on its clock."""
    run_id: int | None = None
    lines: int = 0
    unmapped_lines: int = 0
    deductions: list[Deduction] = field(default_factory=list)
    """The largest deductions: by value when every deducted ingredient has a cost, else the
    largest of each unit family (weighed, measured, counted) in turns (``units.ranked``)."""
    deducted_count: dict[str, int] = field(default_factory=dict)
    """How many ingredients were deducted, per unit family (``mass``, ``volume``, ``count``):
    quantities of different ingredients are never added up."""
    failure: str | None = None
    failed_job_id: int | None = None


@dataclass
class DailyReport:
    company: str
    day: date
    locations: list[LocationDay]
    coverage: Decimal | None
    top_unmapped: list[UnmappedRow]
    negative: list[StockLine]
    consumption: dict[tuple[str, str], list[tuple[date, Decimal]]]
    currency: str = "EUR"
    """Per top ingredient (name, base unit), what was consumed each of the last days; the
    largest consumer of each unit family in turns (``units.in_turns``)."""


def daily_report(
    session: Session, company_id: int, day: date, now: datetime | None = None
) -> DailyReport:
    company = session.get_one(Company, company_id)
    locations = session.scalars(
        select(ExternalLocation)
        .where(ExternalLocation.company_id == company_id, ExternalLocation.active.is_(True))
        .order_by(ExternalLocation.name)
    ).all()
    return DailyReport(
        company=company.name,
        day=day,
        locations=[
            _location_day(session, location, day, now or utcnow()) for location in locations
        ],
        coverage=coverage(session, company_id),
        top_unmapped=offered_days(session, unmapped(session, company_id)[:TOP_UNMAPPED]),
        negative=[line for line in balances(session, company) if line.quantity < 0],
        consumption=consumption(session, company_id, day),
        currency=company.currency,
    )


def _location_day(
    session: Session, location: ExternalLocation, day: date, now: datetime
) -> LocationDay:
    row = LocationDay(name=location.name, state="not transferred", timezone=location.timezone)
    live = session.scalar(
        select(TransferRun)
        .join(TransferDay, TransferDay.live_run_id == TransferRun.id)
        .where(TransferDay.location_id == location.id, TransferDay.business_date == day)
    )
    if live is not None:
        stats = live.stats or {}
        row.state = live.outcome.value if live.outcome else "posted"
        row.run_id = live.id
        row.lines = int(stats.get("lines", 0))
        row.unmapped_lines = int(stats.get("unmapped", 0))
        _add_deductions(session, row, location, day)
        return row
    job = session.scalar(
        select(Job)
        .where(
            Job.kind == JobKind.TRANSFER,
            Job.location_id == location.id,
            Job.business_date == day,
        )
        .order_by(Job.id.desc())
        .limit(1)
    )
    if job is not None and job.state is JobState.FAILED:
        row.state, row.failure, row.failed_job_id = "failed", job.last_error, job.id
    elif job is not None and job.state.pending:
        row.state = "pending"
        row.failure = job.last_error
    elif location.automatic_transfer.value == "paused":
        row.state = "paused"
    elif location.transfer_time is not None and (due := Clock.of(location).due_at(day)) > now:
        row.state, row.due_at = "not due yet", due
    return row


def _add_deductions(
    session: Session, row: LocationDay, location: ExternalLocation, day: date
) -> None:
    total = func.sum(LedgerMovement.quantity)
    query = (
        select(Ingredient.name, Ingredient.base_unit, total, Ingredient.cost)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .join(TransferRun, TransferRun.id == LedgerMovement.run_id)
        .where(TransferRun.location_id == location.id, LedgerMovement.business_date == day)
        .group_by(Ingredient.name, Ingredient.base_unit, Ingredient.cost)
    )
    deducted = sorted(
        (
            Deduction(name, unit.value, -quantity, value(-quantity, cost))
            for name, unit, quantity, cost in session.execute(query).tuples()
            if quantity < 0
        ),
        key=lambda d: d.ingredient,
    )
    groups = largest_by_family(deducted, lambda d: d.quantity, lambda d: d.unit)
    row.deducted_count = {family.value: len(items) for family, items in groups.items()}
    row.deductions = ranked(
        deducted, lambda d: d.quantity, lambda d: d.unit, lambda d: d.value, TOP_DEDUCTIONS
    )


def consumption(
    session: Session, company_id: int, last: date, days: int = CHART_DAYS
) -> dict[tuple[str, str], list[tuple[date, Decimal]]]:
    """Daily consumption (deductions net of corrections) of the company's most consumed
    ingredients over the ``days`` ending with ``last``, zero-filled: by value when every one
    has a cost, else the largest of each unit family in turns (240 kg of mozzarella before
    300 g of oregano; kilograms are never ranked against pieces)."""
    first = last - timedelta(days=days - 1)
    rows = session.execute(
        select(
            Ingredient.name,
            Ingredient.base_unit,
            Ingredient.cost,
            LedgerMovement.business_date,
            func.sum(LedgerMovement.quantity),
        )
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .where(
            LedgerMovement.company_id == company_id,
            LedgerMovement.run_id.is_not(None),
            LedgerMovement.business_date >= first,
            LedgerMovement.business_date <= last,
        )
        .group_by(
            Ingredient.name, Ingredient.base_unit, Ingredient.cost, LedgerMovement.business_date
        )
    ).tuples()
    per: dict[tuple[str, str], dict[date, Decimal]] = {}
    costs: dict[tuple[str, str], Decimal | None] = {}
    for name, unit, cost, day, quantity in rows:
        per.setdefault((name, unit.value), {})[day] = -quantity
        costs[(name, unit.value)] = cost
    totals = sorted((key, sum(per[key].values(), Decimal(0))) for key in per)
    chosen = ranked(
        totals,
        lambda item: item[1],
        lambda item: item[0][1],
        lambda item: value(item[1], costs[item[0]]),
        CHART_INGREDIENTS,
    )
    top = [key for key, _ in chosen]
    return {
        label: [
            (first + timedelta(days=n), per[label].get(first + timedelta(days=n), Decimal(0)))
            for n in range(days)
        ]
        for label in top
    }


def send_reports_to(
    company: Company,
    team_id: str | None,
    channel_id: str | None,
    at: time | None = None,
    timezone: str | None = None,
) -> None:
    """Where (and when) the daily report and alerts go; no channel turns the report off."""
    company.report_team_id = team_id
    company.report_channel_id = channel_id
    if at is not None:
        company.report_time = at
    if timezone is not None:
        if not known_zone(timezone):
            raise ValidationFailed(
                f"'{timezone}' is not a timezone: use an IANA name such as Europe/Berlin"
            )
        company.report_timezone = timezone
