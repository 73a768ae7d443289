"""Block Kit for CSV uploads: the threaded preview with Import / Cancel, and the outcome."""

from __future__ import annotations

from stockpot.bot.blocks.common import (
    Block,
    actions,
    button,
    clip,
    confirm,
    context,
    escape,
    lines_section,
    plural,
    section,
)
from stockpot.bot.ids import ActionId, BlockId, CallbackId
from stockpot.bot.metadata import CsvFileValue
from stockpot.core.cell_text import inert
from stockpot.core.csv_import.importer import SAMPLE_NAMED, ImportResult, Preview, UndoResult
from stockpot.core.transfer.runner import TransferReport
from stockpot.core.words import figure

SAMPLE_ROWS = SAMPLE_NAMED


def _text(value: str, limit: int = 40) -> str:
    """A cell from a file, as Slack text: formula-safe, escaped."""
    return escape(inert(value, limit))


def preview_blocks(
    file_name: str, label: str, preview: Preview, value: CsvFileValue, *, needs_date: bool
) -> list[Block]:
    scan = preview.scan
    dates = ", ".join(d.isoformat() for d in scan.dates[:10]) or "none"
    if len(scan.dates) > 10:
        dates += f" … ({len(scan.dates)} dates)"
    blocks: list[Block] = [
        section(
            f"*{_text(file_name, 80)}* read with *{escape(label)}*: {scan.dialect.describe()}, "
            f"{plural(scan.rows, 'row')}, dates {dates}"
        )
    ]

    rows = [
        f"line {row.line} · {row.business_date} · {escape(row.location)} · "
        f"{escape(' + '.join(map(preview.named, row.codes)))} × {figure(row.quantity)}"
        for row in scan.sample[:SAMPLE_ROWS]
    ]
    if rows:
        blocks.append(lines_section("First rows as read", rows))
    if preview.unmapped:
        blocks.append(
            lines_section(
                "Unmapped codes (not deducted until mapped)",
                list(map(escape, preview.unmapped_lines())),
            )
        )
    if scan.error_count:
        blocks.append(
            lines_section(
                f":warning: {plural(scan.error_count, 'error')}; nothing is imported unless you "
                "choose the valid rows only",
                [escape(str(problem)) for problem in scan.errors],
                more=f"…and {scan.error_count - len(scan.errors)} more",
            )
        )
    if preview.duplicate_of is not None:
        blocks.append(
            section(
                ":warning: This file was already imported (same content); importing it again "
                "counts its sales twice."
            )
        )
    if needs_date:
        blocks.append(
            {
                "type": "actions",
                "block_id": BlockId.CSV_DATE,
                "elements": [
                    {
                        "type": "datepicker",
                        "action_id": ActionId.CSV_DATE,
                        "initial_date": value.default_date.isoformat()
                        if value.default_date
                        else None,
                        "placeholder": {"type": "plain_text", "text": "Date of rows without one"},
                    }
                ],
            }
        )
    forced = preview.duplicate_of is not None
    buttons: list[Block] = []
    if not scan.error_count or scan.rows > scan.invalid_rows:
        label_text = "Import again" if forced else "Import"
        update = {"force": forced, "valid_only": bool(scan.error_count)}
        if scan.error_count:
            label_text = "Import valid rows only"
        buttons.append(
            button(
                label_text,
                ActionId.CSV_IMPORT,
                value.model_copy(update=update).dump(),
                style="primary",
                confirm=confirm(
                    f"{label_text}?",
                    "The file's days are posted to the ledger (*Undo import* takes them back).",
                    label_text,
                    danger=False,
                ),
            )
        )
    buttons.append(
        button(
            "Cancel",
            ActionId.CSV_CANCEL,
            value.dump(),
            confirm=confirm("Cancel this file?", "Nothing is imported.", "Cancel the file"),
        )
    )
    blocks.append(actions(*buttons))
    return blocks


def _day(report: TransferReport) -> str:
    unmapped = f", {len(report.unmapped)} unmapped" if report.unmapped else ""
    return (
        f"{escape(report.location)}, {report.business_date}: "
        f"{plural(len(report.movements), 'movement')}{unmapped}"
    )


def _by(user_id: str | None) -> str:
    return f" by <@{user_id}>" if user_id else ""


def imported_blocks(result: ImportResult, by: str | None = None) -> list[Block]:
    """An import's outcome, with **Undo import** (it replaces the file's preview)."""
    skipped = (
        f", {plural(result.rows_skipped, 'invalid row')} left out" if result.rows_skipped else ""
    )
    blocks = [
        section(
            f"Imported *{_text(result.file_name, 80)}*{_by(by)}: "
            f"{plural(result.rows, 'row')}{skipped}."
        ),
        lines_section("Days posted", [_day(report) for report in result.reports]),
    ]
    if result.unmapped:
        them = "it" if len(result.unmapped) == 1 else "them"
        blocks.append(
            context(f"{plural(len(result.unmapped), 'unmapped code')}: `/pos unmapped` maps {them}")
        )
    blocks.append(
        actions(
            button(
                "Undo import",
                ActionId.CSV_UNDO,
                str(result.import_id),
                confirm=confirm(
                    "Undo this import?",
                    f"Every movement of *{_text(result.file_name, 80)}* is reversed in the "
                    "ledger; other imports of its days stay.",
                    "Undo import",
                ),
            )
        )
    )
    return blocks


def undone_blocks(result: UndoResult, file_name: str, by: str | None = None) -> list[Block]:
    """An undo's outcome, in place of the import's: which days are as if the file had never
    been imported."""
    days = [f"{escape(report.location)}, {report.business_date}" for report in result.reports]
    return [
        section(f"Import of *{_text(file_name, 80)}* undone{_by(by)}: {result.taken_back()}"),
        lines_section("Days taken back", days),
    ]


def upload_modal(metadata: str, profiles: list[tuple[int, str]]) -> dict:
    """``/pos csv``: a file, the profile to read it with, and the date of rows without one."""
    options = [
        {"text": {"type": "plain_text", "text": clip(label, 75)}, "value": str(connection_id)}
        for connection_id, label in profiles[:100]
    ]
    return {
        "type": "modal",
        "callback_id": CallbackId.CSV_UPLOAD,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Import a CSV export"},
        "submit": {"type": "plain_text", "text": "Preview"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.CSV_FILE,
                "label": {"type": "plain_text", "text": "The till's export"},
                "element": {
                    "type": "file_input",
                    "action_id": ActionId.CSV_FILE,
                    "filetypes": ["csv", "tsv", "txt"],
                    "max_files": 1,
                },
            },
            {
                "type": "input",
                "block_id": BlockId.CSV_PROFILE,
                "label": {"type": "plain_text", "text": "Read it as"},
                "element": {
                    "type": "static_select",
                    "action_id": ActionId.CSV_PROFILE,
                    "options": options,
                    "initial_option": options[0],
                },
            },
            {
                "type": "input",
                "block_id": BlockId.CSV_DATE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Date of rows without one"},
                "element": {"type": "datepicker", "action_id": ActionId.CSV_DATE},
            },
            context("You get a preview in the channel first; nothing is posted before Import."),
        ],
    }
