"""One writer thread that appends tracking requests to the log, committing the requests that wait together.

Why a thread of its own: a commit (and on SQLite a WAL checkpoint) blocks for milliseconds, and in the
event loop that would stall every connection; one transaction per request would also cap ingest at the
disk's fsync rate. The writer takes every request queued while the previous commit ran and appends them
in one transaction, so the commit rate adapts to the load with no timer. A request's future resolves only
after its transaction committed: a 200 still means the events are in the log.

The writer shares the GIL with the event loop, and every time it gives the GIL up (inside the driver) it
may wait up to the interpreter's switch interval to get it back. So records are serialised by the
request before they are queued, a group is one autocommit statement on a connection of the writer's own,
and a group's requests are answered with one wake-up of the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.exc import OperationalError

from omni.db.engine import Database, DatabaseUnavailable
from omni.events import rows, sources
from omni.events.errors import UnknownWriteKey
from omni.events.spec import EventRecord

log = logging.getLogger(__name__)

# Bounds one transaction (and so the time a request waits behind others) at ~2 MB of events.
MAX_GROUP_EVENTS = rows.SQLITE_STATEMENT_ROWS


@dataclass(frozen=True, eq=False)
class _Pending:
    rows: rows.PreparedRows
    source_id: int | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


class WriterStopped(RuntimeError):
    """The writer is not running, so nothing can be appended through it."""


class EventWriter:
    """Appends records to the event log from one thread, in group commits."""

    def __init__(self, database: Database, *, max_group_events: int = MAX_GROUP_EVENTS) -> None:
        self._database = database
        self._max_group_events = max_group_events
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="omni-event-writer", daemon=True)
        self._running = False
        self._lock = threading.Lock()
        self._raw: Any = None

    def start(self) -> None:
        """Start the writer thread."""
        with self._lock:
            self._running = True
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._queue.put(None)
        self._thread.join(timeout)

    async def append(self, records: Sequence[EventRecord], *, source_id: int | None = None) -> None:
        """Append records and return once they are committed to the log.

        With source_id, the records are refused (UnknownWriteKey) if that source is revoked by the time
        they would be committed.
        """
        loop = asyncio.get_running_loop()
        prepared = rows.prepare(self._database.dialect, records)
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if not self._running:
                raise WriterStopped("the event writer is not running")
            self._queue.put(_Pending(prepared, source_id, loop, future))
        await future

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                size = first.rows.count
                while size < self._max_group_events:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                        break
                    group.append(item)
                    size += item.rows.count
                outcomes: list[tuple[_Pending, BaseException | None]] = []
                self._write(group, outcomes)
                _settle(outcomes)
        finally:
            self._close_connection()

    def _write(self, pending: list[_Pending], outcomes: list[tuple[_Pending, BaseException | None]]) -> None:
        if not pending:
            return
        ids = {item.source_id for item in pending if item.source_id is not None}
        try:
            inserted = self._insert(pending, ids)
        except Exception as exc:
            self._close_connection()
            if len(pending) == 1:
                outcomes.append((pending[0], _as_answer(exc)))
                return
            # One bad request must not fail the others that shared its transaction: retry each alone.
            log.warning("group commit of %d requests failed (%s); writing them one by one", len(pending), exc)
            for item in pending:
                self._write([item], outcomes)
            return
        if inserted == 0 and ids:
            # Nothing new: every message was a retry, or a source was revoked and the guard held the group.
            with self._database.sessions() as session:
                active = sources.active_source_ids(session, ids)
            refused = [item for item in pending if item.source_id in ids and item.source_id not in active]
            if refused:
                revoked = UnknownWriteKey("the write key is unknown or has been revoked")
                outcomes.extend((item, revoked) for item in refused)
                self._write([item for item in pending if item not in refused], outcomes)
                return
        outcomes.extend((item, None) for item in pending)

    def _insert(self, pending: list[_Pending], ids: set[int]) -> int:
        batches = [item.rows for item in pending]
        connection = self._connection()
        if self._database.dialect == "sqlite":
            return rows.sqlite_insert_autocommit(connection, batches, active_sources=ids)
        return rows.postgres_insert_autocommit(connection, batches, active_sources=ids)

    def _connection(self) -> Any:
        if self._raw is None:
            # A connection of the writer's own, out of the pool, in autocommit mode: each group is one
            # statement and so one transaction. SQLite's commits are fsynced (FULL), which costs one
            # fsync per group rather than per request.
            self._raw = self._database.engine.raw_connection()
            driver = self._raw.driver_connection
            if self._database.dialect == "sqlite":
                driver.execute("PRAGMA synchronous=FULL")
            else:
                driver.autocommit = True
        return self._raw.driver_connection

    def _close_connection(self) -> None:
        if self._raw is not None:
            self._raw.invalidate()
            self._raw = None


def _as_answer(exc: Exception) -> Exception:
    # A database that is down or locked is the client's cue to retry (Segment's SDKs retry 5xx).
    if isinstance(exc, sqlite3.OperationalError | psycopg.OperationalError | OperationalError):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return DatabaseUnavailable(f"the event log cannot be written just now: {reason}")
    return exc


def _settle(outcomes: list[tuple[_Pending, BaseException | None]]) -> None:
    """Resolve each request's future in its event loop, waking each loop once."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending, BaseException | None]]] = {}
    for item, error in outcomes:
        by_loop.setdefault(item.loop, []).append((item, error))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, settled)
        except RuntimeError:
            # The loop has closed: nobody is waiting for these answers any more.
            log.warning("event loop closed before %d append(s) could be answered", len(settled))


def _resolve(settled: list[tuple[_Pending, BaseException | None]]) -> None:
    for item, error in settled:
        if item.future.done():  # the request was cancelled meanwhile
            continue
        if error is None:
            item.future.set_result(None)
        else:
            item.future.set_exception(error)
