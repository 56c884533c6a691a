"""Every domain's consumers of the event log, in the order a worker runs them: each may read what the ones
before it wrote for the same events, as catch_up never lets a consumer ahead of those before it."""

from __future__ import annotations

from omni.events import tasks as events_tasks
from omni.events.consumers import Consumer
from omni.identity import tasks as identity_tasks
from omni.journeys import tasks as journeys_tasks
from omni.orders import tasks as orders_tasks
from omni.profiles import tasks as profiles_tasks
from omni.segments import tasks as segments_tasks

ALL_CONSUMERS: tuple[Consumer, ...] = (
    *events_tasks.CONSUMERS,
    *identity_tasks.CONSUMERS,
    *profiles_tasks.CONSUMERS,
    *segments_tasks.CONSUMERS,
    *orders_tasks.CONSUMERS,
    # Last: journeys read segments and orders; the Segment Entered events segments log reach them next pass.
    *journeys_tasks.CONSUMERS,
)
