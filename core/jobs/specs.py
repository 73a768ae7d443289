"""What each kind of job is queued with, and the keys that make queueing it idempotent.

One place for every key format: a manual transfer of a day is pending once, a location
migrates once at a time, a connection syncs once at a time, and the scheduler's automatic
transfer of a day and a company's report of a day are queued once ever.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from stockpot.core.jobs.queue import BULK, INTERACTIVE, SCHEDULED, JobSpec
from stockpot.core.models import JobKind, RunKind


class Notify(BaseModel):
    """Where a job reports: a Slack channel (and who asked, to mention them)."""

    team_id: str
    channel_id: str
    user_id: str | None = None
    message_ts: str | None = None
    """A message of the bot's to update with the result instead of posting a new one (a
    preview whose **Post to ledger** was pressed)."""


class JobPayload(BaseModel):
    """What a job of one kind is queued with: written here, read by its handler with
    ``payload_of`` (stored as JSON; fields added later have defaults so queued jobs still
    read)."""

    model_config = ConfigDict(frozen=True)

    notify: Notify | None = None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class TransferPayload(JobPayload):
    run_kind: RunKind = RunKind.MANUAL
    dry_run: bool = False
    triggered_by: str = ""


class MigrationPayload(JobPayload):
    days: int = 90
    triggered_by: str = ""


class ReprocessPayload(JobPayload):
    days: list[tuple[int, date]]
    """(location id, business date), oldest first."""
    what: str = "the change"
    triggered_by: str = ""


class SyncPayload(JobPayload):
    triggered_by: str = ""


class ReportPayload(JobPayload):
    pass


class VariancePayload(JobPayload):
    storage_unit_id: int


class CsvImportPayload(JobPayload):
    file_id: str
    default_date: date | None = None
    valid_only: bool = False
    force: bool = False
    thread_ts: str | None = None
    triggered_by: str = ""


class CsvPreviewPayload(JobPayload):
    file_id: str
    name: str = ""
    thread_ts: str | None = None
    default_date: date | None = None


class CsvUndoPayload(JobPayload):
    import_id: int
    thread_ts: str | None = None
    triggered_by: str = ""


class MissedDaysPayload(JobPayload):
    first: date
    last: date
    days: int
    """How many days from ``first`` to ``last`` are not transferred."""


class AnswerPayload(JobPayload):
    body: dict[str, Any]
    """The Slack request as Bolt parsed it (a command's form, an interaction's payload),
    without Slack's legacy verification token."""


PAYLOADS: dict[JobKind, type[JobPayload]] = {
    JobKind.TRANSFER: TransferPayload,
    JobKind.MIGRATION: MigrationPayload,
    JobKind.SYNC: SyncPayload,
    JobKind.REPORT: ReportPayload,
    JobKind.VARIANCE: VariancePayload,
    JobKind.REPROCESS: ReprocessPayload,
    JobKind.CSV_IMPORT: CsvImportPayload,
    JobKind.CSV_PREVIEW: CsvPreviewPayload,
    JobKind.CSV_UNDO: CsvUndoPayload,
    JobKind.ANSWER: AnswerPayload,
    JobKind.MISSED_DAYS: MissedDaysPayload,
}
"""Every job kind's payload model (tests/core/jobs check that none is missing)."""

Payload = TypeVar("Payload", bound=JobPayload)


def payload_of(model: type[Payload], payload: dict[str, Any]) -> Payload:
    """A queued job's payload, read as ``model``."""
    return model.model_validate(payload)


def notify_of(payload: dict[str, Any]) -> Notify | None:
    """Where any job reports (every payload may carry it)."""
    return JobPayload.model_validate({"notify": payload.get("notify")}).notify


def automatic_transfer_key(location_id: int, day: date) -> str:
    return f"{automatic_transfers_of(location_id)}{day.isoformat()}"


def automatic_transfers_of(location_id: int) -> str:
    """What the ``once_key`` of every automatic transfer of the location starts with."""
    return f"auto-transfer:{location_id}:"


