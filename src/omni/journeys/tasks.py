"""Consumers and periodic jobs of journeys: react to the log, step due runs, the daily date pass."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.events.consumers import Consumer
from omni.events.models import LoggedEvent
from omni.journeys import reactions, service
from omni.journeys.schemas import RunDueRead
from omni.kit.time import utc_now
from omni.settings import Settings

log = logging.getLogger(__name__)


def react(session: Session, batch: Sequence[LoggedEvent]) -> None:
    """Let people in on trigger events, wake keyed waits, count conversions."""
    reactions.handle_events(session, batch)


REACT = Consumer(
    name="journeys.react",
    handle=react,
    description="Lets people into journeys, wakes runs waiting for an event and counts conversions",
    batch_size=1000,
)

CONSUMERS = [REACT]


# Called with "stepped" before a batch commits and "committed" after: tests kill a worker there.
Checkpoint = Callable[[str], None]


def run_due(
    database: Database,
    settings: Settings,
    *,
    batch: int = 100,
    limit: int | None = None,
    checkpoint: Checkpoint | None = None,
) -> RunDueRead:
    """One pass over due timers: claim and step batch runs per transaction until none is due (or limit)."""
    runs = steps = 0
    while limit is None or runs < limit:
        size = batch if limit is None else min(batch, limit - runs)
        with database.unit_of_work() as session:
            claimed, taken = service.step_due(session, settings, limit=size)
            if checkpoint and claimed:
                checkpoint("stepped")
        if checkpoint and claimed:
            checkpoint("committed")
        runs, steps = runs + claimed, steps + taken
        if claimed < size:
            break
    return RunDueRead(runs=runs, steps=steps)


def run_dates(database: Database, *, today: date | None = None) -> int:
    """The daily pass over date traits, in one transaction."""
    with database.unit_of_work() as session:
        return reactions.enter_by_dates(session, today=today or utc_now().date())


def _step_due(database: Database, settings: Settings) -> int:
    return run_due(database, settings).runs


def _enter_by_dates(database: Database, _: Settings) -> int:
    return run_dates(database)


STEP_DUE = PeriodicJob(
    name="journeys.step_due",
    every_seconds=1,
    run=_step_due,
    description="Steps journey runs whose delay or wait has run out",
    run_at_start=True,
    busy_means_more=True,
)
# Entries are keyed by (journey, day, person), so running hourly lets each person in once a day.
ENTER_BY_DATES = PeriodicJob(
    name="journeys.enter_by_dates",
    every_seconds=3600,
    run=_enter_by_dates,
    description="Lets in everyone whose birthday or other date trait makes today their day",
    run_at_start=True,
)

JOBS = [STEP_DUE, ENTER_BY_DATES]
