"""Engines and sessions: SQLite with WAL, a busy timeout and ``BEGIN IMMEDIATE`` writes; PostgreSQL via psycopg 3."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.retries import retrying

BUSY_TIMEOUT_MS = 30_000
# SQLite's primary result codes that say the database cannot be used right now, not that a statement is wrong:
# BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL (sqlite3 raises OperationalError for "no such table"
# and syntax errors too, with SQLITE_ERROR).
_SQLITE_UNAVAILABLE = frozenset({5, 6, 8, 10, 13, 14, 15})
P = ParamSpec("P")
T = TypeVar("T")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own transaction handling
    # would start transactions lazily and always DEFERRED).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Writers take the write lock up front: a deferred read-then-write transaction that finds the
    # database locked on its first write cannot wait (busy_timeout does not apply) and fails.
    mode = "IMMEDIATE" if connection.get_execution_options().get("labourwatch_write") else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


# Drivers labourwatch is built and tested on; ``postgresql://`` is taken to mean psycopg 3.
_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


def engine_url(url: str) -> URL:
    """The URL an engine is made from; ValueError for what SQLAlchemy cannot parse or a driver we do not
    support. Messages never repeat the URL (it may hold a password)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ValueError("not a database URL (use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in _DRIVERS:
        raise ValueError(f"unsupported database driver {parsed.drivername!r} (use sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/DB)")
    return parsed


def check_database_url(url: str) -> None:
    """Raise ValueError unless an engine can be made for ``url``: parsed, driver supported and importable.
    Nothing is connected to or created."""
    parsed = engine_url(url)
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as exc:
        raise ValueError(f"the driver of {parsed.drivername!r} is not installed ({exc.name})") from exc


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the pragmas and transaction behaviour labourwatch relies on."""
    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False,
                                                     "timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc``, or an exception it came from, says that the database cannot be reached or written right
    now (server down or restarting, connection lost, disk full, locked) rather than that a statement or the code
    is wrong: an outage to report and wait out, not a bug to show a traceback for."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            if isinstance(current, OperationalError | InterfaceError):
                code = getattr(current.orig, "sqlite_errorcode", None)
                return code is None or code & 0xFF in _SQLITE_UNAVAILABLE
        current = current.__cause__ or current.__context__
    return False


def error_summary(exc: BaseException, limit: int = 300) -> str:
    """``exc`` as one short line for logs and /healthz: a database error as its driver's exception and the first
    line of its message (not SQLAlchemy's statement, parameters and help link), anything else as its type and
    first line."""
    shown: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = next((line.strip() for line in str(shown).splitlines() if line.strip()), "")
    text = f"{type(shown).__name__}: {first}" if first else type(shown).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Database:
    """One engine and its sessions: ``read()`` for queries, ``write()`` for one short write transaction."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self.engine.execution_options(labourwatch_write=True), expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is an SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed. Objects stay readable after it closes."""
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        with self._writer() as session, session.begin():
            yield session

    def in_read(self, func: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(session, *args, **kwargs)`` in a read session (handy for ``asyncio.to_thread``)."""
        with self.read() as session:
            return func(session, *args, **kwargs)

    def in_write(self, func: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(session, *args, **kwargs)`` in one write transaction; run again in a new one when PostgreSQL
        aborts it for a race with another (deadlock, serialization failure: ``db.retries``), so ``func`` must do
        all its work on the session (nothing outside the database that a rollback would not undo)."""
        def transaction() -> T:
            with self.write() as session:
                return func(session, *args, **kwargs)

        return retrying(transaction)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