def missed_days(
    company_id: int, location_id: int, skipped: tuple[date, date], payload: MissedDaysPayload
) -> JobSpec:
    """The offer of the days the scheduler skipped (``skipped``: the range it did not queue
    itself) that are not transferred: one job ever per range, whichever scheduler sees it."""
    first, last = skipped
    return JobSpec(
        kind=JobKind.MISSED_DAYS,
        company_id=company_id,
        location_id=location_id,
        business_date=last,
        payload=payload.dump(),
        once_key=f"missed-days:{location_id}:{first.isoformat()}:{last.isoformat()}",
        priority=SCHEDULED,
    )


def transfer(
    company_id: int,
    location_id: int,
    day: date,
    *,
    run_kind: RunKind,
    triggered_by: str,
    dry_run: bool = False,
    notify: Notify | None = None,
) -> JobSpec:
    automatic = run_kind is RunKind.AUTOMATIC
    return JobSpec(
        kind=JobKind.TRANSFER,
        company_id=company_id,
        location_id=location_id,
        business_date=day,
        payload=TransferPayload(
            notify=notify, run_kind=run_kind, dry_run=dry_run, triggered_by=triggered_by
        ).dump(),
        dedupe_key=f"transfer:{location_id}:{day.isoformat()}:{'preview' if dry_run else 'post'}",
        once_key=(
            automatic_transfer_key(location_id, day)
            if automatic
            else offer_key("transfer-post", notify)
        ),
        priority=SCHEDULED if automatic else INTERACTIVE,
    )


def migration(
    company_id: int,
    location_id: int,
    days: int,
    *,
    triggered_by: str,
    notify: Notify | None = None,
) -> JobSpec:
    return JobSpec(
        kind=JobKind.MIGRATION,
        company_id=company_id,
        location_id=location_id,
        payload=MigrationPayload(notify=notify, days=days, triggered_by=triggered_by).dump(),
        dedupe_key=f"migration:{location_id}",
        priority=BULK,
    )


def reprocess(
    company_id: int,
    days: list[tuple[int, date]],
    *,
    what: str,
    triggered_by: str,
    notify: Notify | None = None,
) -> JobSpec:
    """Rerun ``days`` (location id, business date) in date order, as one job: one message
    that advances and ends in a summary (``what``: the change, e.g. the item's name)."""
    ordered = sorted(days, key=lambda day: (day[1], day[0]))
    return JobSpec(
        kind=JobKind.REPROCESS,
        company_id=company_id,
        payload=ReprocessPayload(
            notify=notify, days=ordered, what=what, triggered_by=triggered_by
        ).dump(),
        priority=INTERACTIVE,
    )


def sync(
    company_id: int, connection_id: int, *, triggered_by: str, notify: Notify | None = None
) -> JobSpec:
    return JobSpec(
        kind=JobKind.SYNC,
        company_id=company_id,
        connection_id=connection_id,
        payload=SyncPayload(notify=notify, triggered_by=triggered_by).dump(),
        dedupe_key=f"sync:{connection_id}",
        priority=INTERACTIVE,
    )


def report(company_id: int, day: date, *, notify: Notify | None = None) -> JobSpec:
    """A company's daily report of ``day``; with ``notify`` it was asked for, not scheduled."""
    key = f"report:{company_id}:{day.isoformat()}"
    return JobSpec(
        kind=JobKind.REPORT,
        company_id=company_id,
        business_date=day,
        payload=ReportPayload(notify=notify).dump(),
        dedupe_key=key,
        once_key=None if notify else key,
        priority=INTERACTIVE if notify else SCHEDULED,
    )


def variance(
    company_id: int, storage_unit_id: int, day: date, *, notify: Notify | None = None
) -> JobSpec:
    """The variance report of the period a count of ``day`` closed (queued with the count, in
    its transaction; pages of one count sheet posted before it runs make one report)."""
    return JobSpec(
        kind=JobKind.VARIANCE,
        company_id=company_id,
        business_date=day,
        payload=VariancePayload(notify=notify, storage_unit_id=storage_unit_id).dump(),
        dedupe_key=f"variance:{company_id}:{storage_unit_id}:{day.isoformat()}",
        once_key=None,
        priority=INTERACTIVE if notify else SCHEDULED,
    )


