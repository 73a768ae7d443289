"""A file's days posted as one batch store exactly what posting them day by day stores."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from stockpot.core.csv_import.importer import import_csv, undo_import
from stockpot.core.models import (
    Base,
    Connection,
    CsvImport,
    LedgerMovement,
    PosItem,
    RawPayload,
    TransferDay,
    TransferRun,
    TransferRunLines,
    TransferSnapshot,
)
from stockpot.core.transfer.live import run_dispositions
from tests.core.csv_import.files import setup_csv


def bons(days: list[tuple[str, str, str]]) -> bytes:
    return ("Outlet\tCodes\tQty\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in days)).encode()


def connection_id(database, name: str) -> int:
    with database.session() as session:
        return session.scalar(select(Connection.id).where(Connection.name == name))


def reset(database, template: Path) -> None:
    """Empty every table and restart its ids, so two passes can be compared row by row."""
    if database.dialect == "sqlite":
        database.engine.dispose()
        shutil.copyfile(template, make_url(database.url).database)
        return
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def scenario(database, template: Path, batch_days: int | None) -> dict[str, Any]:
    """Import a file, a second file touching the same days (reversals), a German export of
    other days, then undo the first: everything each run stored, without clock columns."""
    reset(database, template)
    setup_csv(database)
    bons_id, kasse_id = connection_id(database, "Bons"), connection_id(database, "Kasse")
    files = [
        (bons_id, bons([("Room", "101+300", "2"), ("Terrace", "231", "1"), ("Room", "888", "1")])),
        (bons_id, bons([("Room", "300", "1.5"), ("terrace", "231+888", "2")])),
        (
            kasse_id,
            (
                "Datum;Artikelnummer;Menge\r\n27.11.2026;101;2\r\n28.11.2026;300;3\r\n"
                "28.11.2026;300;-1\r\n29.11.2026;777;1\r\n30.11.2026;231;1,5\r\n"
            ).encode("cp1252"),
        ),
    ]
    imported = []
    for connection, data in files:
        imported.append(
            import_csv(
                database.factory,
                connection,
                io.BytesIO(data),
                file_name="sales.csv",
                max_bytes=10**6,
                default_date=date(2026, 11, 27),
                triggered_by="test",
                batch_days=batch_days,
            )
        )
    undo_import(database.factory, imported[0].import_id, triggered_by="test")
    with database.session() as session:
        runs = session.scalars(select(TransferRun).order_by(TransferRun.id)).all()
        movements = session.scalars(select(LedgerMovement)).all()
        by_id = {m.id: m for m in movements}

        def natural(m: LedgerMovement) -> tuple[Any, ...]:
            reversed_one = by_id[m.reverses_id] if m.reverses_id else None
            return (
                m.run_id,
                m.storage_unit_id,
                m.ingredient_id,
                m.type.value,
                str(m.quantity),
                m.business_date,
                natural(reversed_one) if reversed_one else None,
            )

        return {
            "reports": [[r.to_json() for r in result.reports] for result in imported],
            "runs": [
                {
                    column: getattr(run, column)
                    for column in TransferRun.__table__.columns.keys()  # noqa: SIM118
                    # clocks, and the fingerprint: it holds the catalog token, random per
                    # catalog write (the content hash holds lines and snapshot)
                    if column not in ("started_at", "finished_at", "input_fingerprint")
                }
                for run in runs
            ],
            "dispositions": [
                [(s.line, s.disposition) for s in run_dispositions(session, run.id)] for run in runs
            ],
            "movements": sorted(natural(m) for m in movements),
            "lines": session.execute(
                select(
                    TransferRunLines.run_id,
                    TransferRunLines.layout,
                    TransferRunLines.count,
                    TransferRunLines.body,
                ).order_by(TransferRunLines.run_id)
            ).all(),
            "snapshots": session.execute(
                select(TransferSnapshot.digest, TransferSnapshot.body).order_by(
                    TransferSnapshot.digest
                )
            ).all(),
            "raw": session.execute(
                select(RawPayload.run_id, RawPayload.source, RawPayload.body).order_by(
                    RawPayload.run_id
                )
            ).all(),
            "days": session.execute(
                select(
                    TransferDay.location_id,
                    TransferDay.business_date,
                    TransferDay.generation,
                    TransferDay.live_run_id,
                ).order_by(TransferDay.location_id, TransferDay.business_date)
            ).all(),
            "items": sorted(
                session.execute(
                    select(PosItem.connection_id, PosItem.key, PosItem.external_id, PosItem.name)
                ).all()
            ),
            "imports": session.execute(
                select(CsvImport.id, CsvImport.days, CsvImport.status).order_by(CsvImport.id)
            ).all(),
        }


def test_batch_posts_what_day_by_day_posts(database, sqlite_template):
    """Runs (ids, stats, hashes, snapshots), stored lines, what each line did, movements with
    what they reverse, days and new items: equal whether the days go one by one or in one
    batch. (Movement and new item ids follow the statements, so they are compared by what
    they are, not by id.)"""
    batched = scenario(database, sqlite_template, None)
    day_by_day = scenario(database, sqlite_template, 1)
    assert len(batched["runs"]) == 10  # 2 + 2 days, 4 days, 2 undone
    assert any(m[-1] is not None for m in batched["movements"])  # reversals are compared
    for part in batched:
        assert batched[part] == day_by_day[part], part
