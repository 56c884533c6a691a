"""Messages logged, stitched by identity and indexed by the profiles consumer, as the worker would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.profiles import indexing as profiles_indexing
from tests.identity.builders import message, stitch_new

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def at(days_ago: float = 0, *, hours: float = 0) -> datetime:
    """A moment days_ago before NOW."""
    return NOW - timedelta(days=days_ago, hours=hours)


def ingest(
    session: Session, *payloads: dict[str, Any], source: str = "web", stitch_from: int | None = None
) -> None:
    """Log messages from source, stitch what is new, and index all logged so far (indexing is idempotent).

    stitch_from stitches from an earlier position, for events a service logged itself.
    """
    before = events_service.head_position(session) if stitch_from is None else stitch_from
    if payloads:
        # A till's source is pos:<store> and its channel pos, as the tracking API sets them.
        records = events_service.build_records(
            list(payloads), source=source, default_channel=source.split(":")[0]
        )
        events_service.append_events(session, records)
    stitch_new(session, after=before)
    profiles_indexing.index_events(session, events_service.events_after(session, 0, limit=100_000))


def identify(
    message_id: str, *, user_id: str, traits: dict[str, Any], when: datetime, **more: Any
) -> dict[str, Any]:
    return message(message_id, type="identify", user_id=user_id, traits=traits, at=when, **more)


def order(
    message_id: str, *, user_id: str, revenue: Any, when: datetime, **properties: Any
) -> dict[str, Any]:
    payload = message(message_id, user_id=user_id, properties={"revenue": revenue, **properties}, at=when)
    payload["event"] = "Order Completed"
    return payload


def track(
    message_id: str, event: str, *, when: datetime, properties: dict[str, Any] | None = None, **ids: Any
) -> dict[str, Any]:
    payload = message(message_id, properties=properties or {}, at=when, **ids)
    payload["event"] = event
    return payload
