"""What a worker does besides answering requests: the log's consumers, and every domain's periodic jobs.

`omni worker`, `omni serve` (unless told not to) and `omni demo` all run the same background work, so a
job added here runs wherever the log is processed.
"""

from __future__ import annotations

from omni.channels import tasks as channels_tasks
from omni.consumers import ALL_CONSUMERS
from omni.db import statistics as db_statistics
from omni.db.engine import Database
from omni.db.periodic import JobRunner, PeriodicJob
from omni.events.consumers import ConsumerWorker
from omni.inventory import tasks as inventory_tasks
from omni.journeys import tasks as journeys_tasks
from omni.orders import tasks as orders_tasks
from omni.segments import tasks as segments_tasks
from omni.settings import Settings

ALL_JOBS: tuple[PeriodicJob, ...] = (
    *db_statistics.JOBS,
    *inventory_tasks.JOBS,
    *orders_tasks.JOBS,
    *segments_tasks.JOBS,
    *channels_tasks.JOBS,
    *journeys_tasks.JOBS,
)


class BackgroundWork:
    """The consumers in one thread and each periodic job in a thread of its own."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self._consumers = ConsumerWorker(database.sessions, ALL_CONSUMERS)
        self._jobs = [JobRunner(job, database, settings) for job in ALL_JOBS]

    def start(self) -> None:
        self._consumers.start()
        for runner in self._jobs:
            runner.start()

    def stop(self) -> None:
        for runner in self._jobs:
            runner.stop()
        self._consumers.stop()
