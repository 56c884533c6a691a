"""Periodic jobs: work that falls due with time rather than with events (expired cart holds, uncollected
pickups, scheduled segment recomputes, journey timers), run by a background thread of the worker.

Every job must be safe to run twice or from two workers at once (claim rows, or make the second run find
nothing to do): several `omni worker` processes may run the same schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    # Opens its own transactions from the factory, so a long job can commit in batches.
    run: Callable[[sessionmaker[Session]], object]
    description: str
    run_at_start: bool = False


class PeriodicWorker:
    """Runs each job every every_seconds in one background thread; a failing run is logged and retried
    at its next turn."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        jobs: Sequence[PeriodicJob],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
        self._jobs = list(jobs)
        self._clock = clock
        now = clock()
        self._due = {job.name: now if job.run_at_start else now + job.every_seconds for job in self._jobs}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="omni-periodic", daemon=True)

    def run_due(self) -> list[str]:
        """Run every job that is due now; the names of those run."""
        ran = []
        for job in self._jobs:
            if self._clock() < self._due[job.name]:
                continue
            try:
                job.run(self._factory)
            except Exception:
                log.exception("periodic job %s failed; it runs again at its next turn", job.name)
            self._due[job.name] = self._clock() + job.every_seconds
            ran.append(job.name)
        return ran

    def seconds_to_next(self) -> float:
        return max(0.0, min(self._due.values(), default=60.0) - self._clock())

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            # Wake at least every second so that stop() is prompt.
            self._stop.wait(min(self.seconds_to_next(), 1.0))
