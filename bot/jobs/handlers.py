"""The job kinds: each runs a core service and tells Slack what came of it."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.blocks.common import context as context_block
from stockpot.bot.blocks.common import escape, message
from stockpot.bot.blocks.jobs import (
    migration_blocks,
    migration_stopped_blocks,
    missed_days_blocks,
    reprocess_blocks,
    reprocess_details,
    reprocess_stopped_blocks,
    sync_failed_blocks,
)
from stockpot.bot.blocks.transfer import failure_blocks, report_blocks
from stockpot.bot.jobs.csv import CsvImportJob, CsvPreviewJob, CsvUndoJob
from stockpot.bot.jobs.progress import ProgressMessage
from stockpot.bot.jobs.report import ReportJob
from stockpot.bot.jobs.slack import Notifier, Reporting, Target
from stockpot.bot.jobs.variance import VarianceJob
from stockpot.bot.metadata import TransferValue
from stockpot.core import ledger
from stockpot.core.access import company_admins
from stockpot.core.errors import StockpotError
from stockpot.core.jobs.effects import job_key
from stockpot.core.jobs.specs import (
    MigrationPayload,
    MissedDaysPayload,
    ReprocessPayload,
    TransferPayload,
    notify_of,
    payload_of,
)
from stockpot.core.jobs.telling import Telling
from stockpot.core.jobs.worker import JobContext, JobHandler
from stockpot.core.migration import MigrationProgress, migrate, plan
from stockpot.core.models import (
    Company,
    Connection,
    ExternalLocation,
    JobKind,
    Provider,
    RunKind,
)
from stockpot.core.pos import connections
from stockpot.core.pos.errors import PosAuthError

log = logging.getLogger(__name__)


def _location(factory: sessionmaker[Session], location_id: int) -> tuple[str, int, Provider]:
    with factory() as session:
        location = session.get_one(ExternalLocation, location_id)
        return location.name, location.connection_id, location.connection.provider


class _Notifying(Reporting):
    def target(self, context: JobContext) -> Target | None:
        return self.notifier.target(context.job.company_id, notify_of(context.job.payload))

    @staticmethod
    def mention(context: JobContext) -> str:
        notify = notify_of(context.job.payload)
        return f"<@{notify.user_id}> " if notify and notify.user_id else ""

    def facts(self, error: Exception) -> dict[str, Any]:
        return {"reconnect": isinstance(error, PosAuthError)}

    def tell_apart(
        self, context: JobContext, key: str, told: dict[str, Any], *, again: bool = True
    ) -> None:
        """Say a failure in a message of its own, kept under ``key``: posted once, and
        updated by the telling of a later failure (after a Retry said "Trying again…" in it),
        or by the result that Retry promised there (``again=False``: said once)."""
        target = self.target(context)
        self.notifier.post_once(context, key, target and target.apart(), told, again=again)

    def cancelled(self, context: JobContext, telling: Telling) -> None:
        """Cancelled on request (while queued, after Retry said "Trying again…"): told as a
        failure is, with Retry, where that note is."""
        self.failed(context, telling)

    def say_stopped(
        self, context: JobContext, stopped: dict[str, Any], key: str = "message_ts"
    ) -> None:
        """A job with a progress message (its ``ts`` under ``key``) that failed for good or
        was cancelled: the progress message says so (no message is left saying work goes
        on), with Retry, whose "Trying again…" the next attempt's progress replaces; without
        one, a message of its own. Updated, not ``post_once``: a progress message marked sent
        is one whose end was shown (``ProgressMessage.ended``), and a retry would do nothing."""
        target = self.notifier.where(context, key, self.target(context))
        ts = context.result.get(key)
        if target is not None and ts:
            self.notifier.update(target, ts, stopped, owed=context.telling is not None)
        else:
            self.tell_apart(context, "stopped_ts", stopped)


class TransferJob(_Notifying):
    """One location-day. A manual transfer reports to where it was asked; an automatic one
    reports only when it fails (the daily report sums up the rest)."""

    def run(self, context: JobContext) -> dict[str, Any]:
        job, payload = context.job, payload_of(TransferPayload, context.job.payload)
        assert job.location_id is not None and job.business_date is not None
        dry_run = payload.dry_run
        report = connections.transfer_day(
            context.factory,
            context.settings,
            job.location_id,
            job.business_date,
            kind=payload.run_kind,
            triggered_by=payload.triggered_by,
            dry_run=dry_run,
            effect_key=job_key(job.id),
        )
        notify = payload.notify
        # A failure said in a message of its own, then Retry ("Trying the transfer again…;
        # the result follows"): the result goes there, else that promise stayed on screen.
        failure_shown = context.result.get("failure_ts")
        if notify is not None or failure_shown:
            with context.factory() as session:  # the largest deductions are ranked by money
                priced = ledger.valued(session, job.location_id, report.movements)
            report.movements = priced.lines
            value = (
                TransferValue.made(
                    location_id=job.location_id, business_date=job.business_date
                ).dump()
                if dry_run
                else None
            )
            result = message(
                f"Transfer of {escape(report.location)}, {report.business_date}",
                report_blocks(report, post_value=value, currency=priced.currency),
            )
            if failure_shown:
                self.tell_apart(context, "failure_ts", result, again=False)
            else:
                self.notifier.post_once(context, "result_ts", Target.of(notify), result)
        return {"run_id": report.run_id, "outcome": report.outcome.value}

    def failed(self, context: JobContext, telling: Telling) -> None:
        job = context.job
        assert job.location_id is not None
        name, connection_id, _ = _location(context.factory, job.location_id)
        self.tell_apart(
            context,
            "failure_ts",
            message(
                f"Not transferred: {escape(name)}, {job.business_date}",
                failure_blocks(
                    name,
                    str(job.business_date),
                    telling.reason,
                    retry_job=job.id,
                    reconnect=connection_id if telling.facts.get("reconnect") else None,
                ),
            ),
        )


class MigrationJob(_Notifying):
    """A location's history, day by day, in one progress message with a Cancel button."""

    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        assert job.location_id is not None
        with context.factory() as session:
            location = session.get_one(ExternalLocation, job.location_id)
            name = location.name
            saved = context.result.get("progress")
            progress = (
                MigrationProgress.load(saved)
                if saved
                else plan(session, location, payload_of(MigrationPayload, job.payload).days)
            )
        target = self.target(context)
        shown = ProgressMessage(self.notifier, context, "message_ts", target)
        if shown.ended:  # its worker died after the summary, before the job was done
            return {"progress": progress.dump()}
        ts = shown.start(self._message(name, progress, job.id, running=True))
        context.save(message_ts=ts, progress=progress.dump())

        def advanced(now: MigrationProgress) -> None:
            context.save(progress=now.dump())
            shown.update(self._message(name, now, job.id, running=True))

        done = migrate(
            context.factory,
            context.settings,
            job.location_id,
            progress,
            triggered_by=payload_of(MigrationPayload, job.payload).triggered_by,
            checkpoint=context.checkpoint,
            on_progress=advanced,
            effect_key=job_key(job.id),
        )
        # The progress message becomes the summary: the result appears once.
        finished = self._message(name, done, job.id, running=False)
        shown.end({**finished, "text": f"{self.mention(context)}{finished['text']}"})
        return {"progress": done.dump()}

    @staticmethod
    def _message(
        name: str, progress: MigrationProgress, job_id: int, *, running: bool
    ) -> dict[str, Any]:
        state = "Migrating" if running else "Migrated"
        return message(
            f"{state} {escape(name)}: {progress.done}/{progress.total} days",
            migration_blocks(name, progress, job_id, running=running),
        )

    def failed(self, context: JobContext, telling: Telling) -> None:
        self._stopped(context, telling.reason, reauthorize=bool(telling.facts.get("reconnect")))

    def cancelled(self, context: JobContext, telling: Telling) -> None:
        self._stopped(context, "cancelled on request; the days done so far stay transferred")

    def _stopped(self, context: JobContext, reason: str, *, reauthorize: bool = False) -> None:
        job = context.job
        assert job.location_id is not None
        name, connection_id, _ = _location(context.factory, job.location_id)
        stopped = message(
            f"The migration of {escape(name)} stopped",
            migration_stopped_blocks(name, reason, job.id, connection_id if reauthorize else None),
        )
        self.say_stopped(context, stopped)


