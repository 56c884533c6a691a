"""SQL of the event log: the ordered append and the reads consumers and pages need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omni.events.models import LoggedEvent
from omni.events.spec import EventRecord

# Any constant works; it names the one lock that orders appends on PostgreSQL.
APPEND_LOCK_KEY = 0x0E7E_4706


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
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
    statement = (
        dialect_insert(session, LoggedEvent.__table__)
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(LoggedEvent.position, LoggedEvent.message_id)
    )
    rows = session.execute(statement, [asdict(record) for record in records]).all()
    return [(row[0], row[1]) for row in rows]


def head_position(session: Session) -> int:
    """The position of the newest event, 0 for an empty log."""
    return int(session.scalar(select(func.coalesce(func.max(LoggedEvent.position), 0))) or 0)


def events_after(session: Session, position: int, limit: int) -> Sequence[LoggedEvent]:
    """Up to limit events after position, in log order."""
    return session.scalars(
        select(LoggedEvent).where(LoggedEvent.position > position).order_by(LoggedEvent.position).limit(limit)
    ).all()
