"""Group commit for cart holds: one writer per lane of SKUs takes the waiting holds and commits them together.

In a flash sale every buyer wants the same row. One transaction per hold makes each buyer wait for the row
lock and then for its own commit; a writer that owns the SKU's lane instead runs the waiting holds one after
another in a single transaction and pays for one commit, so the row is never contended and the disk is
synced once per batch. The holds of a batch are decided under the level's row lock and taken with one
conditional UPDATE (holds.reserve_many), so a batch cannot oversell either.
"""

from __future__ import annotations

import queue
import threading
import time
import zlib
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from omni.inventory.holds import HoldRequest, Outcome, reserve_many
from omni.inventory.ledger import LOCATIONS_CACHE

MAX_BATCH = 256
LOCATIONS_FOR_SECONDS = 5.0


class _Hold:
    """A waiting hold: the buyer's thread blocks on `done` (held by the writer) until the outcome is set.

    A bare lock instead of a Future: no condition variable, no callbacks, one C-level acquire per hand-off.
    """

    __slots__ = ("request", "done", "outcome")

    def __init__(self, request: HoldRequest) -> None:
        self.request = request
        self.done = threading.Lock()
        self.done.acquire()
        self.outcome: Outcome | BaseException | None = None

    def answer(self, outcome: Outcome | BaseException) -> None:
        self.outcome = outcome
        self.done.release()


class ReservationDesk:
    """Serve `reserve` from many threads through lanes keyed by SKU × location, one writer thread each.

    One lane by default on both engines: its batches span every SKU waiting and pay one commit for all of
    them, where lanes keyed by SKU would split the same holds into smaller batches.
    """

    def __init__(self, factory: sessionmaker[Session], *, lanes: int | None = None) -> None:
        self._factory = factory
        self._queues: list[queue.SimpleQueue[_Hold | None]] = [queue.SimpleQueue() for _ in range(lanes or 1)]
        self._known_locations: dict[str, tuple[int, int]] = {}
        self._locations_since = time.monotonic()
        self._threads = [
            threading.Thread(target=self._run, args=(lane,), name=f"omni-desk-{n}", daemon=True)
            for n, lane in enumerate(self._queues)
        ]

    def __enter__(self) -> ReservationDesk:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _locations(self) -> dict[str, tuple[int, int]]:
        # Locations looked up by any lane, forgotten every few seconds so a changed safety stock is seen soon.
        now = time.monotonic()
        if now - self._locations_since > LOCATIONS_FOR_SECONDS:
            self._known_locations = {}
            self._locations_since = now
        return self._known_locations

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        for lane in self._queues:
            lane.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def reserve(self, *, sku: str, location: str, quantity: int, expires_at: datetime, reference: str) -> int:
        """Hold units as service.reserve does, committed when this returns; the reservation id."""
        hold = _Hold(HoldRequest(sku, location, quantity, expires_at, reference))
        queues = self._queues
        if len(queues) == 1:
            queues[0].put(hold)
        else:
            queues[zlib.crc32(f"{sku}\x00{location}".encode()) % len(queues)].put(hold)
        hold.done.acquire()
        outcome = hold.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, int)
        return outcome

    def _run(self, lane: queue.SimpleQueue[_Hold | None]) -> None:
        # The writer keeps one connection: no pool checkout nor liveness ping per batch. A batch that fails
        # gives it back, and the next batch takes a fresh (pinged) one from the pool.
        engine = self._factory.kw["bind"]
        connection: Connection | None = None
        try:
            running = True
            while running:
                first = lane.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        waiting = lane.get_nowait()
                    except queue.Empty:
                        break
                    if waiting is None:
                        running = False
                        break
                    batch.append(waiting)
                if connection is None:
                    connection = engine.connect()
                if not self._serve(connection, batch):
                    connection.close()
                    connection = None
        finally:
            if connection is not None:
                connection.close()

    def _serve(self, connection: Connection, batch: list[_Hold]) -> bool:
        """Decide and commit the batch, then answer every hold in it; False when the connection failed."""
        try:
            with self._factory(bind=connection) as session, session.begin():
                session.info[LOCATIONS_CACHE] = self._locations()
                outcomes = reserve_many(session, [hold.request for hold in batch])
        except Exception as failure:
            if len(batch) == 1:
                batch[0].answer(failure)
                return False
            # The database refused the batch (not a short SKU): serve each hold alone; a bad one fails alone.
            engine = self._factory.kw["bind"]
            connection.close()
            for hold in batch:
                with engine.connect() as alone:
                    self._serve(alone, [hold])
            return False
        # Answers go out only after the commit: a buyer told "held" is held.
        for hold, outcome in zip(batch, outcomes, strict=True):
            hold.answer(outcome)
        return True
