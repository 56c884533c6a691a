"""Consumers of the log: each keeps a cursor and processes batches at least once, in log order.

A batch's handler runs in the same transaction that advances the cursor, so its database effects and the
cursor commit together: after a crash the batch is simply processed again. The log stores each messageId
once, so a handler sees each message once per consumer; a handler with effects outside the database keys
them by message_id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from omni.events import repository
from omni.events.models import ConsumerCursor, LoggedEvent
from omni.kit.time import utc_now

log = logging.getLogger(__name__)

Handler = Callable[[Session, Sequence[LoggedEvent]], None]


@dataclass(frozen=True)
class Consumer:
    """A named reaction to the log."""

    name: str
    handle: Handler
    description: str
    batch_size: int = 1000


@dataclass(frozen=True)
class ConsumerLag:
    name: str
    description: str
    position: int
    head: int
    lag: int
    processed: int
    updated_at: datetime | None


def _lock_cursor(session: Session, name: str) -> int:
    # Updating the row first takes its lock (PostgreSQL) or the write lock (SQLite) before reading it,
    # so two workers never process the same batch for one consumer at the same time.
    now = utc_now()
    touched = session.execute(
        update(ConsumerCursor).where(ConsumerCursor.name == name).values(updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not touched:
        session.execute(
            repository.dialect_insert(session, ConsumerCursor.__table__)
            .values(name=name, position=0, processed=0, updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        session.execute(update(ConsumerCursor).where(ConsumerCursor.name == name).values(updated_at=now))
    return int(session.scalar(select(ConsumerCursor.position).where(ConsumerCursor.name == name)) or 0)


def process_batch(factory: sessionmaker[Session], consumer: Consumer, *, until: int | None = None) -> int:
    """Process the next batch for consumer (up to position until, when given) in one transaction; return
    how many events it handled."""
    with factory() as session, session.begin():
        position = _lock_cursor(session, consumer.name)
        batch = repository.events_after(session, position, consumer.batch_size, until=until)
        if not batch:
            return 0
        consumer.handle(session, batch)
        session.execute(
            update(ConsumerCursor)
            .where(ConsumerCursor.name == consumer.name)
            .values(position=batch[-1].position, processed=ConsumerCursor.processed + len(batch))
        )
        return len(batch)


def catch_up(
    factory: sessionmaker[Session],
    consumers: Sequence[Consumer],
    *,
    on_progress: Callable[[str, int], None] | None = None,
) -> int:
    """Run every consumer until the log has nothing new for any of them; return events handled.

    Each pass runs the consumers in order up to the head of the log as it was when the pass began, so a
    consumer never sees an event that the consumers before it (whose work it reads, e.g. segments reading
    identity's attribution) have not handled yet. Events appended meanwhile, by clients or by consumers
    themselves (Segment Entered for journeys), are the next pass's.
    """
    total = 0
    while True:
        with factory() as session:
            head = repository.head_position(session)
        handled_in_pass = 0
        for consumer in consumers:
            while handled := process_batch(factory, consumer, until=head):
                handled_in_pass += handled
                if on_progress:
                    on_progress(consumer.name, handled)
        total += handled_in_pass
        if not handled_in_pass:
            return total


def lags(session: Session, consumers: Sequence[Consumer]) -> list[ConsumerLag]:
    """Each consumer's cursor against the head of the log; lag counts events, as positions may have gaps."""
    head = repository.head_position(session)
    cursors = {cursor.name: cursor for cursor in session.scalars(select(ConsumerCursor)).all()}
    result = []
    for consumer in consumers:
        cursor = cursors.get(consumer.name)
        result.append(
            ConsumerLag(
                name=consumer.name,
                description=consumer.description,
                position=cursor.position if cursor else 0,
                head=head,
                lag=repository.count_after(session, cursor.position if cursor else 0),
                processed=cursor.processed if cursor else 0,
                updated_at=cursor.updated_at if cursor else None,
            )
        )
    return result


class ConsumerWorker:
    """Runs consumers in a background thread, polling the log when idle."""

    def __init__(
        self, factory: sessionmaker[Session], consumers: Sequence[Consumer], *, idle_seconds: float = 0.5
    ) -> None:
        self._factory = factory
        self._consumers = list(consumers)
        self._idle_seconds = idle_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="omni-consumers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = catch_up(self._factory, self._consumers)
            except Exception:
                # A failing batch is retried from its cursor; log it and back off rather than die.
                log.exception("consumer batch failed; retrying")
                busy = 0
            if not busy:
                self._stop.wait(self._idle_seconds)
