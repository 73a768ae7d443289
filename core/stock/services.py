"""Posting stock: counts, receipts, waste, moves and corrections (the rules are in
``stockpot.core.stock``). Slack handlers, the CLI and the demo all call ``post_stock`` and
``correct``.

Every request is checked whole before anything is written: bad input raises
``InvalidDocument`` listing each problem with its line, and nothing is posted. A dry run does
the same work in a transaction that is rolled back, so its preview is what posting would do.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core import company_clock
from stockpot.core.db import QUANTUM, SCALE, quantize, unit_of_work
from stockpot.core.errors import InvalidDocument, NotFound, Problem, ValidationFailed
from stockpot.core.exact import format_decimal, fraction_to_decimal, to_fraction
from stockpot.core.ids import MAX_ID
from stockpot.core.jobs import effects, specs
from stockpot.core.jobs.queue import enqueue
from stockpot.core.jobs.specs import Notify
from stockpot.core.lookup import nul_problem, storage_unit_by_name
from stockpot.core.models import (
    Company,
    Ingredient,
    LedgerMovement,
    MovementType,
    StockCountLine,
    StockKind,
    StockPosting,
    StorageUnit,
)
from stockpot.core.periods import sane_date
from stockpot.core.quantities import QUANTITY_RANGE, cost_range, quantity_problem
from stockpot.core.stock import costs
from stockpot.core.stock.ledger import (
    DatedKey,
    Key,
    absorb,
    balances_at,
    balances_now,
    count_movements,
    counted_on,
    insert_movements,
    lock_units,
    own_movements,
    reverse_movements,
)
from stockpot.core.stock.variance import count_dates
from stockpot.core.storage import archived_refusal
from stockpot.core.units import Unit, UnitError, conversion_factor, parse_unit
from stockpot.core.words import figure, quoted

POSTING_KINDS = (StockKind.COUNT, StockKind.RECEIPT, StockKind.WASTE, StockKind.MOVE)


@dataclass(frozen=True)
class LineInput:
    """One line as a person wrote it: an ingredient, a quantity in any convertible unit (the
    base unit when none), and for a receipt an optional cost per that unit."""

    ingredient: str
    quantity: Decimal
    unit: str | None = None
    unit_cost: Decimal | None = None
    line: int | None = None
    """Where it came from (a file's line, a form's row), for error messages."""


@dataclass(frozen=True)
class StockRequest:
    kind: StockKind
    company_id: int
    storage_unit: str
    business_date: date
    posted_by: str
    lines: Sequence[LineInput]
    to_storage_unit: str | None = None
    supplier: str | None = None
    reference: str | None = None
    reason: str | None = None
    source: str = "input"
    notify: Notify | None = None
    """Where a count's variance report goes when asked from Slack (else the report channel)."""
    effect_key: str | None = None
    """The request's idempotency key (``core.jobs.effects``): posted again under the same
    key (a Slack answer retried after its worker died), it posts nothing and returns what the
    first posting returned."""


