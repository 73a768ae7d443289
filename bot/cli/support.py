"""What every CLI command shares: error reporting, database sessions, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from stockpot.bot.health import schema_problem
from stockpot.core.db import (
    make_engine,
    make_session_factory,
    missing_sqlite_file,
    unit_of_work,
)
from stockpot.core.errors import ConfigurationError, StockpotError
from stockpot.core.settings import get_settings

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a user-facing error as one clear message on stderr and exit 1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StockpotError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database, refusing one whose schema is not current (and,
    on SQLite, one that does not exist: connecting would leave an empty file behind)."""
    url = get_settings().database_url
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
