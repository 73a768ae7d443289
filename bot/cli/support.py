"""What every CLI command shares: error reporting, database sessions, output helpers."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.health import schema_problem
from stockpot.core.db import (
    make_engine,
    make_session_factory,
    missing_sqlite_file,
    unit_of_work,
)
from stockpot.core.errors import ConfigurationError, StockpotError, ValidationFailed
from stockpot.core.settings import get_settings


class StockpotGroup(click.Group):
    """The CLI's root group: a domain error (``StockpotError``) raised by any command below
    it is printed as its one clear line on stderr, with exit status 1 and no traceback. One
    place instead of a decorator on every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StockpotError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(1)


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database, refusing one whose schema is not current (and,
    on SQLite, one that does not exist: connecting would leave an empty file behind)."""
    url = get_settings().database.url
    missing = missing_sqlite_file(url)
    if missing is not None:
        raise ConfigurationError(
            f"there is no database at {missing}; run `stockpot db upgrade` to create it "
            "(or set DATABASE_URL)"
        )
    engine = make_engine(url)
    problem = schema_problem(engine)
    if problem is not None:
        raise ConfigurationError(f"{problem}; run `stockpot db upgrade` first")
    return make_session_factory(engine)


@contextmanager
def session_scope() -> Iterator[Session]:
    with unit_of_work(session_factory()) as session:
        yield session


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


@contextmanager
def output_file(path: str | None) -> Iterator[IO[str]]:
    """Where a command writes its output: stdout, or the file ``path``, replaced only once
    everything is written (a refusal or a failure halfway leaves the file as it was, not
    emptied or half written). A path that cannot be written is one clear line. (click's
    ``open_file(atomic=True)`` replaces the file even when the block raised.)"""
    if path is None:
        with click.open_file("-", "w", encoding="utf-8") as out:
            yield out
        return
    target = Path(path)
    try:
        out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (replaced or removed below)
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        )
    except OSError as error:
        raise ValidationFailed(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with out:
            yield out
        os.chmod(out.name, 0o666 & ~_umask())  # as open() would make it, not mkstemp's 0600
        os.replace(out.name, target)
    except BaseException:
        Path(out.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