def offer_key(what: str, notify: Notify | None) -> str | None:
    """One job ever per offer message: a button whose work was started from a message (an
    Import on a CSV preview, a Post to ledger on a transfer preview) is spent, so a stale copy
    of it, or a double click, queues nothing more. ``None`` when the work was not started
    from a message."""
    if notify is None or not notify.message_ts:
        return None
    return f"{what}:{notify.team_id}:{notify.channel_id}:{notify.message_ts}"


def csv_import(
    company_id: int,
    connection_id: int,
    file_id: str,
    *,
    default_date: date | None,
    valid_only: bool,
    force: bool,
    thread_ts: str | None,
    triggered_by: str,
    notify: Notify,
) -> JobSpec:
    """Import a file shared in Slack (read again from Slack by the worker)."""
    return JobSpec(
        kind=JobKind.CSV_IMPORT,
        company_id=company_id,
        connection_id=connection_id,
        payload=CsvImportPayload(
            notify=notify,
            file_id=file_id,
            default_date=default_date,
            valid_only=valid_only,
            force=force,
            thread_ts=thread_ts,
            triggered_by=triggered_by,
        ).dump(),
        dedupe_key=f"csv:{company_id}:{notify.team_id}:{file_id}",
        once_key=offer_key("csv-import", notify),
        priority=INTERACTIVE,
        max_attempts=3,
    )


def csv_preview(
    company_id: int,
    file_id: str,
    name: str,
    *,
    thread_ts: str | None,
    connection_id: int | None,
    default_date: date | None,
    notify: Notify,
) -> JobSpec:
    """Read a shared file and post its preview: in the worker, never in the web process
    (a 20 MB file costs tens of MB while it is read)."""
    return JobSpec(
        kind=JobKind.CSV_PREVIEW,
        company_id=company_id,
        connection_id=connection_id,
        payload=CsvPreviewPayload(
            notify=notify,
            file_id=file_id,
            name=name,
            thread_ts=thread_ts,
            default_date=default_date,
        ).dump(),
        dedupe_key=f"csv-preview:{notify.team_id}:{file_id}:{connection_id}:{default_date}",
        priority=INTERACTIVE,
        max_attempts=3,
    )


def csv_undo(
    company_id: int,
    import_id: int,
    *,
    thread_ts: str | None,
    triggered_by: str,
    notify: Notify,
) -> JobSpec:
    return JobSpec(
        kind=JobKind.CSV_UNDO,
        company_id=company_id,
        payload=CsvUndoPayload(
            notify=notify, import_id=import_id, thread_ts=thread_ts, triggered_by=triggered_by
        ).dump(),
        dedupe_key=f"csv-undo:{import_id}",
        priority=INTERACTIVE,
        max_attempts=3,
    )


NOT_STORED = ("token",)
"""Slack's legacy verification token travels in every request; it is never stored."""


def answer(company_id: int, body: dict[str, Any], delivery: str | None = None) -> JobSpec:
    """Answering a Slack request (a slash command's form or an interaction's payload, as
    Bolt parsed it) in a worker. ``delivery``: the request's delivery key
    (``bot.replays.delivery_key``), kept as the job's ``once_key``, so the same delivery sent
    again queues nothing (``core.jobs.queue.enqueue_answers``). Two attempts: the answering
    app reports its own errors (``bot.jobs.answers`` fails a job whose dispatch raised, without
    a retry), so the second attempt is only ever a takeover: the first worker died mid-answer
    and its lease ran out. An answer is then posted late rather than never (or, if the worker
    died between posting and recording, twice)."""
    kept = {key: value for key, value in body.items() if key not in NOT_STORED}
    return JobSpec(
        kind=JobKind.ANSWER,
        company_id=company_id,
        payload=AnswerPayload(body=kept).dump(),
        priority=INTERACTIVE,
        max_attempts=2,
        once_key=answer_key(delivery) if delivery else None,
    )


def answer_key(delivery: str) -> str:
    """An answer job's ``once_key`` (200 characters at most: a longer key is hashed)."""
    key = f"answer:{delivery}"
    return key if len(key) <= 200 else f"answer:{hashlib.sha256(key.encode()).hexdigest()}"
