"""Periodic jobs: work that falls due with time rather than with events (expired cart holds, uncollected
pickups, scheduled segment recomputes, due journey steps, queued messages), each run by a thread of its own
so that a long segment recompute never holds up a message.

Every job must be safe to run twice or from two processes at once (claim rows, or make a second run find
nothing to do): several `omni worker` processes may run the same schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from omni.db.engine import Database
from omni.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    # Opens its own transactions, so a long job commits in batches. A truthy result means "there may be
    # more": with busy_means_more the job runs again at once instead of waiting for its next turn.
    run: Callable[[Database, Settings], object]
    description: str
    run_at_start: bool = False
    busy_means_more: bool = False


class JobRunner:
    """Runs one job on its schedule; run_due is the whole rule, the thread only repeats it."""

    def __init__(
        self,
        job: PeriodicJob,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self._database, self._settings, self._clock = database, settings, clock
        self._due = clock() if job.run_at_start else clock() + job.every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"omni-job-{job.name}", daemon=True)

    def run_due(self) -> bool:
        """Run the job if it is due; whether it ran."""
        if self._clock() < self._due:
            return False
        busy: object = None
        try:
            busy = self.job.run(self._database, self._settings)
        except Exception:
            log.exception("periodic job %s failed; it runs again at its next turn", self.job.name)
        more = self.job.busy_means_more and bool(busy)
        self._due = self._clock() if more else self._clock() + self.job.every_seconds
        return True

    def seconds_to_next(self) -> float:
        return max(0.0, self._due - self._clock())

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
