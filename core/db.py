"""Engines, sessions and the column types that keep quantities exact on every database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Numeric,
    create_engine,
    event,
    exc,
    insert,
)
from sqlalchemy.engine import URL, Compiled, Connection, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import functions
from sqlalchemy.types import TypeDecorator, TypeEngine

from stockpot.core.pool_ping import IDLE_BEFORE_PING, ping_on_checkout

SCALE = 9
"""Decimal places kept for every stored quantity (a nanogram of a kg-based ingredient)."""

QUANTUM = Decimal(1).scaleb(-SCALE)


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it (for psycopg used directly: COPY in
    benchmarks, the workers' LISTEN connection)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def quantize(value: Decimal) -> Decimal:
    """Round once, half-even, to the stored scale."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


class Quantity(TypeDecorator[Decimal]):
    """An exact decimal with ``SCALE`` places.

    PostgreSQL stores ``NUMERIC(30, 9)``. SQLite has no exact decimal (its NUMERIC affinity
    turns ``0.1`` into a float), so there the value is an integer count of 10⁻⁹ units; sums
    stay exact and come back as ``Decimal`` because ``SUM`` keeps this column type.
    """

    impl = Numeric(30, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(30, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = quantize(Decimal(value))
        if dialect.name == "sqlite":
            return int(exact.scaleb(SCALE))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC, read back aware on every database.

    SQLite keeps no offset, so naive values are refused on the way in rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Stockpot stores aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def missing_sqlite_file(url: str | URL) -> str | None:
    """The file an SQLite URL names when it does not exist (connecting would create it
    empty), else ``None`` (it exists, is in memory, or the database is not SQLite)."""
    parsed = make_url(url)
    path = parsed.database
    if not is_sqlite(parsed) or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return None if Path(path).exists() else path


def make_engine(url: str | URL, *, ping_idle: float = IDLE_BEFORE_PING, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings Stockpot relies on. A PostgreSQL connection
    is checked before it is lent when it rested ``ping_idle`` seconds or the server spoke
    on it (``core.pool_ping``).

    On SQLite a unit of work starts with ``BEGIN IMMEDIATE``: writers queue on the database
    lock instead of failing halfway, which is what serialises two transfers of the same day
    there (PostgreSQL uses a row lock). Read-only sessions begin deferred, and with WAL they
    go on while a writer works.
    """
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No server-side prepared statements (psycopg prepares a query after its fifth run):
    # behind PgBouncer in transaction pooling, the next transaction may run on another server
    # connection, where the statement does not exist. Stockpot keeps no other session state
    # (no advisory locks, SET, LISTEN or temporary tables across transactions).
    connect_args = {"prepare_threshold": None, **kwargs.pop("connect_args", {})}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    ping_on_checkout(engine, idle=ping_idle)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        dbapi_connection.create_aggregate(EXACT_SUM, 1, _ExactSum)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


EXACT_SUM = "stockpot_exact_sum"
INT64 = range(-(2**63), 2**63)


class _ExactSum:
    """``SUM`` on SQLite, without its ``integer overflow``. A quantity is stored there as an
    integer count of 10⁻⁹ units (``Quantity``), so SQLite's own ``SUM`` gave up past 9.2
    billion base units: ten receipts of 999,999,999 g made every balance, count, variance and
    transfer of that ingredient fail. Python's integers have no such bound; a total beyond
    SQLite's integers comes back as its digits (``Quantity`` reads both)."""

    def __init__(self) -> None:
        self.total: int | float | None = None

    def step(self, value: int | float | None) -> None:
        if value is not None:
            self.total = value if self.total is None else self.total + value

    def finalize(self) -> int | float | str | None:
        total = self.total
        if isinstance(total, int) and total not in INT64:
            return str(total)
        return total


@compiles(functions.sum, "sqlite")
def _sum_on_sqlite(element: functions.sum[Any], compiler: Any, **kw: Any) -> str:
    return EXACT_SUM + compiler.function_argspec(element, **kw)


SessionFactory = sessionmaker[Session]
"""What services and listeners are given to open sessions with (one per unit of work)."""


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


IMMEDIATE = "stockpot_write_transaction"
"""Execution option: this transaction will write (SQLite takes the write lock at BEGIN)."""


def writing_engine(engine: Engine) -> Engine:
    """The same engine, every transaction of which takes SQLite's write lock at BEGIN: for
    code we do not own (slack_sdk's stores) that reads, then writes, in one transaction. In
    WAL mode such a transaction cannot wait for another writer to finish (its snapshot would
    be stale): it fails at once with "database is locked". Unchanged on PostgreSQL."""
    return engine.execution_options(**{IMMEDIATE: True})


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction that writes: committed when the block ends, rolled back if it raises.
    Plain ``factory()`` sessions are for reading."""
    with factory() as session, session.begin():
        session.connection(execution_options={IMMEDIATE: True})
        yield session


_ON_COMMIT = "stockpot.on_commit"
"""``Session.info`` key of the actions ``on_commit`` holds."""


def on_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's transaction commits; drop it if it rolls back. For
    what a process learns from its own writes (the items and snapshots a catalog knows are
    stored): true only once they are committed."""
    session.info.setdefault(_ON_COMMIT, []).append(action)


def committing_later(session: Session) -> bool:
    """Whether the session's transaction holds writes that ``on_commit`` actions wait for:
    what it reads now may include rows that roll back."""
    return bool(session.info.get(_ON_COMMIT))


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for action in session.info.pop(_ON_COMMIT, ()):
        action()


@event.listens_for(Session, "after_rollback")
def _drop_on_commit(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for one statement that commits by itself: on PostgreSQL in autocommit
    (the statement is its own transaction: no ``BEGIN`` and ``COMMIT`` round trips, and a
    ``pg_notify`` in it is delivered when it ends); on SQLite in a transaction that takes the
    write lock at ``BEGIN``, committed when the block ends. For the few statements a Slack
    request costs (``core.deliveries``, ``core.jobs.queue.enqueue_answers``)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
        return
    with writing_engine(engine).begin() as connection:
        yield connection


def insert_ignoring_conflicts(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    index_elements: list[str] | None = None,
) -> int:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect: rows that exist stay as
    they are. On PostgreSQL a concurrent insert of the same key waits, then does nothing.
    Without ``index_elements`` any unique constraint or index counts as a conflict.
    Returns how many rows were inserted (counted from RETURNING: drivers' rowcount is not
    reliable for conflicts skipped)."""
    return len(inserted_ids(session, table, rows, index_elements=index_elements))


def inserted_ids(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    index_elements: list[str] | None = None,
) -> list[Any]:
    """The primary keys of the rows an ``INSERT … ON CONFLICT DO NOTHING`` inserted."""
    if not rows:
        return []
    statement = ignoring_conflicts(session, table, index_elements)
    return list(session.scalars(statement, rows).all())


def ignoring_conflicts(session: Session, table: Any, index_elements: list[str] | None) -> Any:
    """The statement ``inserted_ids`` runs, for ``send_together``."""
    return _insert_ignoring(
        table,
        session.get_bind().dialect.name,
        None if index_elements is None else tuple(index_elements),
    )


@cache
def _insert_ignoring(table: Any, dialect: str, index_elements: tuple[str, ...] | None) -> Any:
    """Built once per table: transfers run it for every day and its new items, and building
    it cost about as much as its round trip."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - guarded by the settings' supported URLs
        raise NotImplementedError(f"unsupported database '{dialect}'")
    key = next(iter(table.primary_key.columns))
    elements = None if index_elements is None else list(index_elements)
    return dialect_insert(table).on_conflict_do_nothing(index_elements=elements).returning(key)


COPY_CHUNK = 256
"""Rows of COPY text sent per write. A block's rows are formatted (and, when they are
computed as they are read, computed) a chunk at a time, so PostgreSQL inserts one chunk while
the next is made: a day's 1,791 movements kept the server idle for the 4 ms the client took
to round and format them all, then the client idle for the 12 ms the server took."""
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(row: tuple[Any, ...], moments: dict[Any, str]) -> str | None:
    """A row in COPY's text format, for the plain values a bulk insert writes (ints,
    decimals, text, dates, times, NULL), or ``None`` for a row holding anything else (then
    the driver writes it). One pass per row, and each date or time (a batch repeats a few)
    formatted once in ``moments``: the driver's per-value dumping was most of the client's
    side of a movements COPY."""
    fields = []
    for value in row:
        kind = type(value)
        if kind is int or kind is Decimal:
            fields.append(str(value))
        elif kind is str:
            fields.append(value.translate(_COPY_ESCAPES))
        elif value is None:
            fields.append("\\N")
        elif kind is date or kind is datetime:
            text = moments.get(value)
            if text is None:
                text = moments[value] = value.isoformat()
            fields.append(text)
        else:
            return None
    return "\t".join(fields) + "\n"


@dataclass(frozen=True, slots=True)
class CopyBlock:
    """Rows that end in the same values (a run's company, type, date, id and time): those
    are written once per block, and each row's own leading values are numbers only (ints and
    Decimals, never NULL), written as they print. A movements COPY of a day writes about
    2,000 rows of three numbers each."""

    numbers: Iterable[tuple[int | Decimal, ...]]
    shared: tuple[Any, ...]


def copy_blocks(
    session: Session,
    table: Any,
    number_columns: Sequence[str],
    shared_columns: Sequence[str],
    blocks: Iterable[CopyBlock],
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """``copy_rows`` of the rows ``number_columns + shared_columns`` that ``blocks`` hold,
    with each block's shared values formatted once; a block's ``numbers`` are read as they
    are sent (``COPY_CHUNK``).

    ``meanwhile``: the caller's work that needs neither the connection nor the rows in
    place, run once the last row is sent. PostgreSQL inserts rows more slowly than they are
    made (a day's 1,800 movements: about 4 ms to make, 12 to insert), so work done here
    costs nothing; after the COPY it would wait for the server's backlog."""
    columns = (*number_columns, *shared_columns)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        copy_rows(
            session,
            table,
            columns,
            ((*numbers, *block.shared) for block in blocks for numbers in block.numbers),
        )
        if meanwhile is not None:
            meanwhile()
        return
    with _copy(connection, table, columns) as copy:
        moments: dict[Any, str] = {}
        for block in blocks:
            shared = _copy_line(block.shared, moments)
            if shared is None:
                raise TypeError(f"a value of {block.shared!r} has no COPY text form here")
            tail = "\t" + shared
            numbers = iter(block.numbers)
            while text := ["\t".join(map(str, row)) + tail for row in islice(numbers, COPY_CHUNK)]:
                copy.write("".join(text))
        if meanwhile is not None:
            copy.connection.pgconn.flush()  # the last rows too: the server works on them now
            meanwhile()


@contextmanager
def _copy(connection: Connection, table: Any, columns: Sequence[str]) -> Iterator[Any]:
    names = ", ".join(columns)
    with (
        connection.connection.driver_connection.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
    ):
        yield copy


def copy_rows(
    session: Session, table: Any, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Bulk insert in the session's transaction: ``COPY`` on PostgreSQL (values as the
    database takes them: enum values, quantized decimals), else an executemany."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        with _copy(connection, table, columns) as copy:
            text: list[str] = []
            moments: dict[Any, str] = {}
            for row in rows:
                line = _copy_line(row, moments)
                if line is None:  # a value of a kind the text path does not write
                    copy.write("".join(text))
                    text.clear()
                    copy.write_row(row)
                    continue
                text.append(line)
                if len(text) == COPY_CHUNK:
                    copy.write("".join(text))
                    text.clear()
            if text:
                copy.write("".join(text))
        return
    batch = [dict(zip(columns, row, strict=True)) for row in rows]
    if batch:
        session.execute(insert(table), batch)


Parameters = dict[str, Any] | list[dict[str, Any]]
"""A statement's values: one dict, or a list of them for one execution per dict."""


def send_together(
    session: Session, statements: Sequence[tuple[Any, Parameters]]
) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` (each a Core statement and its values) in order in the session's
    transaction, each with its own snapshot as if sent alone, and return each one's rows
    (none for one that returns none, or whose list of values is empty).

    On PostgreSQL they go in one round trip (psycopg's pipeline mode): a transfer's last
    statements waited for each other one by one. Each is compiled once per shape (expanding
    ``IN`` parameters rendered for their lengths) and its values converted by their column
    types as SQLAlchemy would; rows come back as the driver reads them (no type's conversion
    on the way out: for ints, text, dates and decimals). SQLite runs them one by one."""
    if session.get_bind().dialect.name != "postgresql":
        return [_rows(session, statement, values) for statement, values in statements]
    connection = session.connection()
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    sent = []
    try:
        with driver.pipeline():
            for statement, values in statements:
                if isinstance(values, list) and not values:
                    sent.append(None)
                    continue
                cursor = driver.cursor()
                first = values[0] if isinstance(values, list) else values
                sql, bind = _driver_statement(statement, dialect, first)
                if isinstance(values, list):
                    cursor.executemany(sql, [bind(row) for row in values])
                else:
                    cursor.execute(sql, bind(values))
                sent.append(cursor)
        return [[] if c is None or c.description is None else c.fetchall() for c in sent]
    except driver.Error as error:
        raise exc.DBAPIError.instance(None, None, error, type(driver).Error) from error


def _rows(session: Session, statement: Any, values: Parameters) -> list[tuple[Any, ...]]:
    if isinstance(values, list) and not values:
        return []
    result = session.connection().execute(statement, values)
    return [tuple(row) for row in result] if result.returns_rows else []


def _driver_statement(
    statement: Any, dialect: Dialect, values: dict[str, Any]
) -> tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    """The statement's SQL for the driver, and what makes its parameters from ``values``."""
    lengths = {
        name: len(value) for name, value in values.items() if isinstance(value, list | tuple)
    }
    key = (statement, dialect.name, tuple(sorted(values)), tuple(sorted(lengths.items())))
    known = _DRIVER_STATEMENTS.get(key)
    if known is None:
        known = _DRIVER_STATEMENTS[key] = _compiled_for_driver(statement, dialect, values)
    sql, defaults, converters = known

    def bind(row: dict[str, Any]) -> dict[str, Any]:
        out = dict(defaults)
        for name, value in row.items():
            if name in lengths:
                out.update(_expanded(name, value))
            else:
                out[name] = value
        for name, convert in converters.items():
            if name in out:
                out[name] = convert(out[name])
        return out

    return sql, bind


_DRIVER_STATEMENTS: dict[
    tuple[Any, ...], tuple[str, dict[str, Any], dict[str, Callable[[Any], Any]]]
] = {}
"""Compiled once per statement and shape (which values, how long each list): compiling
costs more than the round trip saved."""


def _compiled_for_driver(
    statement: Any, dialect: Dialect, values: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Callable[[Any], Any]]]:
    expanding = {name: value for name, value in values.items() if isinstance(value, list | tuple)}
    shaped = statement.params(values) if expanding else statement
    compiled: Compiled = shaped.compile(
        dialect=dialect,
        column_keys=list(values),
        compile_kwargs={"render_postcompile": True},
    )
    given = set(values).union(*(_expanded(name, value) for name, value in expanding.items()))
    defaults = {name: value for name, value in compiled.params.items() if name not in given}
    # The column types' conversions, as the execution applies them (no public view of them;
    # a tuple's are per element, and none of its elements needs one here).
    converters = {
        name: convert for name, convert in compiled._bind_processors.items() if callable(convert)
    }
    return compiled.string, defaults, converters


def _expanded(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """An expanding parameter's values under the names ``render_postcompile`` gives them:
    ``name_1``, ``name_2``, …, and ``name_1_1``, ``name_1_2``, … for tuples."""
    out = {}
    for n, value in enumerate(values, 1):
        if isinstance(value, tuple):
            out.update({f"{name}_{n}_{m}": item for m, item in enumerate(value, 1)})
        else:
            out[f"{name}_{n}"] = value
    return out
