"""Create engines and sessions: SQLite tuned for an embedded server, PostgreSQL for production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from omni.kit.errors import OmniError


class DatabaseUnavailable(OmniError):
    status_code = 503
    code = "database_unavailable"


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for url; SQLite gets WAL, foreign keys and transactional DDL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args={"connect_timeout": 5}
    )


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and commits DDL on its own; taking over BEGIN makes migrations
    # and every unit of work atomic, as they are on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    # A deferred transaction that reads and then writes fails at once (SQLITE_BUSY, no waiting) when another
    # connection committed in between; BEGIN IMMEDIATE takes the write lock first and waits its turn. Only
    # units of work marked read-only (see `reading`) begin deferred, so readers never wait for writers.
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


_SQLITE_BEGIN = "omni_sqlite_begin"
# Set for the duration of work that only reads (a GET request): its units of work need no write lock.
_READ_ONLY: ContextVar[bool] = ContextVar("omni_read_only", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Mark the work inside as read-only, so SQLite transactions begin without taking the write lock."""
    token = _READ_ONLY.set(True)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Run a block in one transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def describe(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a one-line reason when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot reach the database at {describe(str(engine.url))}: {reason} "
            "(start it, or point OMNI_DATABASE_URL at a running one)"
        ) from None


class Database:
    """An engine and its session factory: what a process needs to reach the operational store."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_db_engine(url, echo=echo)
        self.sessions = make_session_factory(self.engine)
        self.read_sessions = make_session_factory(
            self.engine.execution_options(**{_SQLITE_BEGIN: "DEFERRED"})
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit_of_work(self) -> AbstractContextManager[Session]:
        """One transaction: commit on success, roll back on error (read-only inside `reading()`)."""
        return unit_of_work(self.read_sessions if _READ_ONLY.get() else self.sessions)

    def read_only_unit(self) -> AbstractContextManager[Session]:
        """One transaction that only reads: on SQLite it takes no write lock and waits for no writer."""
        return unit_of_work(self.read_sessions)

    def dispose(self) -> None:
        self.engine.dispose()
