"""CSV imports and undos as jobs: the worker reads the file from Slack again (with the bot
token of the workspace it was shared in), imports it, and answers in the file's thread."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from stockpot.bot.blocks.common import escape, message, section
from stockpot.bot.blocks.csv import imported_blocks, undone_blocks
from stockpot.bot.jobs.slack import Notifier, Target
from stockpot.bot.slack_files import fetch_csv
from stockpot.core.csv_import.importer import import_csv, undo_import
from stockpot.core.errors import ConfigurationError
from stockpot.core.jobs.effects import job_key
from stockpot.core.jobs.specs import notify_of
from stockpot.core.jobs.worker import JobContext, JobHandler


class _InThread(JobHandler):
    verb = "CSV import"

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def _tell(
        self, context: JobContext, text: str, blocks: list[dict[str, Any]], *, once: bool = True
    ) -> None:
        """Answer in the file's thread; the result once per job (a retry updates it)."""
        notify = notify_of(context.job.payload)
        target = Target.of(notify) if notify else None
        answer = message(text, blocks)
        thread = context.job.payload.get("thread_ts")
        if thread:
            answer["thread_ts"] = thread
        if once:
            self.notifier.post_once(context, "answer_ts", target, answer)
        else:
            self.notifier.post(target, answer)

    def failed(self, context: JobContext, error: Exception, reason: str, *, final: bool) -> None:
        if final:
            self._tell(
                context,
                f"{self.verb} refused",
                [section(f":warning: {escape(reason)}")],
                once=False,
            )


class CsvImportJob(_InThread):
    def run(self, context: JobContext) -> dict[str, Any]:
        job, payload = context.job, context.job.payload
        notify = notify_of(payload)
        client = self.notifier.client(notify.team_id) if notify else None
        if client is None or job.connection_id is None:
            raise ConfigurationError("Slack is not reachable from this worker to read the file")
        name, data = fetch_csv(context.settings, client, str(payload["file_id"]))
        default = payload.get("default_date")
        result = import_csv(
            context.factory,
            job.connection_id,
            io.BytesIO(data),
            file_name=name,
            max_bytes=context.settings.slack_file_max_bytes,
            default_date=date.fromisoformat(default) if default else None,
            valid_only=bool(payload.get("valid_only")),
            force=bool(payload.get("force")),
            triggered_by=str(payload.get("triggered_by", "")),
            effect_key=job_key(job.id),
        )
        self._tell(context, f"Imported {name}", imported_blocks(result))
        return {"import_id": result.import_id}


class CsvUndoJob(_InThread):
    verb = "Undo"

    def run(self, context: JobContext) -> dict[str, Any]:
        payload = context.job.payload
        import_id = int(payload["import_id"])
        result = undo_import(
            context.factory,
            import_id,
            triggered_by=str(payload.get("triggered_by", "")),
            effect_key=job_key(context.job.id),
        )
        self._tell(context, f"Import {import_id} undone", undone_blocks(result))
        return {"undone": import_id}
