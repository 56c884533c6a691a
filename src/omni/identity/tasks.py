"""Consumers of the identity domain: deterministic stitching of the event log into profiles."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.orm import Session

from omni.events.consumers import Consumer
from omni.identity import service
from omni.identity.service import LoggedMessage


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A batch holds thousands of logged events while stitching allocates as many small objects again:
    # the cyclic collector would run over and over, scanning every live object each time, and cost more
    # than the stitching (measured: about a third of a batch). Cycles made meanwhile are collected once
    # it resumes; a thread resumes it only if it found it running, so it is never left off.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def stitch_events(session: Session, batch: Sequence[LoggedMessage]) -> None:
    """Stitch a batch of the log into the identity graph."""
    with _collector_paused():
        service.stitch(session, batch)


STITCH = Consumer(
    name="identity.stitch",
    handle=stitch_events,
    description="Links identifiers that appear together into profiles and attributes each event",
    batch_size=2000,
)

CONSUMERS = [STITCH]
