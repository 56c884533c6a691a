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
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from omni.inventory.holds import HoldRequest, reserve_many
from omni.inventory.ledger import LOCATIONS_CACHE

MAX_BATCH = 256
LOCATIONS_FOR_SECONDS = 5.0


@dataclass
class _Hold:
    sku: str
    location: str
    quantity: int
    expires_at: datetime
    reference: str
    answer: Future[int] = field(default_factory=Future)


class ReservationDesk:
    """Serve `reserve` from many threads through lanes keyed by SKU × location, one writer thread each."""

    def __init__(self, factory: sessionmaker[Session], *, lanes: int | None = None) -> None:
        self._factory = factory
        # SQLite has one writer at a time anyway: more lanes would only queue on its lock.
        sqlite = factory.kw["bind"].dialect.name == "sqlite"
        self._queues: list[queue.SimpleQueue[_Hold | None]] = [
            queue.SimpleQueue() for _ in range(lanes or (1 if sqlite else 2))
        ]
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
        hold = _Hold(sku, location, quantity, expires_at, reference)
        lane = zlib.crc32(f"{sku}\x00{location}".encode()) % len(self._queues)
        self._queues[lane].put(hold)
        return hold.answer.result()

    def _run(self, lane: queue.SimpleQueue[_Hold | None]) -> None:
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
            self._serve(batch)

    def _serve(self, batch: list[_Hold]) -> None:
        requests = [HoldRequest(h.sku, h.location, h.quantity, h.expires_at, h.reference) for h in batch]
        try:
            with self._factory() as session, session.begin():
                session.info[LOCATIONS_CACHE] = self._locations()
                outcomes = reserve_many(session, requests)
        except Exception as failure:
            if len(batch) == 1:
                batch[0].answer.set_exception(failure)
                return
            # The database refused the batch (not a short SKU): serve each hold alone; a bad one fails alone.
            for hold in batch:
                self._serve([hold])
            return
        # Answers go out only after the commit: a buyer told "held" is held.
        for hold, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, int):
                hold.answer.set_result(outcome)
            else:
                hold.answer.set_exception(outcome)