class SyncJob(_Notifying):
    """A connection's locations, then its items, in one progress message that ends in the
    summary or, failed, says why with Retry."""

    PROGRESS = "ts"
    """The result's key of its progress message's ``ts``."""

    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        assert job.connection_id is not None
        with context.factory() as session:
            label = session.get_one(Connection, job.connection_id).shown
        title = f"Sync of {escape(label)}"
        shown = ProgressMessage(self.notifier, context, self.PROGRESS, self.target(context))
        if shown.ended:  # its worker died after the summary, before the job was done
            return {}
        context.save(**{self.PROGRESS: shown.start(message(f"{title}: locations…", []))})
        located = connections.sync_locations(context.factory, context.settings, job.connection_id)
        shown.update(message(f"{title}: items…", []))
        items = connections.sync_items(context.factory, context.settings, job.connection_id)
        context.save(locations=str(located), items=str(items))
        shown.end(message(f"{title}, done: locations {located}; items {items}", []))
        return {}

    def failed(self, context: JobContext, telling: Telling) -> None:
        job = context.job
        assert job.connection_id is not None
        with context.factory() as session:
            label = session.get_one(Connection, job.connection_id).shown
        reconnect = job.connection_id if telling.facts.get("reconnect") else None
        reason = telling.reason
        stopped = message(
            f"The sync of {escape(label)} stopped: {escape(reason)}",
            sync_failed_blocks(label, reason, job.id, reconnect),
        )
        self.say_stopped(context, stopped, self.PROGRESS)