@dataclass(frozen=True)
class PostedLine:
    ingredient: str
    unit: str
    quantity: Decimal
    """Base units: what was counted (a count), received, wasted or moved."""
    adjustment: Decimal | None = None
    """A count's adjustment: counted − balance just before the count."""
    value: Decimal | None = None
    """``quantity`` (for a count: ``adjustment``) at the ingredient's cost, when known."""

    def to_json(self) -> dict[str, Any]:
        return {
            "ingredient": self.ingredient,
            "unit": self.unit,
            "quantity": _text(self.quantity),
            "adjustment": _text(self.adjustment),
            "value": _text(self.value),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PostedLine:
        return cls(
            ingredient=data["ingredient"],
            unit=data["unit"],
            quantity=Decimal(data["quantity"]),
            adjustment=_number(data.get("adjustment")),
            value=_number(data.get("value")),
        )


@dataclass(frozen=True)
class Absorbed:
    """An adjustment a later count took over (the rule that a count fixes its balance)."""

    count_id: int
    storage_unit: str
    ingredient: str
    unit: str
    quantity: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "count_id": self.count_id,
            "storage_unit": self.storage_unit,
            "ingredient": self.ingredient,
            "unit": self.unit,
            "quantity": _text(self.quantity),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Absorbed:
        return cls(
            count_id=int(data["count_id"]),
            storage_unit=data["storage_unit"],
            ingredient=data["ingredient"],
            unit=data["unit"],
            quantity=Decimal(data["quantity"]),
        )


@dataclass(frozen=True)
class BelowZero:
    """A balance a posting took below zero, or further below: posted all the same (stock
    may go negative, as after a sale; a count sets it right), and said in the answer."""

    storage_unit: str
    ingredient: str
    unit: str
    balance: Decimal
    """After the posting, every movement of the unit and ingredient included, in base units."""

    def to_json(self) -> dict[str, Any]:
        return {
            "storage_unit": self.storage_unit,
            "ingredient": self.ingredient,
            "unit": self.unit,
            "balance": _text(self.balance),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BelowZero:
        return cls(
            storage_unit=data["storage_unit"],
            ingredient=data["ingredient"],
            unit=data["unit"],
            balance=Decimal(data["balance"]),
        )


@dataclass
class StockResult:
    kind: StockKind
    storage_unit: str
    business_date: date
    posted_by: str
    currency: str
    lines: list[PostedLine]
    posting_id: int | None = None
    """``None`` for a dry run."""
    to_storage_unit: str | None = None
    reverses_id: int | None = None
    absorbed: list[Absorbed] = field(default_factory=list)
    below_zero: list[BelowZero] = field(default_factory=list)
    again: bool = False
    """Posted before under the request's ``effect_key``: this is that posting's result, and
    nothing was posted now."""

    @property
    def dry_run(self) -> bool:
        return self.posting_id is None

    def to_json(self) -> dict[str, Any]:
        return {
            "posting_id": self.posting_id,
            "dry_run": self.dry_run,
            "kind": self.kind.value,
            "storage_unit": self.storage_unit,
            "to_storage_unit": self.to_storage_unit,
            "business_date": self.business_date.isoformat(),
            "posted_by": self.posted_by,
            "currency": self.currency,
            "reverses": self.reverses_id,
            "lines": [line.to_json() for line in self.lines],
            "absorbed": [item.to_json() for item in self.absorbed],
            "below_zero": [item.to_json() for item in self.below_zero],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StockResult:
        """What ``to_json`` wrote (a posting's result kept under its idempotency key)."""
        return cls(
            kind=StockKind(data["kind"]),
            storage_unit=data["storage_unit"],
            business_date=date.fromisoformat(data["business_date"]),
            posted_by=data["posted_by"],
            currency=data["currency"],
            lines=[PostedLine.from_json(line) for line in data["lines"]],
            posting_id=data["posting_id"],
            to_storage_unit=data.get("to_storage_unit"),
            reverses_id=data.get("reverses"),
            absorbed=[Absorbed.from_json(item) for item in data.get("absorbed") or []],
            below_zero=[BelowZero.from_json(item) for item in data.get("below_zero") or []],
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


class _DryRun(Exception):
    def __init__(self, result: StockResult) -> None:
        self.result = result


DATE_PLACE = "date"
"""The place a posting's date problem is named by (a form shows it under its date input)."""

NOTES = {"supplier", "reference", "reason"}
"""A posting's free texts (a form's note is a receipt's supplier, else its reason): each
is refused with its place when it holds a NUL (PostgreSQL refused the posting: a traceback)."""

HAPPENED = {
    StockKind.COUNT: "a count",
    StockKind.WASTE: "waste",
    StockKind.RECEIPT: "a receipt",
    StockKind.MOVE: "a move",
}
"""Postings that record what has happened, never dated after the business day of a unit
they post into (``company_clock.not_yet``): a receipt dated ahead showed in today's balance
but not in a report as of today, and a year typed wrong (2027 for 2026) was posted. A
correction keeps its posting's date (it may undo one dated ahead before this rule)."""


def post_stock(
    factory: sessionmaker[Session], request: StockRequest, *, dry_run: bool = False
) -> StockResult:
    """Check and post one count, receipt, waste or move, all or nothing."""
    try:
        with unit_of_work(factory) as session:
            result = post_in_session(session, request, dry_run=dry_run)
            if dry_run:
                raise _DryRun(result)
            return result
    except _DryRun as preview:
        return preview.result


@dataclass
class _Resolved:
    ingredient: Ingredient
    quantity: Decimal
    """In base units."""
    unit_cost: Decimal | None
    """Per base unit."""


def post_in_session(session: Session, request: StockRequest, *, dry_run: bool) -> StockResult:
    """``post_stock`` in the caller's transaction (the demo posts its week in one)."""
    if request.kind not in POSTING_KINDS:
        raise ValidationFailed(f"'{request.kind.value}' is not posted this way; use correct()")
    company = session.get(Company, request.company_id)
    if company is None:
        raise NotFound(f"no company {request.company_id}")
    if request.effect_key and not dry_run:
        # Before the checks: the same count asked again would be "already counted" by itself.
        earlier = effects.take(session, request.effect_key, company.id)
        if earlier:
            return replace(StockResult.from_json(earlier), again=True)
    problems: list[Problem] = []
    for place in sorted(NOTES):
        problem = nul_problem(getattr(request, place) or "")
        if problem is not None:
            problems.append(Problem(place, problem))
    try:
        # The one date rule: the receive form's date picker and a count sheet's metadata
        # gave any date (a receipt of 1900 or 2999 was posted).
        sane_date(request.business_date, date.today())  # noqa: DTZ011 - a day either way
    except ValidationFailed as error:
        problems.append(Problem(DATE_PLACE, str(error)))
    # A date refused already is not refused again (a year mistyped is after today, too).
    happened = None if problems else HAPPENED.get(request.kind)
    unit = _unit(session, company, request.storage_unit, "storage_unit", problems)
    to_unit = None
    if request.kind is StockKind.MOVE:
        if not request.to_storage_unit:
            problems.append(Problem("to", "a move needs a destination storage unit"))
        else:
            to_unit = _unit(session, company, request.to_storage_unit, "to", problems)
        if unit is not None and to_unit is not None and unit.id == to_unit.id:
            problems.append(
                Problem("to", f"a move goes from one storage unit to another, not to '{unit.name}'")
            )
    unit, to_unit = _in_use(
        session, unit, to_unit, exclusive=request.kind is StockKind.COUNT, problems=problems
    )
    if happened is not None:
        # A move's two legs share its date: it is after neither unit's business day.
        for posted_into in (unit, to_unit):
            ahead = posted_into and company_clock.not_yet(
                session, company, posted_into.id, request.business_date, happened
            )
            if ahead:
                problems.append(Problem(DATE_PLACE, ahead))
                break
    resolved = _resolve_lines(session, company, request, problems)
    if unit is not None and request.kind is StockKind.COUNT and resolved:
        already = counted_on(
            session,
            company.id,
            unit.id,
            [item.ingredient.id for _, item in resolved],
            request.business_date,
        )
        for line, item in resolved:
            if item.ingredient.id in already:
                problems.append(
                    Problem(
                        "ingredient",
                        f"'{item.ingredient.name}' was already counted in '{unit.name}' on "
                        f"{request.business_date} (count {already[item.ingredient.id]}); "
                        "correct that count first, then count again",
                        line,
                    )
                )
    if problems:
        raise InvalidDocument(request.source, problems)
    assert unit is not None
    posting = StockPosting(
        company_id=company.id,
        kind=request.kind,
        storage_unit_id=unit.id,
        to_storage_unit_id=to_unit.id if to_unit is not None else None,
        business_date=request.business_date,
        posted_by=request.posted_by,
        supplier=request.supplier,
        reference=request.reference,
        reason=request.reason,
    )
    session.add(posting)
    session.flush()
    items = [item for _, item in resolved]
    if request.kind is StockKind.COUNT:
        lines, deltas = _post_count(session, company, posting, items)
        except_count: int | None = posting.id
    else:
        lines, deltas = _post_flow(session, company, posting, items, to_unit)
        except_count = None
    absorbed = absorb(session, company.id, deltas, posting_id=posting.id, except_count=except_count)
    if request.kind is StockKind.COUNT and not dry_run:
        _queue_variance(session, company.id, unit.id, request.business_date, request.notify)
    result = StockResult(
        kind=request.kind,
        storage_unit=unit.name,
        to_storage_unit=to_unit.name if to_unit is not None else None,
        business_date=request.business_date,
        posted_by=request.posted_by,
        currency=company.currency,
        lines=lines,
        posting_id=None if dry_run else posting.id,
        absorbed=_named_absorbed(session, absorbed),
        below_zero=_below_zero(session, company.id, deltas, absorbed),
    )
    if request.effect_key and not dry_run:
        effects.record(session, request.effect_key, result.to_json())
    return result


def _queue_variance(
    session: Session, company_id: int, unit_id: int, day: date, notify: Notify | None
) -> None:
    """A count that closes a period (its unit was counted on an earlier day) queues the
    period's variance report, in its own transaction: posted once, whoever posted the count."""
    if any(earlier < day for earlier in count_dates(session, company_id, unit_id)):
        enqueue(session, specs.variance(company_id, unit_id, day, notify=notify))


def _post_count(
    session: Session, company: Company, posting: StockPosting, items: list[_Resolved]
) -> tuple[list[PostedLine], dict[DatedKey, Decimal]]:
    day, unit_id = posting.business_date, posting.storage_unit_id
    before = balances_at(session, company.id, unit_id, [i.ingredient.id for i in items], day)
    session.execute(
        StockCountLine.__table__.insert(),
        [
            {
                "posting_id": posting.id,
                "company_id": company.id,
                "storage_unit_id": unit_id,
                "ingredient_id": item.ingredient.id,
                "business_date": day,
                "counted": item.quantity,
            }
            for item in items
        ],
    )
    rows: list[dict[str, Any]] = []
    lines: list[PostedLine] = []
    deltas: dict[DatedKey, Decimal] = {}
    for item in items:
        balance = before.get(item.ingredient.id, Decimal(0))
        adjustment = item.quantity - balance
        _check_adjustment(item, balance, adjustment)
        lines.append(
            PostedLine(
                item.ingredient.name,
                item.ingredient.base_unit.value,
                item.quantity,
                adjustment,
                costs.value(adjustment, item.ingredient.cost),
            )
        )
        if adjustment == 0:
            continue
        deltas[(unit_id, item.ingredient.id, day)] = adjustment
        rows.append(
            _movement(posting, unit_id, item.ingredient, MovementType.ADJUSTMENT, adjustment)
            | {"count_id": posting.id}
        )
    insert_movements(session, rows)
    return lines, deltas


def _check_adjustment(item: _Resolved, balance: Decimal, adjustment: Decimal) -> None:
    """A count's adjustment is a movement like any other, held to the one quantity range
    (``quantity_problem``); it is counted − balance, and a balance of many postings may lie
    beyond that range, which no movement can hold (nor SQLite store)."""
    if quantity_problem(adjustment) is None:
        return
    ingredient, unit = item.ingredient.name, item.ingredient.base_unit.value
    raise ValidationFailed(
        f"counting {figure(item.quantity)} {unit} of {ingredient} against its balance "
        f"of {figure(balance)} {unit} would post an adjustment of "
        f"{figure(adjustment)} {unit}, more than a movement can hold ({QUANTITY_RANGE})"
        f". Correct the postings behind that balance first (`/ledger why {ingredient}`, "
        "`/stock correct N`); nothing was posted"
    )


def _post_flow(
    session: Session,
    company: Company,
    posting: StockPosting,
    items: list[_Resolved],
    to_unit: StorageUnit | None,
) -> tuple[list[PostedLine], dict[DatedKey, Decimal]]:
    """Receipts, waste and moves: quantities that flow in or out (a move: both legs)."""
    unit_id, day = posting.storage_unit_id, posting.business_date
    legs: list[tuple[int, MovementType, int]] = {
        StockKind.RECEIPT: [(unit_id, MovementType.RECEIPT, 1)],
        StockKind.WASTE: [(unit_id, MovementType.WASTE, -1)],
        StockKind.MOVE: [
            (unit_id, MovementType.TRANSFER_OUT, -1),
            (to_unit.id if to_unit else 0, MovementType.TRANSFER_IN, 1),
        ],
    }[posting.kind]
    rows: list[dict[str, Any]] = []
    deltas: dict[DatedKey, Decimal] = {}
    lines: list[PostedLine] = []
    for item in items:
        for leg_unit, kind, sign in legs:
            quantity = sign * item.quantity
            row = _movement(posting, leg_unit, item.ingredient, kind, quantity)
            if kind is MovementType.RECEIPT and item.unit_cost is not None:
                row["unit_cost"] = item.unit_cost
            rows.append(row)
            key = (leg_unit, item.ingredient.id, day)
            deltas[key] = deltas.get(key, Decimal(0)) + quantity
        if posting.kind is StockKind.RECEIPT and item.unit_cost is not None:
            costs.receive(item.ingredient, item.unit_cost)
        lines.append(
            PostedLine(
                item.ingredient.name,
                item.ingredient.base_unit.value,
                item.quantity,
                value=costs.value(item.quantity, item.unit_cost or item.ingredient.cost),
            )
        )
    insert_movements(session, rows)
    return lines, deltas


def _movement(
    posting: StockPosting,
    unit_id: int,
    ingredient: Ingredient,
    kind: MovementType,
    quantity: Decimal,
) -> dict[str, Any]:
    return {
        "company_id": posting.company_id,
        "storage_unit_id": unit_id,
        "ingredient_id": ingredient.id,
        "type": kind,
        "quantity": quantity,
        "business_date": posting.business_date,
        "posting_id": posting.id,
    }


def correct(
    factory: sessionmaker[Session],
    company_id: int,
    posting_id: int,
    posted_by: str,
    reason: str | None = None,
    effect_key: str | None = None,
) -> StockResult:
    """Reverse a whole posting (never edit it): a new posting of the negated movements. A
    corrected count stops being a count; what it fixed passes to the next count, if any.
    ``effect_key``: as ``StockRequest.effect_key`` (the same correction asked again returns
    the first one's result)."""
    if not 0 < posting_id <= MAX_ID:
        raise NotFound(f"no stock posting {posting_id}")
    with unit_of_work(factory) as session:
        if effect_key and (earlier := effects.take(session, effect_key, company_id)):
            return replace(StockResult.from_json(earlier), again=True)
        original = session.get(StockPosting, posting_id)
        if original is None or original.company_id != company_id:
            raise NotFound(f"no stock posting {posting_id}")
        if original.kind is StockKind.CORRECTION:
            raise ValidationFailed(
                f"posting {posting_id} is itself a correction; post the movement again instead"
            )
        problems: list[Problem] = []
        _in_use(
            session,
            session.get_one(StorageUnit, original.storage_unit_id),
            (
                None
                if original.to_storage_unit_id is None
                else session.get_one(StorageUnit, original.to_storage_unit_id)
            ),
            exclusive=True,
            problems=problems,
            then=f"first, then `/stock correct {posting_id}` again",
        )
        done = session.scalar(select(StockPosting.id).where(StockPosting.reverses_id == posting_id))
        if done is not None:
            raise ValidationFailed(f"posting {posting_id} was already corrected by {done}")
        if problems:
            # As any posting: a correction's movements go into the units of the posting.
            refused = "; ".join(problem.message for problem in problems)
            raise ValidationFailed(f"posting {posting_id} cannot be corrected: {refused}")
        correction = StockPosting(
            company_id=company_id,
            kind=StockKind.CORRECTION,
            storage_unit_id=original.storage_unit_id,
            to_storage_unit_id=original.to_storage_unit_id,
            business_date=original.business_date,
            posted_by=posted_by,
            reason=reason,
            reverses_id=original.id,
        )
        session.add(correction)
        session.flush()
        if original.kind is StockKind.COUNT:
            deltas = reverse_movements(session, correction, count_movements(original.id))
        else:
            deltas = reverse_movements(session, correction, own_movements(original.id))
        absorbed = absorb(
            session, company_id, deltas, posting_id=correction.id, except_count=original.id
        )
        company = session.get_one(Company, company_id)
        result = StockResult(
            kind=StockKind.CORRECTION,
            storage_unit=session.get_one(StorageUnit, original.storage_unit_id).name,
            to_storage_unit=(
                None
                if original.to_storage_unit_id is None
                else session.get_one(StorageUnit, original.to_storage_unit_id).name
            ),
            business_date=original.business_date,
            posted_by=posted_by,
            currency=company.currency,
            lines=_reversed_lines(session, correction.id),
            posting_id=correction.id,
            reverses_id=original.id,
            absorbed=_named_absorbed(session, absorbed),
            below_zero=_below_zero(session, company_id, deltas, absorbed),
        )
        if effect_key:
            effects.record(session, effect_key, result.to_json())
        return result


def _reversed_lines(session: Session, correction_id: int) -> list[PostedLine]:
    rows = session.execute(
        select(StorageUnit.name, Ingredient.name, Ingredient.base_unit, LedgerMovement.quantity)
        .join(StorageUnit, StorageUnit.id == LedgerMovement.storage_unit_id)
        .join(Ingredient, Ingredient.id == LedgerMovement.ingredient_id)
        .where(LedgerMovement.posting_id == correction_id, LedgerMovement.reverses_id.is_not(None))
        .order_by(LedgerMovement.id)
    )
    return [
        PostedLine(f"{ingredient} ({unit_name})", base.value, quantity)
        for unit_name, ingredient, base, quantity in rows
    ]


def _named_absorbed(
    session: Session, absorbed: list[tuple[int, int, int, Decimal]]
) -> list[Absorbed]:
    units, ingredients = _names(
        session, [(unit, ingredient) for _, unit, ingredient, _ in absorbed]
    )
    return [
        Absorbed(
            count_id,
            units[unit],
            ingredients[ingredient].name,
            ingredients[ingredient].base_unit.value,
            quantity,
        )
        for count_id, unit, ingredient, quantity in absorbed
    ]


def _below_zero(
    session: Session,
    company_id: int,
    deltas: Mapping[DatedKey, Decimal],
    absorbed: list[tuple[int, int, int, Decimal]],
) -> list[BelowZero]:
    """The balances a posting lowered (its movements and what later counts absorbed of them,
    netted per unit and ingredient) that are now below zero: one rule for waste, a move's
    source, a correction and a count alike."""
    net: dict[Key, Decimal] = {}
    for (unit, ingredient, _), amount in deltas.items():
        net[(unit, ingredient)] = net.get((unit, ingredient), Decimal(0)) + amount
    for _, unit, ingredient, amount in absorbed:
        net[(unit, ingredient)] = net.get((unit, ingredient), Decimal(0)) + amount
    lowered = [key for key, amount in net.items() if amount < 0]
    below = {
        key: balance
        for key, balance in balances_now(session, company_id, lowered).items()
        if balance < 0
    }
    units, ingredients = _names(session, list(below))
    return sorted(
        (
            BelowZero(
                units[unit],
                ingredients[ingredient].name,
                ingredients[ingredient].base_unit.value,
                balance,
            )
            for (unit, ingredient), balance in below.items()
        ),
        key=lambda item: (item.storage_unit, item.ingredient),
    )


def _names(session: Session, keys: Sequence[Key]) -> tuple[dict[int, str], dict[int, Ingredient]]:
    """The storage units' names and the ingredients of (storage unit, ingredient) keys."""
    if not keys:
        return {}, {}
    wanted = {unit for unit, _ in keys}
    units = dict(
        session.execute(select(StorageUnit.id, StorageUnit.name).where(StorageUnit.id.in_(wanted)))
        .tuples()
        .all()
    )
    ids = {ingredient for _, ingredient in keys}
    ingredients = {
        i.id: i for i in session.scalars(select(Ingredient).where(Ingredient.id.in_(ids)))
    }
    return units, ingredients


def _unit(
    session: Session, company: Company, name: str, place: str, problems: list[Problem]
) -> StorageUnit | None:
    """The unit called ``name`` by the one rule (``lookup.storage_unit_by_name``: case aside,
    the closest names when unknown), or ``None`` with the problem."""
    try:
        return storage_unit_by_name(session, company, name)
    except NotFound as error:
        problems.append(Problem(place, str(error)))
        return None


def _in_use(
    session: Session,
    unit: StorageUnit | None,
    to_unit: StorageUnit | None,
    *,
    exclusive: bool,
    problems: list[Problem],
    then: str = "or use another unit",
) -> tuple[StorageUnit | None, StorageUnit | None]:
    """The posting's units read again under their row locks (``ledger.lock_units``: in id
    order, ``exclusive`` for a count), each ``None`` with its problem when archived. Checked
    before the lock, a unit archived by someone else just then was still in use here, and
    the move went out of an archived unit."""
    places = {"storage_unit": unit, "to": to_unit}
    found = {place: row for place, row in places.items() if row is not None}
    lock_units(session, [row.id for row in found.values()], exclusive=exclusive)
    for place, row in found.items():
        session.refresh(row, ["archived_at"])
        if row.archived_at is not None:
            problems.append(Problem(place, archived_refusal(row.name, then)))
            places[place] = None
    return places["storage_unit"], places["to"]


def _resolve_lines(
    session: Session, company: Company, request: StockRequest, problems: list[Problem]
) -> list[tuple[int | None, _Resolved]]:
    if not request.lines:
        problems.append(Problem("lines", "nothing to post: give at least one ingredient"))
        return []
    by_name = {
        ingredient.name.casefold(): ingredient
        for ingredient in session.scalars(
            select(Ingredient).where(Ingredient.company_id == company.id)
        )
    }
    resolved: list[tuple[int | None, _Resolved]] = []
    seen: dict[int, int | None] = {}
    counting = request.kind is StockKind.COUNT
    for index, line in enumerate(request.lines):
        where = line.line if line.line is not None else index + 1
        ingredient = by_name.get(line.ingredient.strip().casefold())
        if ingredient is None:
            close = difflib.get_close_matches(line.ingredient.strip().casefold(), by_name, n=3)
            hint = (
                f"; did you mean {', '.join(repr(by_name[c].name) for c in close)}?"
                if close
                else "; `stockpot catalog import` adds ingredients"
            )
            unknown = f"unknown ingredient {quoted(line.ingredient)}{hint}"
            problems.append(Problem("ingredient", unknown, where))
            continue
        if not ingredient.active:
            problems.append(Problem("ingredient", f"'{ingredient.name}' is inactive", where))
            continue
        if counting and ingredient.id in seen:
            problems.append(
                Problem(
                    "ingredient",
                    f"'{ingredient.name}' is counted twice (also line {seen[ingredient.id]})",
                    where,
                )
            )
            continue
        seen[ingredient.id] = where
        problem = quantity_problem(line.quantity)
        if problem is None and counting and line.quantity < 0:
            problem = f"a counted quantity cannot be negative, got {figure(line.quantity)}"
        if problem is None and not counting and line.quantity <= 0:
            problem = f"the quantity must be more than 0, got {figure(line.quantity)}"
        if problem is not None:
            problems.append(Problem("quantity", problem, where))
            continue
        try:
            unit = parse_unit(line.unit) if line.unit else ingredient.base_unit
            measures = {measure.unit: measure.amount for measure in ingredient.measures}
            factor = conversion_factor(unit, ingredient.base_unit, measures, ingredient.name)
        except UnitError as error:
            problems.append(Problem("unit", str(error), where))
            continue
        quantity = fraction_to_decimal(to_fraction(line.quantity) * factor)
        problem = _converted_problem(line.quantity, unit, quantity, ingredient, counting)
        if problem is not None:
            problems.append(Problem("quantity", problem, where))
            continue
        unit_cost = None
        if line.unit_cost is not None:
            if request.kind is not StockKind.RECEIPT:
                problems.append(Problem("unit_cost", "only receipts carry a unit cost", where))
                continue
            problem = quantity_problem(line.unit_cost, limits=cost_range(company.currency, unit))
            if problem is None and line.unit_cost < 0:
                problem = f"a unit cost cannot be negative, got {figure(line.unit_cost)}"
            if problem is None:
                unit_cost = quantize(fraction_to_decimal(to_fraction(line.unit_cost) / factor))
                if quantity_problem(unit_cost) is not None:
                    base = ingredient.base_unit
                    problem = (
                        f"{figure(line.unit_cost)} {company.currency} per {unit} is "
                        f"{figure(unit_cost)} {company.currency} per {base} of "
                        f"{ingredient.name}, too large; {cost_range(company.currency, base)}"
                    )
            if problem is not None:
                problems.append(Problem("unit_cost", problem, where))
                continue
        resolved.append((where, _Resolved(ingredient, quantity, unit_cost)))
    return resolved


def _converted_problem(
    given: Decimal, unit: Unit, quantity: Decimal, ingredient: Ingredient, counting: bool
) -> str | None:
    """Why ``given`` ``unit`` of ``ingredient``, ``quantity`` in its base unit, cannot be
    posted, or ``None``: the base unit's quantity is held to the same range as any quantity
    (999999999 kg of basil kept in g is 10¹² g, beyond what SQLite stores), and a receipt,
    waste or move of more than 0 must stay more than 0 once rounded to the stored scale."""
    base = ingredient.base_unit
    if quantity_problem(quantity) is not None:
        return (
            f"{figure(given)} {unit} is {figure(quantity)} {base} of "
            f"{ingredient.name}, too large; {QUANTITY_RANGE}"
        )
    if not counting and quantity == 0:
        return (
            f"{figure(given)} {unit} is less than the smallest quantity of "
            f"{ingredient.name} ({figure(QUANTUM)} {base}, kept to {SCALE} decimal "
            "places); leave it out"
        )
    return None
