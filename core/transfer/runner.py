"""Running a transfer: one location, one business date, one database transaction.

The runner stores the raw sales, the run's log and its movements together, or nothing. A
rerun of a day reverses the live run's movements and posts the new ones in that same
transaction; identical input (same lines, same mappings and recipes) posts nothing and is
reported as unchanged (a preview of such a day says it matches the live run). Two runs of
one day queue on the day's row lock (PostgreSQL) or the database write lock (SQLite), so
they never post concurrently.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, overload

from gmpy2 import mpq
from sqlalchemy import bindparam, case, insert, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core import metrics
from stockpot.core.collector import collector_paused
from stockpot.core.db import (
    CopyBlock,
    copy_blocks,
    ignoring_conflicts,
    insert_ignoring_conflicts,
    on_commit,
    send_together,
    unit_of_work,
    utcnow,
)
from stockpot.core.errors import StockpotError, ValidationFailed
from stockpot.core.exact import fraction_to_decimal
from stockpot.core.jobs import effects
from stockpot.core.ledger import StockLine
from stockpot.core.models import (
    ExternalLocation,
    LedgerMovement,
    MovementType,
    PosItem,
    PosItemKind,
    RawPayload,
    RunKind,
    RunOutcome,
    RunStatus,
    TransferDay,
    TransferRun,
    TransferRunLines,
    TransferSnapshot,
)
from stockpot.core.outage import database_unreachable, described
from stockpot.core.quantities import LIMIT, quantity_problem, range_problem
from stockpot.core.stock.ledger import absorb_runs, reversal
from stockpot.core.transfer.catalog_snapshot import (
    CATALOG_TOKEN,
    CATALOGS,
    Catalog,
    DaySnapshot,
)
from stockpot.core.transfer.engine import EngineResult, StockKey, run_engine
from stockpot.core.transfer.line_store import FORMAT, EncodedLines, encode_lines
from stockpot.core.transfer.lines import LineKind, RawInput, SaleLine, item_problem, stored_name
from stockpot.core.words import figure

log = logging.getLogger(__name__)

ITEM_KIND = {
    LineKind.ITEM: PosItemKind.ITEM,
    LineKind.MODIFIER: PosItemKind.MODIFIER,
    LineKind.MENU_COMPONENT: PosItemKind.MENU,
    LineKind.TOPPING: PosItemKind.TOPPING,
}


class TransferFailed(StockpotError):
    code = "transfer_failed"

    def __init__(self, message: str, run_id: int | None) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass
class TransferReport:
    run_id: int
    location: str
    business_date: date
    kind: RunKind
    outcome: RunOutcome
    generation: int | None
    stats: dict[str, Any]
    unmapped: list[dict[str, Any]]
    movements: Sequence[StockLine] = field(default_factory=list)
    superseded_run_id: int | None = None
    matches_live_run_id: int | None = None
    """A preview of a day whose live run read the same input: posting it would change
    nothing (``None`` otherwise, and for every run that is not a preview)."""

    def to_json(self, *, movements: bool = True) -> dict[str, Any]:
        """The report as JSON; without its ``movements`` (each named) when ``movements`` is
        false."""
        return {
            "run_id": self.run_id,
            "location": self.location,
            "business_date": self.business_date.isoformat(),
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "generation": self.generation,
            "superseded_run_id": self.superseded_run_id,
            "matches_live_run_id": self.matches_live_run_id,
            "stats": self.stats,
            "unmapped": self.unmapped,
            "movements": [movement.to_json() for movement in self.movements] if movements else [],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TransferReport:
        return cls(
            run_id=int(data["run_id"]),
            location=str(data["location"]),
            business_date=date.fromisoformat(data["business_date"]),
            kind=RunKind(data["kind"]),
            outcome=RunOutcome(data["outcome"]),
            generation=data["generation"],
            stats=dict(data["stats"]),
            unmapped=list(data["unmapped"]),
            movements=[StockLine.from_json(m) for m in data["movements"]],
            superseded_run_id=data["superseded_run_id"],
            # Reports recorded before the field existed read as no match.
            matches_live_run_id=data.get("matches_live_run_id"),
        )


LinesReader = Callable[[Session], Sequence[SaleLine]]
"""Reads a day's lines inside the run's own transaction (and takes the locks that reading
them needs): a CSV day rerun from what its imports stored."""


@dataclass(frozen=True)
class TransferRequest:
    """One transfer asked for: which day of which location, from which lines, by whom."""

    location_id: int
    business_date: date
    lines: Sequence[SaleLine]
    raw: RawInput
    kind: RunKind
    triggered_by: str = ""

    @property
    def dry_run(self) -> bool:
        return self.kind is RunKind.DRY_RUN


def run_transfer(
    factory: sessionmaker[Session],
    location_id: int,
    business_date: date,
    lines: Sequence[SaleLine] | LinesReader,
    raw: RawInput,
    *,
    kind: RunKind = RunKind.MANUAL,
    triggered_by: str = "",
    dry_run: bool = False,
    effect_key: str | None = None,
    keep_movements: bool = True,
) -> TransferReport:
    """Transfer one business day of ``lines`` into the ledger (or preview it with ``dry_run``).
    ``lines`` may be a ``LinesReader``, called first in the run's transaction. With
    ``effect_key`` (a job's), an earlier run under that key is reported instead of posting
    again; the report kept under it lists the movements unless ``keep_movements`` is false
    (a migration reads only a day's outcome: naming and storing its 2,000 movements cost
    about a tenth of a migrated day's CPU)."""
    run_kind = RunKind.DRY_RUN if dry_run else kind
    started = time.monotonic()
    try:
        with unit_of_work(factory) as session:
            if effect_key is not None:
                earlier = _earlier(session, effect_key, location_id)
                if earlier is not None:
                    return earlier
            day_lines = lines(session) if callable(lines) else lines
            request = TransferRequest(
                location_id, business_date, day_lines, raw, run_kind, triggered_by
            )
            report = _run(session, request)
            if effect_key is not None:
                effects.record(session, effect_key, report.to_json(movements=keep_movements))
        metrics.transfer_done(
            run_kind.value, report.outcome.value, time.monotonic() - started, len(day_lines)
        )
        return report
    except StockpotError as error:
        log.warning("transfer of location %s for %s refused: %s", location_id, business_date, error)
        record_failed_run(factory, location_id, business_date, run_kind, triggered_by, str(error))
        raise
    except Exception as error:
        unreachable = database_unreachable(error)
        if unreachable is not None:
            # Not this transfer's fault: whoever runs it says the outage (the worker: once per
            # outage, not a traceback per transfer and per attempt to record it).
            log.debug("transfer of location %s for %s: no database", location_id, business_date)
            message = f"the database could not be reached ({described(unreachable)})"
        else:
            log.exception("transfer of location %s for %s failed", location_id, business_date)
            message = f"internal error: {error!r}"
        run_id = record_failed_run(
            factory, location_id, business_date, run_kind, triggered_by, message
        )
        # No run recorded when the database is away: none to name ("run None").
        run = "" if run_id is None else f" (run {run_id})"
        failure = TransferFailed(f"the transfer failed and posted nothing{run}: {message}", run_id)
        # The database gave up on this attempt (a deadlock, a lost connection): the next
        # attempt may well go through.
        failure.transient = unreachable is not None
        raise failure from error


def _earlier(session: Session, key: str, location_id: int) -> TransferReport | None:
    location = session.get(ExternalLocation, location_id)
    if location is None:
        return None
    earlier = effects.take(session, key, location.company_id)
    return TransferReport.from_json(earlier) if earlier else None


def transfer_in_session(
    session: Session,
    location_id: int,
    business_date: date,
    lines: Sequence[SaleLine],
    raw: RawInput,
    *,
    kind: RunKind,
    triggered_by: str = "",
) -> TransferReport:
    """``run_transfer`` inside the caller's transaction, for callers that post several days
    all or nothing (a CSV import). A failure raises and leaves the caller to roll back."""
    request = TransferRequest(location_id, business_date, lines, raw, kind, triggered_by)
    return transfer_days_in_session(session, [request])[0]


def transfer_days_in_session(
    session: Session, requests: Sequence[TransferRequest]
) -> list[TransferReport]:
    """Several days (distinct (location, date) pairs) posted in the caller's transaction as
    one batch: their days locked in one statement, one catalog read, one engine pass per day,
    then one statement per table for the whole batch (snapshots, runs, stored lines, new
    items, reversals, one COPY of the movements). Each day gets the run, stored lines,
    snapshot and movements it would get posted alone, in the same order (the CSV importer's
    test_batch_posts_what_day_by_day_posts). A failure raises and leaves the caller to roll
    back."""
    seen = {(request.location_id, request.business_date) for request in requests}
    if len(seen) != len(requests):
        raise ValueError("a batch of transfers holds one request per (location, date)")
    with collector_paused():
        return _run_batch(session, requests)


@dataclass
class _Plan:
    """What a run starts from: the location, the day it holds locked, the live run."""

    location: ExternalLocation
    storage_unit_id: int
    day: LockedDay | None
    """Locked for the run; ``None`` for a preview, which posts nothing."""
    fingerprint: str | None
    """Lines and catalog digest: equal to the live run's means nothing can have changed."""
    live: TransferRun | None
    """The day's live run; a preview reads it without locking the day, only to compare."""
    encoded: EncodedLines
    """The lines in their canonical order, their digest and what the run stores of them."""
    token: str | None = None
    """The company's catalog token, read once under the day's lock (``None``: not read, or
    a company without one)."""


@dataclass
class _Outcome:
    run: TransferRun
    result: EngineResult | None = None
    """``None`` when the live run's result stands (unchanged input)."""
    catalog: Catalog | None = None
    """The catalog the engine read (names the movements)."""
    snapshot: DaySnapshot | None = None
    """The snapshot the engine read, stored with the batch."""
    matches: TransferRun | None = None
    """A preview's: the live run that read the same input (``_matching``)."""

    @property
    def movements(self) -> dict[StockKey, Decimal]:
        return {} if self.result is None else self.result.movements


def _run(session: Session, request: TransferRequest) -> TransferReport:
    with collector_paused():
        return _run_batch(session, [request])[0]


def _run_batch(session: Session, requests: Sequence[TransferRequest]) -> list[TransferReport]:
    """Plan (lock the days, find the live runs), compute (or recognise unchanged input), post."""
    started = utcnow()
    plans = _plans(session, requests)
    outcomes = [
        _compute(session, request, plan) for request, plan in zip(requests, plans, strict=True)
    ]
    for outcome in outcomes:
        outcome.run.started_at = started
    _record(session, requests, plans, outcomes)
    return [
        _report(request, plan, outcome)
        for request, plan, outcome in zip(requests, plans, outcomes, strict=True)
    ]


def _report(request: TransferRequest, plan: _Plan, outcome: _Outcome) -> TransferReport:
    run = outcome.run
    return TransferReport(
        run_id=run.id,
        location=plan.location.name,
        business_date=request.business_date,
        kind=request.kind,
        outcome=run.outcome,
        generation=run.generation,
        stats=run.stats,
        unmapped=run.unmapped,
        movements=(
            [] if outcome.catalog is None else NamedMovements(outcome.catalog, outcome.movements)
        ),
        superseded_run_id=(
            plan.live.id if plan.live and run.outcome is RunOutcome.POSTED else None
        ),
        matches_live_run_id=outcome.matches.id if outcome.matches else None,
    )


def _plans(session: Session, requests: Sequence[TransferRequest]) -> list[_Plan]:
    located = []
    for request in requests:
        location = session.get(ExternalLocation, request.location_id)
        if location is None:
            raise ValidationFailed(f"no location with id {request.location_id}")
        located.append(location)
    posted = [
        (location, request.business_date)
        for location, request in zip(located, requests, strict=True)
        if not request.dry_run
    ]
    days, tokens = _lock_days(session, posted)
    lives = _live_runs(session, [day.live_run_id for day in days.values()])
    plans = []
    for location, request in zip(located, requests, strict=True):
        storage_unit_id = location.storage_unit_id
        if storage_unit_id is None:
            raise ValidationFailed(
                f"location '{location.name}' has no storage unit linked; link one before "
                "transferring its sales"
            )
        _check_quantities(request.lines)
        encoded = encode_lines(request.lines)
        day = days.get((location.id, request.business_date))
        if day is None:
            live = _unlocked_live_run(session, location.id, request.business_date)
            plans.append(_Plan(location, storage_unit_id, None, None, live, encoded))
            continue
        token = tokens[location.company_id]
        live = None if day.live_run_id is None else lives[day.live_run_id]
        fingerprint = (
            None if token is None else _sha256(f"{encoded.digest}/{token}/{storage_unit_id}")
        )
        plans.append(_Plan(location, storage_unit_id, day, fingerprint, live, encoded, token))
    return plans


def _live_runs(session: Session, run_ids: Sequence[int | None]) -> dict[int, TransferRun]:
    wanted = sorted({run_id for run_id in run_ids if run_id is not None})
    if not wanted:
        return {}
    return {
        run.id: run
        for run in session.scalars(select(TransferRun).where(TransferRun.id.in_(wanted)))
    }


def _unlocked_live_run(
    session: Session, location_id: int, business_date: date
) -> TransferRun | None:
    """A previewed day's live run, read without locking or creating the day's row: a preview
    posts nothing, so it neither waits for a run of the day nor holds one up."""
    live_run_id = session.scalar(
        select(TransferDay.live_run_id).where(
            TransferDay.location_id == location_id, TransferDay.business_date == business_date
        )
    )
    return None if live_run_id is None else session.get(TransferRun, live_run_id)


def _compute(session: Session, request: TransferRequest, plan: _Plan) -> _Outcome:
    """The run's result: the live run's when nothing changed (known from the fingerprint
    before the catalog is read, else from the content hash), otherwise the engine's. A
    preview always gets the engine's (it shows the deductions), noting a live run that read
    the same input."""
    location, live = plan.location, plan.live
    run = TransferRun(
        company_id=location.company_id,
        location_id=location.id,
        business_date=request.business_date,
        kind=request.kind,
        status=RunStatus.SUCCEEDED,
        triggered_by=request.triggered_by,
        input_fingerprint=plan.fingerprint,
    )
    known = _matching(live, run)  # before the catalog is read: by the fingerprint
    if known is not None:
        _unchanged(run, known)
        return _Outcome(run)
    lines = plan.encoded.lines
    catalog = (
        CATALOGS.get(session, location.company_id, location.connection_id)
        if plan.day is None
        else CATALOGS.for_token(session, location.company_id, location.connection_id, plan.token)
    )
    day = catalog.cut((line.key for line in lines), plan.storage_unit_id)
    run.content_hash = _sha256(f"{plan.encoded.digest}/{day.digest}")
    run.snapshot_digest = day.digest
    matches = _matching(live, run)
    if matches is not None and plan.day is not None:
        _unchanged(run, matches)
        return _Outcome(run)
    result = run_engine(lines, day.snapshot, plan.storage_unit_id, day.tree)
    _check_movements(catalog, result)
    run.stats = result.stats
    run.unmapped = [item.to_json() for item in result.unmapped]
    run.skipped = [line.to_json() for line in result.skipped]
    if plan.day is None:
        run.outcome = RunOutcome.PREVIEW
    else:
        run.outcome = RunOutcome.POSTED
        run.generation = plan.day.generation + 1
    return _Outcome(run, result, catalog, day, matches)


def _store_snapshots(session: Session, outcomes: Sequence[_Outcome]) -> None:
    """Each distinct snapshot's text, once for every run that reads the same one, and not
    at all when the catalog knows it is stored."""
    rows: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        day, catalog = outcome.snapshot, outcome.catalog
        if day is None or catalog is None or day.digest in catalog.snapshots:
            continue
        if day.digest not in rows:
            company_id = outcome.run.company_id
            rows[day.digest] = {"digest": day.digest, "company_id": company_id, "body": day.text}
            on_commit(session, partial(catalog.snapshots.add, day.digest))
    insert_ignoring_conflicts(
        session, TransferSnapshot.__table__, list(rows.values()), index_elements=["digest"]
    )


def _record(
    session: Session,
    requests: Sequence[TransferRequest],
    plans: Sequence[_Plan],
    outcomes: Sequence[_Outcome],
) -> None:
    """Log the runs; the posted ones also store their input, reverse their live runs and
    post their movements, and become their days' live runs."""
    _store_snapshots(session, outcomes)
    for outcome in outcomes:
        outcome.run.finished_at = utcnow()
    session.add_all([outcome.run for outcome in outcomes])
    session.flush()
    posted = [
        (request, plan, outcome)
        for request, plan, outcome in zip(requests, plans, outcomes, strict=True)
        if outcome.run.outcome is RunOutcome.POSTED
    ]
    if not posted:
        return
    _post(session, posted)


def _check_quantities(lines: Sequence[SaleLine]) -> None:
    """Every source's lines (a POS's answer, a CSV file) meet the one quantity rule before
    anything is stored; a day's lines repeat few distinct quantities."""
    seen: set[Decimal] = set()
    for line in lines:
        if line.quantity in seen:
            continue
        problem = quantity_problem(line.quantity)
        if problem is not None:
            raise ValidationFailed(
                f"sale {line.sale_id}, line {line.line_id} ({line.name}): the quantity "
                f"{problem}; nothing was posted"
            )
        seen.add(line.quantity)


PLAINLY_INSIDE = mpq(int(LIMIT) - 1)
"""A deduction within this is a movement within the quantity limit: rounding to the stored
scale moves it by less than a unit."""


def _check_movements(catalog: Catalog, result: EngineResult) -> None:
    """Every movement meets the quantity rule. The engine rounds them to the stored scale, so
    only their size can break it: a deduction plainly inside it is not rounded here (the
    movements COPY rounds each as it sends it), the rule itself runs for any other."""
    for (_, ingredient_id), deduction in result.deductions.items():
        if -PLAINLY_INSIDE < deduction < PLAINLY_INSIDE:
            continue
        quantity = fraction_to_decimal(-deduction)
        problem = range_problem(quantity)
        if problem is not None:
            name = catalog.ingredients[ingredient_id][0]
            raise ValidationFailed(
                f"the day would post {figure(quantity)} of {name}, which {problem}. Check the "
                "sold quantities and the mapping factors; nothing was posted"
            )


@dataclass(frozen=True, slots=True)
class LockedDay:
    """A day's row as its run locked it (``DAYS_LOCKED``'s columns)."""

    location_id: int
    business_date: date
    generation: int
    live_run_id: int | None


def _lock_days(
    session: Session, days: Sequence[tuple[ExternalLocation, date]]
) -> tuple[dict[tuple[int, date], LockedDay], dict[int, str | None]]:
    """The days' rows, created if missing and locked, in key order (two batches meeting on
    the same days wait for each other instead of deadlocking), and their companies' catalog
    tokens read under the locks: one round trip (``send_together``)."""
    if not days:
        return {}, {}
    keys = sorted({(location.id, when): location.company_id for location, when in days}.items())
    companies = sorted({company_id for _, company_id in keys})
    chunks = _chunks([key for key, _ in keys], LOCK_CHUNK)
    new_days = [
        {"location_id": location_id, "business_date": when, "company_id": company, "generation": 0}
        for (location_id, when), company in keys
    ]
    _, *read = send_together(
        session,
        [
            (ignoring_conflicts(session, TransferDay.__table__, DAY_KEY), new_days),
            *((DAYS_LOCKED, {"days": chunk}) for chunk in chunks),
            *((CATALOG_TOKEN, {"company": company_id}) for company_id in companies),
        ],
    )
    locked, tokens = read[: len(chunks)], read[len(chunks) :]
    found = {(row[0], row[1]): LockedDay(*row) for rows in locked for row in rows}
    return found, {company: rows[0][0] for company, rows in zip(companies, tokens, strict=True)}


DAY_KEY = ["location_id", "business_date"]
DAYS_LOCKED = (
    select(
        TransferDay.location_id,
        TransferDay.business_date,
        TransferDay.generation,
        TransferDay.live_run_id,
    )
    .where(
        tuple_(TransferDay.location_id, TransferDay.business_date).in_(
            bindparam("days", expanding=True)
        )
    )
    .order_by(TransferDay.location_id, TransferDay.business_date)
    .with_for_update()
)
"""Built once: building it per run (a condition per day) cost more than its round trip."""

LOCK_CHUNK = 200
"""Days locked per statement (a batch of a year of days stays a few statements)."""


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _matching(live: TransferRun | None, run: TransferRun) -> TransferRun | None:
    """The live run when ``run`` reads the same input as it (posting would change nothing):
    the same lines against the same catalog (the fingerprint, known before the catalog is
    read) or the same lines against the same cut of it (the content hash). The one rule for
    reruns and previews alike."""
    if live is None:
        return None
    if run.input_fingerprint and live.input_fingerprint == run.input_fingerprint:
        return live
    if run.content_hash and live.content_hash == run.content_hash:
        return live
    return None


def _unchanged(run: TransferRun, live: TransferRun) -> None:
    run.outcome = RunOutcome.UNCHANGED
    run.content_hash, run.snapshot_digest = live.content_hash, live.snapshot_digest
    run.stats = {**live.stats, "movements": 0, "unchanged_from_run": live.id}
    run.unmapped, run.skipped = live.unmapped, live.skipped


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


Posted = tuple[TransferRequest, _Plan, _Outcome]


def _post(session: Session, posted: Sequence[Posted]) -> None:
    """Reverse the live runs, COPY the new movements, store the posted runs' input and
    register new items: one statement each for the whole batch. The input's rows are made
    while PostgreSQL inserts the movements (``copy_blocks``'s ``meanwhile``)."""
    now = utcnow()
    replaced = {plan.live.id: outcome.run.id for _, plan, outcome in posted if plan.live}
    _reverse(session, replaced, now)
    for _, plan, outcome in posted:
        if plan.live is not None:
            plan.live.status = RunStatus.SUPERSEDED
            plan.live.superseded_by_id = outcome.run.id
    inputs: list[_Inputs] = []
    copy_blocks(
        session,
        LedgerMovement.__table__,
        MOVEMENT_NUMBERS,
        MOVEMENT_SHARED,
        _movement_blocks(posted),
        meanwhile=lambda: inputs.append(_inputs(session, posted, now)),
    )
    stored = inputs[0]
    # In key order: transfers of a connection's locations run at once and meet on the same
    # new items; inserting in one order makes the later wait for the earlier instead of
    # deadlocking with it.
    insert_ignoring_conflicts(
        session, PosItem.__table__, stored.items, index_elements=["connection_id", "key"]
    )
    # A count after a day fixes its balances: it absorbs what the day's run changed. With
    # nothing reversed, the units written are those of the new movements, known here. The
    # input and the days' new live runs are sent with its statements: one round trip.
    absorb_runs(
        session,
        [
            (plan.location.company_id, outcome.run.id, outcome.run.business_date)
            for _, plan, outcome in posted
        ],
        None if replaced else {unit for _, _, outcome in posted for unit, _ in outcome.movements},
        alongside=[
            (PAYLOADS_STORED, stored.payloads),
            (LINES_STORED, stored.lines),
            (DAY_POSTED, [_day_posted(plan, outcome.run) for _, plan, outcome in posted]),
        ],
    )


def _day_posted(plan: _Plan, run: TransferRun) -> dict[str, Any]:
    """The day's row names the posted run as live: ``DAY_POSTED``'s values."""
    day = plan.day
    assert day is not None
    return {
        "day_location": day.location_id,
        "day_date": day.business_date,
        "day_generation": run.generation or 0,
        "day_run": run.id,
    }


# Core inserts, not ORM objects: nothing reads these rows back in the run, and the unit of
# work's bookkeeping of two objects cost about 1 ms of a 2,000-line run.
PAYLOADS_STORED = insert(RawPayload.__table__)
LINES_STORED = insert(TransferRunLines.__table__)
DAY_POSTED = (
    update(TransferDay.__table__)
    .where(
        TransferDay.location_id == bindparam("day_location"),
        TransferDay.business_date == bindparam("day_date"),
    )
    .values(generation=bindparam("day_generation"), live_run_id=bindparam("day_run"))
)


@dataclass
class _Inputs:
    """What posted runs store beside their movements: their raw payloads, their lines (the
    compressed canonical text) and the items first seen in them, as rows."""

    payloads: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    items: list[dict[str, Any]]


def _inputs(session: Session, posted: Sequence[Posted], now: Any) -> _Inputs:
    return _Inputs(
        payloads=[
            {"run_id": outcome.run.id, "source": request.raw.source, "body": request.raw.body}
            for request, _, outcome in posted
        ],
        lines=[
            {
                "run_id": outcome.run.id,
                "layout": FORMAT,
                "count": len(plan.encoded.lines),
                "body": plan.encoded.body,
            }
            for _, plan, outcome in posted
        ],
        items=_new_items(session, posted, now),
    )


MOVEMENT_NUMBERS = ("storage_unit_id", "ingredient_id", "quantity")
MOVEMENT_SHARED = ("company_id", "type", "business_date", "run_id")
"""Without ``created_at``: PostgreSQL stamps the transaction's time (its column default), so
the COPY does not send a timestamp for each row to be parsed; SQLite's insert applies the
model's default."""
MOVEMENT_COLUMNS = (*MOVEMENT_NUMBERS, *MOVEMENT_SHARED)


def _movement_blocks(posted: Sequence[Posted]) -> Iterator[CopyBlock]:
    """The posted runs' movements, a block per run: what is the same for the whole run (its
    company, date and id: ORM attributes, slow to read) is read and written once."""
    issue = MovementType.ISSUE.value
    for _, plan, outcome in posted:
        run, result = outcome.run, outcome.result
        assert result is not None
        yield CopyBlock(
            ((*key, quantity) for key, quantity in result.rounded()),
            (plan.location.company_id, issue, run.business_date, run.id),
        )


def _new_items(session: Session, posted: Sequence[Posted], now: Any) -> list[dict[str, Any]]:
    """Rows of the items first seen in sales, in key order: they join the catalog, so
    unmapped ones can be mapped (named by the first line that brings them, in the batch's
    order). The catalog each run read knows its connection's item keys (``Catalog.items``):
    only keys it does not know are inserted, and ones another transaction inserted meanwhile
    are left as they are (``_post``)."""
    unknown: dict[int, set[str]] = {}
    for _, plan, outcome in posted:
        assert outcome.result is not None and outcome.catalog is not None
        known = outcome.catalog.items
        new_here = {key for key in outcome.result.item_quantities if key not in known}
        if new_here:  # its catalog knows them once they are committed
            on_commit(session, partial(known.update, new_here))
        unknown.setdefault(plan.location.connection_id, set()).update(new_here)
    new: dict[tuple[int, str], dict[str, Any]] = {}
    for _, plan, _outcome in posted:
        location = plan.location
        connection_id = location.connection_id
        wanted = unknown[connection_id]
        if not wanted:  # nearly every day: its unmapped items were seen before
            continue
        for line in plan.encoded.lines:
            key = line.key
            if key not in wanted or (connection_id, key) in new:
                continue
            problem = item_problem(key, line.pos_code, line.name)
            if problem is not None:
                raise ValidationFailed(
                    f"sale {line.sale_id}, line {line.line_id}: {problem}, then transfer the "
                    "day again; nothing was posted"
                )
            new[(connection_id, key)] = {
                "company_id": location.company_id,
                "connection_id": connection_id,
                "key": key,
                "external_id": line.pos_code,
                "name": stored_name(line.name),
                "kind": ITEM_KIND.get(line.kind, PosItemKind.ITEM),
                "first_seen_in_sales_at": now,
                "created_at": now,
            }
    return [new[key] for key in sorted(new)]


def _reverse(session: Session, replaced: dict[int, int], now: Any) -> None:
    """Post the negation of every movement the live runs posted (not their own reversals),
    each under the run that replaces its run: ``replaced`` maps live run → new run."""
    if not replaced:
        return
    run_id = LedgerMovement.__table__.c.run_id
    new_run = next(iter(replaced.values())) if len(replaced) == 1 else case(replaced, value=run_id)
    session.execute(reversal(run_id.in_(sorted(replaced)), "run_id", new_run, now))


class NamedMovements(Sequence[StockLine]):
    """A run's movements named from the catalog it read, by storage unit and ingredient,
    when first read (a migration posts ninety days and reads none of their names); their
    count is known without naming them."""

    def __init__(self, catalog: Catalog, movements: dict[StockKey, Decimal]) -> None:
        self._catalog = catalog
        self._movements = movements
        self._lines: list[StockLine] | None = None

    def __len__(self) -> int:
        return len(self._movements)

    @overload
    def __getitem__(self, index: int) -> StockLine: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[StockLine]: ...
    def __getitem__(self, index: int | slice) -> StockLine | Sequence[StockLine]:
        return self._named()[index]

    def __iter__(self) -> Iterator[StockLine]:
        return iter(self._named())

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same lines (a report read back from JSON holds a
        list)."""
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._named() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def _named(self) -> list[StockLine]:
        if self._lines is None:
            catalog = self._catalog
            self._lines = sorted(
                (
                    StockLine(
                        catalog.storage_units[unit_id],
                        catalog.ingredients[ingredient_id][0],
                        catalog.ingredients[ingredient_id][1].value,
                        quantity,
                    )
                    for (unit_id, ingredient_id), quantity in self._movements.items()
                ),
                key=lambda m: (m.storage_unit, m.ingredient),
            )
        return self._lines


def record_failed_run(
    factory: sessionmaker[Session],
    location_id: int,
    business_date: date,
    kind: RunKind,
    triggered_by: str,
    message: str,
) -> int | None:
    """Log the failed attempt in its own transaction; the failed one left nothing behind."""
    try:
        with unit_of_work(factory) as session:
            location = session.get(ExternalLocation, location_id)
            if location is None:
                return None
            run = TransferRun(
                company_id=location.company_id,
                location_id=location_id,
                business_date=business_date,
                kind=kind,
                status=RunStatus.FAILED,
                triggered_by=triggered_by,
                errors=[message],
                finished_at=utcnow(),
            )
            session.add(run)
            session.flush()
            return run.id
    except Exception as error:
        if database_unreachable(error) is None:
            log.exception("could not record the failed transfer of location %s", location_id)
        else:  # the outage the transfer met: said by whoever runs it
            log.debug("could not record the failed transfer of location %s", location_id)
        return None