class ReprocessJob(_Notifying):
    """The days a mapping change touched, in date order: one message that advances and ends
    in a summary, each day's result in its thread."""

    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        payload = payload_of(ReprocessPayload, job.payload)
        what = payload.what
        days = list(payload.days)
        done: list[list[Any]] = list(context.result.get("done", []))
        names: dict[int, str] = {}

        def name(location_id: int) -> str:
            if location_id not in names:
                names[location_id] = _location(context.factory, location_id)[0]
            return names[location_id]

        def shown(running: bool) -> dict[str, Any]:
            state = "Reprocessing" if running else "Reprocessed"
            return message(
                f"{'' if running else self.mention(context)}{state} {len(done)}/{len(days)} "
                f"days for {escape(what)}",
                reprocess_blocks(what, days, done, running=running),
            )

        target = self.target(context)
        progress = ProgressMessage(self.notifier, context, "message_ts", target)
        ts = progress.start(shown(running=True))
        context.save(message_ts=ts)
        for location_id, day in days[len(done) :]:
            context.checkpoint()
            try:
                report = connections.transfer_day(
                    context.factory,
                    context.settings,
                    location_id,
                    day,
                    kind=RunKind.MANUAL,
                    triggered_by=payload.triggered_by,
                    effect_key=f"{job_key(job.id)}:{location_id}:{day.isoformat()}",
                    keep_movements=False,
                )
                done.append(
                    [name(location_id), day.isoformat(), report.outcome.value, report.run_id]
                )
            except StockpotError as error:
                done.append([name(location_id), day.isoformat(), "failed", str(error)])
            context.save(done=done)
            progress.update(shown(running=True))
        progress.end(shown(running=False))
        if target is not None and ts:
            details = message(f"Each day of {escape(what)}", reprocess_details(done))
            self.notifier.deliver(context, "details_ts", target, {**details, "thread_ts": ts})
        return {"days": len(done)}

    def failed(self, context: JobContext, telling: Telling) -> None:
        self._stopped(context, telling.reason)

    def cancelled(self, context: JobContext, telling: Telling) -> None:
        self._stopped(context, "cancelled on request; the days done so far stay reprocessed")

    def _stopped(self, context: JobContext, reason: str) -> None:
        payload = payload_of(ReprocessPayload, context.job.payload)
        days = list(payload.days)
        done: list[list[Any]] = list(context.result.get("done", []))
        self.say_stopped(
            context,
            message(
                f"Reprocessing {escape(payload.what)} stopped after {len(done)}/{len(days)} days",
                reprocess_stopped_blocks(payload.what, days, done, reason, context.job.id),
            ),
        )


class MissedDaysJob(Reporting):
    """The days the scheduler was away too long to queue itself, offered with Catch up in the
    company's channel (the scheduler queues this job once per range: ``specs.missed_days``);
    with no report channel, in a direct message to each of its admins (it was only logged,
    where nobody looks)."""

    def run(self, context: JobContext) -> dict[str, Any]:
        job = context.job
        assert job.location_id is not None
        payload = payload_of(MissedDaysPayload, job.payload)
        name = _location(context.factory, job.location_id)[0]
        blocks = missed_days_blocks(
            name, job.company_id, job.location_id, payload.first, payload.last, payload.days
        )
        title = f"Not transferred: {escape(name)}, {payload.first} to {payload.last}"
        target = self.notifier.target(job.company_id, None)
        if target is not None:
            self.notifier.post_once(context, "ts", target, message(title, blocks))
            return {"posted": True}
        with context.factory() as session:
            admins = company_admins(session, job.company_id)
            company = session.get_one(Company, job.company_id).name
        if not admins:
            log.warning(
                "%s days of location %s (%s to %s) are not transferred, and %s has neither a "
                "report channel nor an admin in Slack to say so to",
                payload.days,
                job.location_id,
                payload.first,
                payload.last,
                company,
            )
            return {"posted": False, "why": "no report channel and no admin in Slack"}
        why = context_block(
            f"This comes to you, an admin of {escape(company)}, because it has no report "
            "channel: `/pos report here` in a channel sends offers like this and the daily "
            "report there."
        )
        for team_id, user_id in admins:  # each once, however often the job is retried
            self.notifier.post_once(
                context,
                f"dm_{team_id}_{user_id}",
                Target(team_id, user_id, direct=True),
                message(title, [*blocks, why]),
            )
        return {"posted": True, "to": "admins"}


def job_handlers(notifier: Notifier) -> dict[JobKind, JobHandler]:
    return {
        JobKind.TRANSFER: TransferJob(notifier),
        JobKind.MIGRATION: MigrationJob(notifier),
        JobKind.SYNC: SyncJob(notifier),
        JobKind.REPORT: ReportJob(notifier),
        JobKind.CSV_IMPORT: CsvImportJob(notifier),
        JobKind.CSV_UNDO: CsvUndoJob(notifier),
        JobKind.CSV_PREVIEW: CsvPreviewJob(notifier),
        JobKind.REPROCESS: ReprocessJob(notifier),
        JobKind.VARIANCE: VarianceJob(notifier),
        JobKind.MISSED_DAYS: MissedDaysJob(notifier),
    }
