"""Consumers and periodic jobs of segments: keep membership current as events arrive and as time passes."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.events.consumers import Consumer
from omni.events.models import LoggedEvent
from omni.segments import membership, predefined
from omni.segments.schemas import RecomputeAllRead
from omni.segments.service import SEGMENTS_SOURCE
from omni.settings import Settings

log = logging.getLogger(__name__)

# Windows slide by themselves ("no purchase in 90 days"): a full recompute catches who crossed one.
RECOMPUTE_EVERY_SECONDS = 3600


def update_members(session: Session, batch: Sequence[LoggedEvent]) -> None:
    """Re-evaluate, for the people the batch's events belong to, the segments those events can affect."""
    # Segment Entered/Exited events are this consumer's own output; reacting to them would loop.
    events = [event for event in batch if event.source != SEGMENTS_SOURCE]
    if events:
        membership.update_for_events(session, events, at_position=batch[-1].position)


UPDATE = Consumer(
    name="segments.members",
    handle=update_members,
    description="Moves the people an event is about into and out of segments, logging Segment Entered/Exited",
    batch_size=2000,
)

CONSUMERS = [UPDATE]


def recompute_job(factory: sessionmaker[Session], *, only_uncomputed: bool = False) -> RecomputeAllRead:
    """The scheduled job: make sure the predefined segments exist, then recompute every segment (or only
    those never computed)."""
    with factory() as session, session.begin():
        predefined.ensure(session)
        return membership.recompute_all(session, only_uncomputed=only_uncomputed)


class _Recompute:
    """At a process's first run only what was never computed (a new install's predefined segments), so a
    restart does not recompute everything; every run after that recomputes all."""

    def __init__(self) -> None:
        self._started: set[str] = set()

    def __call__(self, database: Database, _: Settings) -> RecomputeAllRead:
        first = database.url not in self._started
        self._started.add(database.url)
        result = recompute_job(database.sessions, only_uncomputed=first)
        for failure in result.failed:
            log.warning("segment %s kept its members: %s", failure.key, failure.error)
        return result


RECOMPUTE = PeriodicJob(
    name="segments.recompute",
    every_seconds=RECOMPUTE_EVERY_SECONDS,
    run=_Recompute(),
    description="Creates the predefined segments if missing and recomputes every segment's members",
    run_at_start=True,
)

JOBS = [RECOMPUTE]
