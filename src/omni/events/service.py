"""Use cases of the event log: append messages once each, read them back in order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from omni.events import repository
from omni.events.models import DailyEventCount, LoggedEvent
from omni.events.spec import MESSAGES, EventRecord, record_from, validate_message
from omni.kit.errors import ValidationFailed
from omni.kit.time import as_utc, utc_now


@dataclass(frozen=True)
class AppendResult:
    """What an append did: new events stored and the message ids that were already in the log."""

    appended: int
    duplicates: list[str] = field(default_factory=list)
    last_position: int | None = None


def build_records(
    payloads: Iterable[Any],
    *,
    source: str,
    default_channel: str,
    received_at: datetime | None = None,
) -> list[EventRecord]:
    """Validate a batch of spec messages; one bad message rejects the batch with every reason found."""
    received = as_utc(received_at or utc_now())
    items = list(payloads)
    try:
        # Validating the whole batch in one call is the fast path; only a bad batch is taken apart.
        return [
            record_from(message, source=source, received_at=received, default_channel=default_channel)
            for message in MESSAGES.validate_python(items)
        ]
    except (ValidationError, ValidationFailed):
        pass
    records: list[EventRecord] = []
    problems: list[dict[str, Any]] = []
    for index, payload in enumerate(items):
        if not isinstance(payload, dict):
            problems.append({"index": index, "field": "message", "rule": "must be a JSON object"})
            continue
        try:
            message = validate_message(payload)
            records.append(
                record_from(message, source=source, received_at=received, default_channel=default_channel)
            )
        except ValidationFailed as exc:
            problems.extend({"index": index, **detail} for detail in exc.details or [{"rule": exc.message}])
    if problems:
        raise ValidationFailed(f"{len({p['index'] for p in problems})} message(s) rejected", details=problems)
    return records


def append_events(session: Session, records: Sequence[EventRecord]) -> AppendResult:
    """Append records to the log, storing each message_id once; the caller commits."""
    seen: set[str] = set()
    unique: list[EventRecord] = []
    duplicates: list[str] = []
    for record in records:
        if record.message_id in seen:
            duplicates.append(record.message_id)
        else:
            seen.add(record.message_id)
            unique.append(record)
    inserted = repository.insert_new(session, unique)
    stored = {message_id for _, message_id in inserted}
    duplicates.extend(record.message_id for record in unique if record.message_id not in stored)
    return AppendResult(
        appended=len(inserted),
        duplicates=duplicates,
        last_position=max((position for position, _ in inserted), default=None),
    )


def head_position(session: Session) -> int:
    """Position of the newest event in the log."""
    return repository.head_position(session)


def events_after(session: Session, position: int, *, limit: int) -> Sequence[LoggedEvent]:
    """Events after a position, oldest first."""
    return repository.events_after(session, position, limit)


def events_among(
    session: Session,
    positions: Select[Any],
    *,
    names: Sequence[str],
    after: int = 0,
    since: datetime | None = None,
) -> Sequence[LoggedEvent]:
    """Events named one of names at the log positions positions selects (a person's, say), newest first;
    only after a position and at or after a time when given."""
    query = (
        select(LoggedEvent)
        .where(LoggedEvent.position.in_(positions), LoggedEvent.event.in_(list(names)))
        .order_by(LoggedEvent.position.desc())
    )
    if after:
        query = query.where(LoggedEvent.position > after)
    if since is not None:
        query = query.where(LoggedEvent.timestamp >= since)
    return session.scalars(query).all()


def recent_events(
    session: Session, *, limit: int = 50, event: str | None = None, channel: str | None = None
) -> Sequence[LoggedEvent]:
    """The newest events, optionally of one name or channel."""
    query = select(LoggedEvent).order_by(LoggedEvent.position.desc()).limit(limit)
    if event:
        query = query.where(LoggedEvent.event == event)
    if channel:
        query = query.where(LoggedEvent.channel == channel)
    return session.scalars(query).all()


def count_events(session: Session) -> int:
    """How many events the log holds."""
    return int(session.scalar(select(func.count()).select_from(LoggedEvent)) or 0)


def daily_counts(session: Session, *, since: date) -> Sequence[DailyEventCount]:
    """Per-day, per-channel event counts from since on, as the counting consumer keeps them."""
    return session.scalars(
        select(DailyEventCount)
        .where(DailyEventCount.day >= since)
        .order_by(DailyEventCount.day, DailyEventCount.channel, DailyEventCount.kind)
    ).all()


def totals_by_channel(session: Session) -> dict[str, int]:
    """All events counted so far, per channel."""
    rows = session.execute(
        select(DailyEventCount.channel, func.sum(DailyEventCount.count)).group_by(DailyEventCount.channel)
    ).all()
    return {channel: int(total) for channel, total in rows}


def latest_counted_day(session: Session) -> date | None:
    """The newest day with counted events."""
    return session.scalar(select(func.max(DailyEventCount.day)))
