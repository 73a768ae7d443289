"""The CSV import service: preview, import, undo. Plain functions over a sessionmaker,
callable from the CLI, Slack and (later) background jobs.

Each import is its own source of sales: its rows become lines tagged ``csv:<import id>``
in the transfer run of every (location, business date) it touches. The new run of a day
carries the live run's lines plus the import's, so two different files for one day add
up, a mapping change reprocesses the day like any POS day, and the ledger still equals the
live runs. Undo runs each day again without the import's lines. A file whose bytes were
already imported into the connection is refused unless forced. All days of one import (or
undo) are posted in one transaction: all or nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stockpot.core.business_day import DayStart
from stockpot.core.cell_text import inert
from stockpot.core.company_clock import company_zone
from stockpot.core.csv_import.dialect import UnreadableFile
from stockpot.core.csv_import.profile import CsvProfile
from stockpot.core.csv_import.scan import Scan, scan
from stockpot.core.db import unit_of_work, utcnow
from stockpot.core.errors import NotFound, StockpotError, ValidationFailed
from stockpot.core.jobs import effects
from stockpot.core.models import (
    Company,
    Connection,
    CsvImport,
    ExternalLocation,
    ImportStatus,
    PosItem,
    PosMapping,
    Provider,
    RunKind,
)
from stockpot.core.periods import sane_date
from stockpot.core.transfer.lines import RawInput, SaleLine
from stockpot.core.transfer.live import live_lines_of_days, take_turn
from stockpot.core.transfer.runner import (
    TransferReport,
    TransferRequest,
    transfer_days_in_session,
)
from stockpot.core.words import figure, local_time, plural

SOURCE = "csv"
BATCH_DAYS = 10
"""Days posted per batch: a month of a 3,000-article till in three batches (a few statements
each) while the days' lines and results held at once stay a third of the month's."""


class DuplicateFile(StockpotError):
    code = "csv_duplicate_file"

    def __init__(self, file_name: str, previous: CsvImport, zone: ZoneInfo) -> None:
        self.previous_id = previous.id
        super().__init__(
            f"{file_name} was already imported ({local_time(previous.created_at, zone)} as "
            f"'{previous.file_name}', same content); importing it again would count its sales "
            "twice: undo that import first if it is to be imported again"
        )


@dataclass(frozen=True)
class Profile:
    connection_id: int
    company_id: int
    label: str
    """The connection's key (``csv:Kasse``), as the CLI takes it."""
    locations: dict[str, int]
    """location name → id"""
    profile: CsvProfile
    shown: str = ""
    """The connection as users know it (``Kasse (CSV)``): what Slack shows."""
    days: dict[str, DayStart] = field(default_factory=dict)
    """location name → its timezone and day start (places a sale's time on its business
    date)"""


def _zone(session: Session, company_id: int) -> ZoneInfo:
    """The clock an import's times are shown on: its company's (``company_zone``)."""
    return company_zone(session, session.get_one(Company, company_id))


SAMPLE_NAMED = 5
"""The first rows a preview shows and names."""
UNMAPPED_NAMED = 100
"""The most-sold unmapped codes a preview names (its section shows fewer than this)."""


@dataclass
class Preview:
    scan: Scan
    unmapped: dict[str, Decimal]
    duplicate_of: int | None
    names: dict[str, str] = field(default_factory=dict)
    """The catalog's name of the codes shown (the first rows', the most-sold unmapped), when
    it knows them: a code alone does not say which dish it is."""
    duplicate_file: str | None = None
    """The file name the same content was imported under (import ``duplicate_of``)."""

    def named(self, code: str) -> str:
        """A code as a preview shows it, with its name when known (``Familienpizza Hawaii
        (155)``): formula-safe text, the one wording of Slack's preview and the CLI's."""
        name = self.names.get(code)
        return f"{inert(name, 60)} ({inert(code, 40)})" if name else inert(code, 40)

    def unmapped_lines(self) -> list[str]:
        """The unmapped codes, most sold first: ``Familienpizza Hawaii (155) sold 3``."""
        by_sales = sorted(self.unmapped.items(), key=lambda item: -item[1])
        return [f"{self.named(code)} sold {figure(quantity)}" for code, quantity in by_sales]


