"""Every domain's consumers of the event log, in the order a worker runs them."""

from __future__ import annotations

from omni.events import tasks as events_tasks
from omni.events.consumers import Consumer

ALL_CONSUMERS: tuple[Consumer, ...] = (*events_tasks.CONSUMERS,)
