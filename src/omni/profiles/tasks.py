"""Consumers of the profile domain: index what each logged event says about its person."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from omni.events.consumers import Consumer
from omni.profiles import indexing
from omni.profiles.indexing import LoggedEvent


def index_events(session: Session, batch: Sequence[LoggedEvent]) -> None:
    """Record the batch's traits, consent decisions, computed-trait inputs and timeline lines."""
    indexing.index_events(session, batch)


INDEX = Consumer(
    name="profiles.index",
    handle=index_events,
    description="Records traits, consent, computed-trait inputs and timeline lines of every event",
    batch_size=2000,
)

CONSUMERS = [INDEX]
