"""How log records become database rows: serialised once, in plain driver values, per dialect.

SQLAlchemy's per-value bind processing (JSON through json.dumps, times through two type processors) costs
more than the database's own work on an event, so the append path hands the driver finished values:
on SQLite the flat parameters of multi-row INSERTs, on PostgreSQL one JSON array that the server unpacks.
Serialising can also happen before the writing transaction, in the request that brought the events.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from sqlalchemy import text

from omni.events.spec import EventRecord

# Any constant works; it names the one lock that orders appends on PostgreSQL.
APPEND_LOCK_KEY = 0x0E7E_4706

TEXT_COLUMNS = (
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
JSON_COLUMNS = ("properties", "traits", "context")
TIME_COLUMNS = ("timestamp", "original_timestamp", "sent_at", "received_at")
# In EventRecord's field order, which the JSON documents and the parameter lists rely on.
ALL_COLUMNS = (*TEXT_COLUMNS, *JSON_COLUMNS, *TIME_COLUMNS)
_QUOTED_COLUMNS = ", ".join(f'"{c}"' for c in ALL_COLUMNS)

_POSTGRES_VALUES = ", ".join(
    [f"doc->>'{c}'" for c in TEXT_COLUMNS]
    + [f"doc->'{c}'" for c in JSON_COLUMNS]
    + [f"CAST(doc->>'{c}' AS timestamptz)" for c in TIME_COLUMNS]
)
POSTGRES_INSERT_RETURNING = text(
    f"INSERT INTO event_log ({_QUOTED_COLUMNS}) SELECT {_POSTGRES_VALUES} "
    "FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS batch(doc, n) "
    "ORDER BY n ON CONFLICT (message_id) DO NOTHING RETURNING position, message_id"
)
# The writer's append is one autocommit statement. The lock is taken in a CTE joined to every row, so it
# is held before the first position is drawn and until the statement commits. The guard inserts nothing
# unless each sending source is still active, so a key revoked a moment ago cannot slip events in through
# a request that was already on its way.
_POSTGRES_GUARDED_INSERT = (
    "WITH append_lock AS (SELECT pg_advisory_xact_lock(%(key)s)) "
    f"INSERT INTO event_log ({_QUOTED_COLUMNS}) SELECT {_POSTGRES_VALUES} "
    "FROM append_lock, jsonb_array_elements(CAST(%(rows)s AS jsonb)) WITH ORDINALITY AS batch(doc, n) "
    "WHERE (SELECT count(*) FROM event_source WHERE id = ANY(CAST(%(sources)s AS integer[])) "
    "AND revoked_at IS NULL) = %(active)s "
    "ORDER BY n ON CONFLICT (message_id) DO NOTHING"
)

# SQLite before 3.32 allows 999 parameters per statement, later versions 32766. Statements are cut in
# power-of-two row counts so that a handful of prepared statements serve every batch size.
_SQLITE_MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
_SQLITE_MAX_ROWS = 1 << ((_SQLITE_MAX_PARAMETERS // len(ALL_COLUMNS)).bit_length() - 1)
_SQLITE_ROW = "(" + ", ".join("?" * len(ALL_COLUMNS)) + ")"
# Room for the guard's source ids in a statement of the largest size.
SQLITE_STATEMENT_ROWS = (_SQLITE_MAX_PARAMETERS - 100) // len(ALL_COLUMNS)


def to_json(value: Any) -> str:
    """Compact JSON text of value."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which Python's json writes as they are.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_iso_time)


def _iso_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime writes and reads: naive UTC with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def sqlite_parameters(records: Sequence[EventRecord]) -> list[Any]:
    """The flat parameter list of records for multi-row INSERTs, column by column in ALL_COLUMNS order."""
    parameters: list[Any] = []
    # The records of one request share one received_at object: convert it once.
    received: datetime | None = None
    received_text: str | None = None
    for r in records:
        if r.received_at is not received:
            received, received_text = r.received_at, sqlite_time(r.received_at)
        parameters += (
            r.message_id,
            r.type,
            r.event,
            r.name,
            r.user_id,
            r.anonymous_id,
            r.group_id,
            r.previous_id,
            r.channel,
            r.source,
            to_json(r.properties),
            to_json(r.traits),
            to_json(r.context),
            sqlite_time(r.timestamp),
            sqlite_time(r.original_timestamp),
            sqlite_time(r.sent_at),
            received_text,
        )
    return parameters


# One statement's JSON parameter stays far below jsonb's 256 MB per value: a full recompute can announce a
# million Segment Entered events at once.
POSTGRES_STATEMENT_ROWS = 5_000
POSTGRES_STATEMENT_BYTES = 64 << 20


def postgres_batches(
    records: Sequence[EventRecord],
    *,
    rows: int | None = None,
    limit: int | None = None,
) -> Iterator[str]:
    """records, in order, as JSON arrays of at most rows records and limit bytes (one record may exceed
    it); POSTGRES_STATEMENT_ROWS and POSTGRES_STATEMENT_BYTES by default."""
    size = rows or POSTGRES_STATEMENT_ROWS
    for start in range(0, len(records), size):
        yield from _fitted(records[start : start + size], limit or POSTGRES_STATEMENT_BYTES)


