"""The daily report of a company: what each location's previous business day did, what is
left to map, what went wrong, which balances went negative, and two weeks of consumption."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stockpot.core.errors import ValidationFailed
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
from stockpot.core.unmapped import UnmappedRow, coverage, unmapped

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
    """``posted``, ``unchanged``, ``failed``, ``pending``, ``not transferred`` or ``paused``."""
    run_id: int | None = None
    lines: int = 0
    unmapped_lines: int = 0
    deductions: list[Deduction] = field(default_factory=list)
    deducted_total: dict[str, Decimal] = field(default_factory=dict)
    """Sum of the day's deductions per base unit."""
    deducted_value: Decimal = Decimal(0)
    """The day's deductions at cost (ingredients with a cost)."""
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
    consumption: dict[str, list[tuple[date, Decimal]]]
    """Per top ingredient (label with its unit), what was consumed each of the last days."""
    currency: str = "EUR"


def daily_report(session: Session, company_id: int, day: date) -> DailyReport:
    company = session.get_one(Company, company_id)
    locations = session.scalars(
        select(ExternalLocation)
        .where(ExternalLocation.company_id == company_id, ExternalLocation.active.is_(True))
        .order_by(ExternalLocation.name)
    ).all()
    return DailyReport(
        company=company.name,
        day=day,
        locations=[_location_day(session, location, day) for location in locations],
        coverage=coverage(session, company_id),
        top_unmapped=unmapped(session, company_id)[:TOP_UNMAPPED],
        negative=[line for line in balances(session, company) if line.quantity < 0],
        consumption=consumption(session, company_id, day),
        currency=company.currency,
    )


def _location_day(session: Session, location: ExternalLocation, day: date) -> LocationDay:
    row = LocationDay(name=location.name, state="not transferred")
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
    return row


def _add_deductions(
    session: Session, row: LocationDay, location: ExternalLocation, day: date
) -> None:
    total = func.sum(LedgerMovement.quantity)
    query = (
        select(Ingredient.name, Ingredient.base_unit, Ingredient.cost, total)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .join(TransferRun, TransferRun.id == LedgerMovement.run_id)
        .where(TransferRun.location_id == location.id, LedgerMovement.business_date == day)
        .group_by(Ingredient.name, Ingredient.base_unit, Ingredient.cost)
    )
    deducted = [
        Deduction(name, unit.value, -quantity, value(-quantity, cost))
        for name, unit, cost, quantity in session.execute(query).tuples()
        if quantity < 0
    ]
    for deduction in deducted:
        row.deducted_total[deduction.unit] = (
            row.deducted_total.get(deduction.unit, Decimal(0)) + deduction.quantity
        )
        row.deducted_value += deduction.value or Decimal(0)
    row.deductions = sorted(deducted, key=by_money)[:TOP_DEDUCTIONS]


def by_money(deduction: Deduction) -> tuple[bool, Decimal, str]:
    """Largest value first where costs are known; the others after, by name (kilograms and
    pieces are never compared)."""
    return (deduction.value is None, -(deduction.value or Decimal(0)), deduction.ingredient)


def consumption(
    session: Session, company_id: int, last: date, days: int = CHART_DAYS
) -> dict[str, list[tuple[date, Decimal]]]:
    """Daily consumption (deductions net of corrections) of the company's most consumed
    ingredients over the ``days`` ending with ``last``, zero-filled."""
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
    per: dict[str, dict[date, Decimal]] = {}
    ranks: dict[str, Deduction] = {}
    for name, unit, cost, day, quantity in rows:
        label = f"{name} ({unit.value})"
        per.setdefault(label, {})[day] = -quantity
        used = sum(per[label].values(), Decimal(0))
        ranks[label] = Deduction(name, unit.value, used, value(used, cost))
    top = sorted(per, key=lambda label: by_money(ranks[label]))[:CHART_INGREDIENTS]
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
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(
                f"'{timezone}' is not a timezone: use an IANA name such as Europe/Berlin"
            ) from None
        company.report_timezone = timezone


def parse_clock_time(text: str) -> time:
    """``HH:MM`` (24 h), as people write a time of day."""
    try:
        return time.fromisoformat(text if len(text) > 2 else f"{text}:00")
    except ValueError:
        raise ValidationFailed(
            f"'{text}' is not a time of day: write it as HH:MM, e.g. 06:30"
        ) from None
