"""CSV imports and undos as jobs: the worker reads the file from Slack again (with the bot
token of the workspace it was shared in), imports it, and answers in the file's thread."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any, BinaryIO

from stockpot.bot.blocks.common import Block, escape, message, plural, section
from stockpot.bot.blocks.common import context as context_block
from stockpot.bot.blocks.csv import imported_blocks, preview_blocks, undone_blocks
from stockpot.bot.blocks.jobs import fix_buttons
from stockpot.bot.errors import user_message
from stockpot.bot.jobs.slack import Reporting, Target
from stockpot.bot.metadata import CsvFileValue
from stockpot.bot.slack_files import FileGone, fetch_csv
from stockpot.core.company_clock import company_today
from stockpot.core.csv_import.importer import (
    DuplicateFile,
    ImportResult,
    import_csv,
    preview_with_profiles,
    undo_import,
)
from stockpot.core.csv_import.shared import FileReader
from stockpot.core.errors import ConfigurationError, StockpotError, ValidationFailed
from stockpot.core.jobs.effects import job_key
from stockpot.core.jobs.specs import (
    CsvImportPayload,
    CsvPreviewPayload,
    CsvUndoPayload,
    Notify,
    notify_of,
    payload_of,
)
from stockpot.core.jobs.telling import Telling
from stockpot.core.jobs.worker import JobContext
from stockpot.core.models import CsvImport


def _asked_by(context: JobContext) -> str | None:
    notify = notify_of(context.job.payload)
    return notify.user_id if notify else None


def _reader(context: JobContext, notify: Notify) -> FileReader:
    """Whom the job reads its Slack file for: who pressed or submitted, in the job's company
    (the file id came from their client)."""
    return FileReader(notify.team_id, notify.user_id, context.job.company_id)


class _InThread(Reporting):
    verb = "CSV import"

    def _tell(
        self, context: JobContext, text: str, blocks: list[dict[str, Any]], *, again: bool = False
    ) -> None:
        """Answer once per job (a retry updates the same message): in place of the message
        whose button started the job (``Notify.message_ts``), else in the file's thread.
        ``again``: a failure, said again after a Retry (``Notifier.post_once``)."""
        notify = notify_of(context.job.payload)
        target = Target.of(notify) if notify else None
        answer = message(text, blocks)
        thread = context.job.payload.get("thread_ts")  # every CSV job's payload has it
        if thread:
            answer["thread_ts"] = thread
        self.notifier.post_once(context, "answer_ts", target, answer, again=again)

    def facts(self, error: Exception) -> dict[str, Any]:
        """Whether the refusal is the file's (its content, the date picked, deleted since:
        Retry would be refused the same), and which import has its sales already."""
        return {
            "file_refused": isinstance(error, ValidationFailed | FileGone),
            "content_refused": isinstance(error, ValidationFailed),
            "imported_as": error.previous_id if isinstance(error, DuplicateFile) else None,
        }

    def failed(self, context: JobContext, telling: Telling) -> None:
        # In place of "Importing…" too: no message is left saying work goes on.
        self._tell(
            context,
            f"{self.verb} refused",
            [
                section(f":warning: {self.verb} refused: {escape(telling.reason)}"),
                *self.after_refusal(context, telling.facts),
            ],
            again=True,
        )

    def cancelled(self, context: JobContext, telling: Telling) -> None:
        # Cancelled while queued (``stockpot jobs cancel``): "Importing…" says so too.
        self._tell(
            context,
            f"{self.verb} {telling.reason}",
            [
                section(f":warning: {self.verb} {escape(telling.reason)}"),
                fix_buttons(context.job.id),
            ],
            again=True,
        )

    def after_refusal(self, context: JobContext, facts: dict[str, Any]) -> list[Block]:
        """What can help: Retry, unless doing the same again is refused the same way (the
        file's content or the date picked was refused, the file was deleted)."""
        if facts.get("file_refused"):
            return []
        return [fix_buttons(context.job.id)]


class CsvImportJob(_InThread):
    def after_refusal(self, context: JobContext, facts: dict[str, Any]) -> list[Block]:
        """A file refused for its content: Retry would read the same Slack file again (a
        shared file never changes); a fixed file is a new one, previewed where it is shared."""
        if facts.get("content_refused"):
            return [
                context_block(
                    "Nothing was imported. Fix the file and share it again in this channel "
                    "(or upload it with `/pos csv`): its new preview offers Import."
                )
            ]
        if facts.get("imported_as") is not None:
            # Imported meanwhile (another preview's Import): Retry would be refused the same.
            return [
                context_block(
                    "Nothing was imported. This file was imported meanwhile; that import's "
                    "message's *Undo import* takes its sales back, if they are to be imported "
                    "again."
                )
            ]
        return super().after_refusal(context, facts)

    def run(self, context: JobContext) -> dict[str, Any]:
        job, payload = context.job, payload_of(CsvImportPayload, context.job.payload)
        notify = payload.notify
        client = self.notifier.client(notify.team_id) if notify else None
        if notify is None or client is None or job.connection_id is None:
            raise ConfigurationError("Slack is not reachable from this worker to read the file")
        name, data = fetch_csv(
            context.settings,
            client,
            payload.file_id,
            reader=_reader(context, notify),
            factory=context.factory,
        )
        default = payload.default_date
        with data:
            result = self._import(context, name, data, default)
        self._tell(context, f"Imported {escape(name)}", imported_blocks(result, _asked_by(context)))
        return {"import_id": result.import_id}

    @staticmethod
    def _import(
        context: JobContext, name: str, data: BinaryIO, default: date | None
    ) -> ImportResult:
        job, payload = context.job, payload_of(CsvImportPayload, context.job.payload)
        assert job.connection_id is not None
        return import_csv(
            context.factory,
            job.connection_id,
            data,
            file_name=name,
            max_bytes=context.settings.slack.file_max_bytes,
            default_date=default,
            valid_only=payload.valid_only,
            force=payload.force,
            triggered_by=payload.triggered_by,
            effect_key=job_key(job.id),
        )


class CsvUndoJob(_InThread):
    verb = "Undo"

    def run(self, context: JobContext) -> dict[str, Any]:
        payload = payload_of(CsvUndoPayload, context.job.payload)
        import_id = payload.import_id
        result = undo_import(
            context.factory,
            import_id,
            triggered_by=payload.triggered_by,
            effect_key=job_key(context.job.id),
        )
        with context.factory() as session:
            name = session.get_one(CsvImport, import_id).file_name
        self._tell(
            context,
            f"Import of {escape(name)} undone",
            undone_blocks(result, name, _asked_by(context)),
        )
        return {"undone": import_id}


PREVIEWS_AT_ONCE = 2
"""Previews one process reads at a time (each holds up to ``scan.MAX_TOTALS`` totals)."""
_previewing = threading.BoundedSemaphore(PREVIEWS_AT_ONCE)


class CsvPreviewJob(_InThread):
    """Read a shared file and post its preview in the file's thread: the worker's work, so
    the web process never holds a file, and at most ``PREVIEWS_AT_ONCE`` at a time."""

    verb = "CSV preview"

    def run(self, context: JobContext) -> dict[str, Any]:
        payload = payload_of(CsvPreviewPayload, context.job.payload)
        notify = payload.notify
        client = self.notifier.client(notify.team_id) if notify else None
        if notify is None or client is None:
            raise ConfigurationError("Slack is not reachable from this worker to read the file")
        file_id = payload.file_id
        name = payload.name or file_id
        # Yesterday on the company's clock, as `/transfer yesterday` reads it (UTC's
        # yesterday is the day before that for hours every day in Auckland).
        when = payload.default_date or company_today(
            context.factory, context.job.company_id
        ) - timedelta(days=1)
        try:
            with _previewing:
                name, data = fetch_csv(
                    context.settings,
                    client,
                    file_id,
                    reader=_reader(context, notify),
                    factory=context.factory,
                )
                with data:
                    found = preview_with_profiles(
                        context.factory,
                        context.job.company_id,
                        data,
                        file_name=name,
                        max_bytes=context.settings.slack.file_max_bytes,
                        default_date=when,
                        connection_id=context.job.connection_id,
                    )
        except StockpotError as error:  # the thread is where the person looks for the outcome
            self._tell(context, f"CSV {name} not read", [section(escape(user_message(error)))])
            return {"read": False}
        value = CsvFileValue(
            file_id=file_id,
            connection_id=found.connection_id,
            default_date=found.default_date,
            thread_ts=payload.thread_ts or None,
        )
        blocks = preview_blocks(
            name, found.label, found.preview, value, needs_date=found.default_date is not None
        )
        read = plural(found.preview.scan.rows, "row")
        self._tell(context, f"CSV {escape(name)}: {read} read", blocks)
        return {"read": True, "rows": found.preview.scan.rows}