def _fitted(records: Sequence[EventRecord], limit: int) -> Iterator[str]:
    document = postgres_documents(records)
    if len(document) <= limit or len(records) == 1:
        yield document
        return
    half = len(records) // 2
    yield from _fitted(records[:half], limit)
    yield from _fitted(records[half:], limit)


def postgres_documents(records: Sequence[EventRecord]) -> str:
    """The records as one JSON array for POSTGRES_INSERT; orjson writes aware times as ISO 8601."""
    try:
        # orjson writes a dataclass as an object of its fields, which are the log's columns.
        return orjson.dumps(list(records)).decode()
    except orjson.JSONEncodeError:
        return to_json([{name: getattr(record, name) for name in ALL_COLUMNS} for record in records])


@lru_cache(maxsize=32)
def sqlite_insert(rows: int, *, returning: bool) -> str:
    """A multi-row INSERT of rows records that skips message ids already in the log."""
    return (
        f"INSERT INTO event_log ({_QUOTED_COLUMNS}) VALUES {', '.join([_SQLITE_ROW] * rows)} "
        "ON CONFLICT (message_id) DO NOTHING" + (" RETURNING position, message_id" if returning else "")
    )


@lru_cache(maxsize=64)
def sqlite_guarded_insert(rows: int, sources: int) -> str:
    """sqlite_insert that inserts nothing unless the `sources` source ids that follow the rows are active."""
    return (
        f"INSERT INTO event_log ({_QUOTED_COLUMNS}) SELECT "
        + ", ".join(f"column{i}" for i in range(1, len(ALL_COLUMNS) + 1))
        + f" FROM (VALUES {', '.join([_SQLITE_ROW] * rows)}) "
        f"WHERE (SELECT count(*) FROM event_source WHERE id IN ({', '.join('?' * sources)}) "
        "AND revoked_at IS NULL) = ? ON CONFLICT (message_id) DO NOTHING"
    )


def sqlite_chunks(parameters: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    """Split flat parameters into (rows, parameters) pieces of power-of-two row counts."""
    width = len(ALL_COLUMNS)
    remaining = len(parameters) // width
    start = 0
    while remaining:
        rows = min(_SQLITE_MAX_ROWS, 1 << (remaining.bit_length() - 1))
        yield rows, parameters[start : start + rows * width]
        start += rows * width
        remaining -= rows


@dataclass(frozen=True, slots=True)
class PreparedRows:
    """Records already serialised for one dialect, ready to be appended in any transaction."""

    dialect: str
    count: int
    payload: list[Any] | str


def prepare(dialect: str, records: Sequence[EventRecord]) -> PreparedRows:
    """Serialise records for the *_insert_autocommit of dialect ("sqlite" or "postgresql")."""
    if dialect == "postgresql":
        return PreparedRows(dialect, len(records), postgres_documents(records))
    return PreparedRows(dialect, len(records), sqlite_parameters(records))


def _joined(batches: Sequence[PreparedRows]) -> list[Any]:
    parameters: list[Any] = []
    for batch in batches:
        parameters += batch.payload
    return parameters


def sqlite_insert_autocommit(
    connection: sqlite3.Connection, batches: Sequence[PreparedRows], *, active_sources: Collection[int] = ()
) -> int:
    """Insert prepared rows whose message_id is new, in order, on a sqlite3 connection in autocommit mode.

    Nothing is inserted unless every source in active_sources is still active; returns how many rows
    were inserted, so 0 means all duplicates or a revoked source.

    A group that fits one statement is one statement and so its own transaction: the driver gives up the
    GIL once for the whole append, where BEGIN, INSERT and COMMIT would each take it back.
    """
    parameters = _joined([batch for batch in batches if batch.count])
    if not parameters:
        return 0
    sources = sorted(set(active_sources))
    width = len(ALL_COLUMNS)
    rows = len(parameters) // width
    if rows <= SQLITE_STATEMENT_ROWS:
        statement = sqlite_guarded_insert(rows, len(sources))
        return int(connection.execute(statement, (*parameters, *sources, len(sources))).rowcount)
    connection.execute("BEGIN IMMEDIATE")
    try:
        inserted = 0
        for count, chunk in sqlite_chunks(parameters):
            statement = sqlite_guarded_insert(count, len(sources))
            inserted += connection.execute(statement, (*chunk, *sources, len(sources))).rowcount
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return inserted


def postgres_insert_autocommit(
    connection: psycopg.Connection[Any],
    batches: Sequence[PreparedRows],
    *,
    active_sources: Collection[int] = (),
) -> int:
    """sqlite_insert_autocommit for PostgreSQL: one autocommit statement on a psycopg connection.

    One round trip per group instead of four (lock, insert, commit and the pool's ping), each of which
    would have the writer wait for the GIL again.
    """
    batches = [batch for batch in batches if batch.count]
    if not batches:
        return 0
    sources = sorted(set(active_sources))
    documents = "[" + ",".join(str(batch.payload)[1:-1] for batch in batches) + "]"
    parameters = {"key": APPEND_LOCK_KEY, "rows": documents, "sources": sources, "active": len(sources)}
    return int(connection.execute(_POSTGRES_GUARDED_INSERT, parameters).rowcount)
