"""SQL of the event log: the ordered append and the reads consumers and pages need."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omni.events.models import LoggedEvent
from omni.events.spec import EventRecord

_RECORD_FIELDS = tuple(field.name for field in fields(EventRecord))

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
        return _insert_new_postgres(session, records)
    statement = (
        dialect_insert(session, LoggedEvent.__table__)
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(LoggedEvent.position, LoggedEvent.message_id)
    )
    # Shallow rows: dataclasses.asdict deep-copies every JSON document and costs more than the insert.
    rows = session.execute(
        statement, [{name: getattr(record, name) for name in _RECORD_FIELDS} for record in records]
    ).all()
    return [(row[0], row[1]) for row in rows]


_TEXT_COLUMNS = (
    "message_id",
    "type",
    "event",
    "name",
    "user_id",
    "anonymous_id",
    "group_id",
    "previous_id",
    "channel",
    "source",
)
_JSON_COLUMNS = ("properties", "traits", "context")
_TIME_COLUMNS = ("timestamp", "original_timestamp", "sent_at", "received_at")
_POSTGRES_INSERT = text(
    "INSERT INTO event_log ({columns}) SELECT {values} "
    "FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS batch(doc, n) ORDER BY n "
    "ON CONFLICT (message_id) DO NOTHING RETURNING position, message_id".format(
        columns=", ".join(f'"{c}"' for c in (*_TEXT_COLUMNS, *_JSON_COLUMNS, *_TIME_COLUMNS)),
        values=", ".join(
            [f"doc->>'{c}'" for c in _TEXT_COLUMNS]
            + [f"doc->'{c}'" for c in _JSON_COLUMNS]
            + [f"CAST(doc->>'{c}' AS timestamptz)" for c in _TIME_COLUMNS]
        ),
    )
)


def _insert_new_postgres(session: Session, records: Sequence[EventRecord]) -> list[tuple[int, str]]:
    # The whole batch travels as one JSON parameter: a multi-row VALUES statement with thousands of
    # parameters costs more in client-side SQL handling than the insert costs the server.
    documents = [
        {
            **{name: getattr(record, name) for name in (*_TEXT_COLUMNS, *_JSON_COLUMNS)},
            **{name: _iso(getattr(record, name)) for name in _TIME_COLUMNS},
        }
        for record in records
    ]
    rows = session.execute(_POSTGRES_INSERT, {"rows": json.dumps(documents, ensure_ascii=False)}).all()
    return [(row[0], row[1]) for row in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def head_position(session: Session) -> int:
    """The position of the newest event, 0 for an empty log."""
    return int(session.scalar(select(func.coalesce(func.max(LoggedEvent.position), 0))) or 0)


def events_after(session: Session, position: int, limit: int) -> Sequence[LoggedEvent]:
    """Up to limit events after position, in log order."""
    return session.scalars(
        select(LoggedEvent).where(LoggedEvent.position > position).order_by(LoggedEvent.position).limit(limit)
    ).all()


def count_after(session: Session, position: int) -> int:
    """How many events lie after position."""
    return int(
        session.scalar(select(func.count()).select_from(LoggedEvent).where(LoggedEvent.position > position))
        or 0
    )