@dataclass
class ImportResult:
    import_id: int
    file_name: str
    rows: int
    rows_skipped: int
    reports: list[TransferReport] = field(default_factory=list)

    unmapped: dict[str, Decimal] = field(default_factory=dict)
    """The file's codes that are not mapped, with the file's quantities (a day's run also
    lists what other imports of that day left unmapped)."""

    def taken_back(self) -> str:
        """What the undo did, said after the import's name: one wording for Slack and the CLI."""
        return (
            f"{plural(len(self.reports), 'day')} now as if it had never been imported; other "
            "imports of those days stay."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "rows": self.rows,
            "rows_skipped": self.rows_skipped,
            "unmapped": {code: str(quantity) for code, quantity in self.unmapped.items()},
            "runs": [report.to_json() for report in self.reports],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportResult:
        return cls(
            int(data["import_id"]),
            str(data["file_name"]),
            int(data["rows"]),
            int(data["rows_skipped"]),
            [TransferReport.from_json(run) for run in data["runs"]],
            {code: Decimal(quantity) for code, quantity in data["unmapped"].items()},
        )


@dataclass
class UndoResult:
    import_id: int
    reports: list[TransferReport]
    file_name: str = ""
    """The file imported, which names the import (an undo recorded before it was kept: ``""``)."""

    def taken_back(self) -> str:
        """What the undo did, said after the import's name: one wording for Slack and the CLI."""
        return (
            f"{plural(len(self.reports), 'day')} now as if it had never been imported; other "
            "imports of those days stay."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "file_name": self.file_name,
            "runs": [r.to_json() for r in self.reports],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UndoResult:
        runs = [TransferReport.from_json(r) for r in data["runs"]]
        return cls(int(data["import_id"]), runs, str(data.get("file_name") or ""))


def profiles(factory: sessionmaker[Session], company_id: int | None = None) -> list[Profile]:
    """Every CSV connection's profile (of one company, when given)."""
    with factory() as session:
        query = select(Connection).where(Connection.provider == Provider.CSV)
        if company_id is not None:
            query = query.where(Connection.company_id == company_id)
        return [_profile(c) for c in session.scalars(query.order_by(Connection.name))]


def load_profile(session: Session, connection_id: int) -> Profile:
    connection = session.get(Connection, connection_id)
    if connection is None or connection.provider is not Provider.CSV:
        raise NotFound(f"no CSV connection with id {connection_id}")
    return _profile(connection)


def _profile(connection: Connection) -> Profile:
    return Profile(
        connection.id,
        connection.company_id,
        connection.label,
        {location.name: location.id for location in connection.locations},
        CsvProfile.of_settings(connection.settings, label=connection.shown),
        connection.shown,
        {
            location.name: DayStart(ZoneInfo(location.timezone), location.business_day_start)
            for location in connection.locations
        },
    )


def _scan(
    factory: sessionmaker[Session],
    connection_id: int,
    stream: BinaryIO,
    file_name: str,
    default_date: date | None,
    max_bytes: int,
) -> tuple[Profile, Scan]:
    if default_date is not None:
        sane_date(default_date, date.today())  # noqa: DTZ011 - the date picked for the file
    with factory() as session:
        profile = load_profile(session, connection_id)
    result = scan(
        stream,
        profile.profile,
        file_name=file_name,
        locations=profile.days,
        default_date=default_date,
        max_bytes=max_bytes,
    )
    if not result.totals and not result.error_count:
        raise ValidationFailed(f"{file_name} has no sales rows")
    return profile, result


def preview_csv(
    factory: sessionmaker[Session],
    connection_id: int,
    stream: BinaryIO,
    *,
    file_name: str,
    max_bytes: int,
    default_date: date | None = None,
) -> Preview:
    """Read and check the file, post nothing: what an import would do."""
    _, result = _scan(factory, connection_id, stream, file_name, default_date, max_bytes)
    with factory() as session:
        mapped = set(
            session.scalars(
                select(PosItem.key)
                .join(PosMapping, PosMapping.pos_item_id == PosItem.id)
                .where(PosItem.connection_id == connection_id)
            )
        )
        previous = _previous(session, connection_id, result.content_hash)
        unmapped = {code: qty for code, qty in result.by_code().items() if code not in mapped}
        shown = {code for row in result.sample[:SAMPLE_NAMED] for code in row.codes}
        shown |= set(sorted(unmapped, key=lambda code: -unmapped[code])[:UNMAPPED_NAMED])
        names = {
            key: name
            for key, name in session.execute(
                select(PosItem.key, PosItem.name).where(
                    PosItem.connection_id == connection_id, PosItem.key.in_(shown)
                )
            )
            if name != key  # an item first imported without a name is named by its code
        }
    names |= {code: result.names[code] for code in shown - names.keys() if code in result.names}
    return Preview(
        result,
        unmapped,
        previous.id if previous else None,
        names,
        previous.file_name if previous else None,
    )


@dataclass
class ProfilePreview:
    """The preview of a file by the first profile that reads it."""

    label: str
    """The profile's connection as users know it (``Kasse (CSV)``)."""
    connection_id: int
    preview: Preview
    default_date: date | None
    """The date offered for rows without one (``None`` when every rule reads a date)."""


def preview_with_profiles(
    factory: sessionmaker[Session],
    company_id: int,
    stream: BinaryIO,
    *,
    file_name: str,
    max_bytes: int,
    default_date: date,
    connection_id: int | None = None,
) -> ProfilePreview:
    """The first of the company's CSV profiles whose columns the file has (or the one
    chosen), and its preview. A profile with a rule that reads no date offers
    ``default_date``. ``stream`` is read once per profile tried (it must be seekable)."""
    candidates = [
        p
        for p in profiles(factory, company_id)
        if p.profile.rules and connection_id in (None, p.connection_id)
    ]
    if not candidates:
        raise ValidationFailed(
            "this company has no CSV connection with a rule yet: declare one in the catalog's "
            "csv_connections (see the README, File formats) and share the file again"
        )
    refusals: list[str] = []
    for candidate in candidates:
        when = default_date if candidate.profile.needs_date else None
        stream.seek(0)
        try:
            preview = preview_csv(
                factory,
                candidate.connection_id,
                stream,
                file_name=file_name,
                max_bytes=max_bytes,
                default_date=when,
            )
        except UnreadableFile as error:
            refusals.append(f"{candidate.shown}: {error}")
            continue
        return ProfilePreview(candidate.shown, candidate.connection_id, preview, when)
    if len(refusals) == 1:
        raise UnreadableFile(refusals[0])
    raise UnreadableFile("no CSV profile reads this file:\n" + "\n".join(refusals))


def _previous(session: Session, connection_id: int, digest: str) -> CsvImport | None:
    return session.scalar(
        select(CsvImport)
        .where(
            CsvImport.connection_id == connection_id,
            CsvImport.content_hash == digest,
            CsvImport.status == ImportStatus.IMPORTED,
        )
        .order_by(CsvImport.id)
        .limit(1)
    )


def import_csv(
    factory: sessionmaker[Session],
    connection_id: int,
    stream: BinaryIO,
    *,
    file_name: str,
    max_bytes: int,
    default_date: date | None = None,
    valid_only: bool = False,
    force: bool = False,
    triggered_by: str = "",
    effect_key: str | None = None,
    batch_days: int | None = BATCH_DAYS,
) -> ImportResult:
    """Import the file: one transfer run of kind ``csv`` per (location, business date), all
    in one transaction, posted in batches of ``batch_days`` days (``transfer_days_in_session``;
    ``None``: all at once, 1: day by day, as the batch's test compares). A file with invalid
    rows imports nothing unless ``valid_only``. With ``effect_key`` (a job's), an import made
    earlier under that key is reported instead of importing again (a forced import whose
    worker died before the job was marked done)."""
    profile, result = _scan(factory, connection_id, stream, file_name, default_date, max_bytes)
    if not valid_only:
        result.refuse_if_invalid()
    if not result.totals:
        raise ValidationFailed(f"{file_name}: no valid rows to import")
    # the file's names for its codes (with a name_source_column): a code new to the catalog
    # is made an item by that name, where the unmapped list and the map form said "155 (155)";
    # every line of the file carries its name, so importing it twice posts the same lines
    names = result.names
    with unit_of_work(factory) as session:
        if effect_key is not None:
            earlier = effects.take(session, effect_key, profile.company_id)
            if earlier:
                return ImportResult.from_json(earlier)
        take_turn(session, connection_id)
        previous = _previous(session, connection_id, result.content_hash)
        if previous is not None and not force:
            raise DuplicateFile(file_name, previous, _zone(session, profile.company_id))
        record = CsvImport(
            company_id=profile.company_id,
            connection_id=connection_id,
            file_name=file_name[:300],
            content_hash=result.content_hash,
            status=ImportStatus.IMPORTED,
            rows=result.rows - result.invalid_rows,
            rows_skipped=result.invalid_rows,
            imported_by=triggered_by,
        )
        session.add(record)
        session.flush()
        tag = f"{SOURCE}:{record.id}"
        outcome = ImportResult(record.id, file_name, record.rows, record.rows_skipped)
        raw = RawInput(SOURCE, json.dumps({"import_id": record.id, "file_name": file_name}))
        days, by_code = result.by_day(), result.by_code()
        result.totals.clear()  # grouped by day now: the file's totals are not kept twice
        ids = {day: (profile.locations[day[0]], day[1]) for day in days}
        order = list(days)
        for batch in _batches(order, batch_days):
            live = live_lines_of_days(session, [ids[day] for day in batch])
            requests = [
                TransferRequest(
                    *ids[day],
                    live[ids[day]]
                    + [
                        SaleLine(tag, code, code, names.get(code, code), q)
                        for code, q in days.pop(day)
                    ],
                    raw,
                    RunKind.CSV,
                    triggered_by,
                )
                for day in batch
            ]
            outcome.reports.extend(transfer_days_in_session(session, requests))
        unmapped_keys = {item["key"] for report in outcome.reports for item in report.unmapped}
        outcome.unmapped = {
            code: quantity for code, quantity in by_code.items() if code in unmapped_keys
        }
        record.days = [
            {
                "location_id": profile.locations[r.location],
                "business_date": str(r.business_date),
                "run_id": r.run_id,
            }
            for r in outcome.reports
        ]
        if effect_key is not None:
            effects.record(session, effect_key, outcome.to_json())
    return outcome


def _batches(days: list[Any], size: int | None) -> list[list[Any]]:
    if size is None:
        return [days]
    return [days[start : start + size] for start in range(0, len(days), size)]


def imports(
    factory: sessionmaker[Session], connection_id: int, *, limit: int = 20
) -> list[CsvImport]:
    """The latest imports of a connection, newest first."""
    with factory() as session:
        return list(
            session.scalars(
                select(CsvImport)
                .where(CsvImport.connection_id == connection_id)
                .order_by(CsvImport.id.desc())
                .limit(limit)
            )
        )


def undo_import(
    factory: sessionmaker[Session],
    import_id: int,
    *,
    company_id: int | None = None,
    triggered_by: str = "",
    effect_key: str | None = None,
) -> UndoResult:
    """Reverse exactly one import: each of its days runs again without its lines, in one
    transaction. Other imports of those days stay. With ``effect_key`` (a job's), an undo
    made earlier under that key is reported again."""
    with unit_of_work(factory) as session:
        record = session.get(CsvImport, import_id)
        if record is None or (company_id is not None and record.company_id != company_id):
            raise NotFound(f"no CSV import {import_id}; `stockpot csv imports` lists them")
        if effect_key is not None:
            earlier = effects.take(session, effect_key, record.company_id)
            if earlier:
                return UndoResult.from_json(earlier)
        if record.status is ImportStatus.UNDONE:
            raise ValidationFailed(
                f"{record.file_name} (import {import_id}) was already undone "
                f"{local_time(record.undone_at, _zone(session, record.company_id))}"
            )
        take_turn(session, record.connection_id)
        session.refresh(record)
        if record.status is ImportStatus.UNDONE:
            raise ValidationFailed(f"{record.file_name} (import {import_id}) was undone meanwhile")
        tag = f"{SOURCE}:{record.id}"
        raw = RawInput(SOURCE, json.dumps({"undo_import_id": record.id}))
        days = [
            (int(day["location_id"]), date.fromisoformat(day["business_date"]))
            for day in record.days
        ]
        days = [day for day in days if session.get(ExternalLocation, day[0]) is not None]
        live = live_lines_of_days(session, days)
        requests = [
            TransferRequest(
                location_id,
                business_date,
                [line for line in live[(location_id, business_date)] if line.sale_id != tag],
                raw,
                RunKind.CSV,
                triggered_by,
            )
            for location_id, business_date in days
        ]
        reports = transfer_days_in_session(session, requests)
        record.status = ImportStatus.UNDONE
        record.undone_at = utcnow()
        record.undone_by = triggered_by
        result = UndoResult(import_id, reports, record.file_name)
        if effect_key is not None:
            effects.record(session, effect_key, result.to_json())
    return result
