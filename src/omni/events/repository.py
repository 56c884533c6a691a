"""SQL of the event log: the ordered append and the reads consumers and pages need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omni.events import rows
from omni.events.models import LoggedEvent
from omni.events.spec import EventRecord


def dialect_insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT, for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def insert_new(session: Session, records: Sequence[EventRecord]) -> list[tuple[int, str]]:
    """Insert records whose message_id is new; return (position, message_id) of those inserted.

    A sequence alone would hand out positions in call order, not commit order, and a consumer reading
    "after position p" could then miss an event committed late with a lower position. Appends therefore
    take one transaction-scoped lock on PostgreSQL, so positions become visible in order; SQLite has one
    writer anyway.
    """
    if not records:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": rows.APPEND_LOCK_KEY})
        return _insert_new_postgres(session, records)
    return _insert_new_sqlite(session, records)


def _insert_new_postgres(session: Session, records: Sequence[EventRecord]) -> list[tuple[int, str]]:
    # Each statement's rows travel as one JSON parameter: a multi-row VALUES statement with thousands of
    # parameters costs more in client-side SQL handling than the insert costs the server.
    inserted: list[tuple[int, str]] = []
    for document in rows.postgres_batches(records):
        result = session.execute(rows.POSTGRES_INSERT_RETURNING, {"rows": document})
        inserted.extend((row[0], row[1]) for row in result.all())
    return inserted


def _insert_new_sqlite(session: Session, records: Sequence[EventRecord]) -> list[tuple[int, str]]:
    connection = session.connection()
    inserted: list[tuple[int, str]] = []
    for count, chunk in rows.sqlite_chunks(rows.sqlite_parameters(records)):
        result = connection.exec_driver_sql(rows.sqlite_insert(count, returning=True), tuple(chunk))
        inserted.extend((row[0], row[1]) for row in result.all())
    return inserted


def head_position(session: Session) -> int:
    """The position of the newest event, 0 for an empty log."""
    return int(session.scalar(select(func.coalesce(func.max(LoggedEvent.position), 0))) or 0)


def events_after(
    session: Session, position: int, limit: int, *, until: int | None = None
) -> Sequence[LoggedEvent]:
    """Up to limit events after position (and at or before until, when given), in log order."""
    query = select(LoggedEvent).where(LoggedEvent.position > position)
    if until is not None:
        query = query.where(LoggedEvent.position <= until)
    return session.scalars(query.order_by(LoggedEvent.position).limit(limit)).all()


def count_after(session: Session, position: int) -> int:
    """How many events lie after position."""
    return int(
        session.scalar(select(func.count()).select_from(LoggedEvent).where(LoggedEvent.position > position))
        or 0
    )
