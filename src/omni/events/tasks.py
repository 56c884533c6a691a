"""Consumers of the events domain itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from omni.events.consumers import Consumer
from omni.events.models import DailyEventCount, LoggedEvent
from omni.events.repository import dialect_insert
from omni.settings import get_settings


def event_kind(event: LoggedEvent) -> str:
    """What kind of event this is: the track name, or the message type for the others."""
    return event.event or event.type


def count_daily(session: Session, batch: Sequence[LoggedEvent]) -> None:
    """Add the batch to per-day, per-channel, per-kind counts in the retailer's time zone."""
    zone = ZoneInfo(get_settings().timezone)
    counts = Counter((ev.timestamp.astimezone(zone).date(), ev.channel, event_kind(ev)) for ev in batch)
    table = DailyEventCount.__table__
    statement = dialect_insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "channel", "kind"], set_={"count": table.c.count + statement.excluded.count}
    )
    session.execute(
        statement,
        [
            {"day": day, "channel": channel, "kind": kind, "count": n}
            for (day, channel, kind), n in counts.items()
        ],
    )


DAILY_COUNTS = Consumer(
    name="events.daily_counts",
    handle=count_daily,
    description="Counts events per day, channel and kind for the dashboard",
    batch_size=5000,
)

CONSUMERS = [DAILY_COUNTS]
