"""Messages as SDKs and tills send them, logged and stitched through the product's own services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.identity.models import Identifier, IdentityConflict, IdentityMerge

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_minutes = itertools.count()


def message(
    message_id: str,
    *,
    type: str = "track",
    user_id: str | None = None,
    anonymous_id: str | None = None,
    previous_id: str | None = None,
    traits: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One Segment message; track messages are named Product Viewed."""
    payload: dict[str, Any] = {
        "type": type,
        "messageId": message_id,
        "timestamp": (at or START + timedelta(minutes=next(_minutes))).isoformat(),
    }
    if type == "track":
        payload["event"] = "Product Viewed"
    for name, value in (
        ("userId", user_id),
        ("anonymousId", anonymous_id),
        ("previousId", previous_id),
        ("traits", traits),
        ("properties", properties),
        ("context", context),
    ):
        if value is not None:
            payload[name] = value
    return payload


def log(session: Session, *payloads: dict[str, Any], source: str = "web") -> None:
    """Append messages to the event log."""
    records = events_service.build_records(list(payloads), source=source, default_channel=source)
    events_service.append_events(session, records)


def stitch_new(session: Session, *, after: int = 0) -> int:
    """Stitch every logged event after a position in one batch; return the newest position."""
    batch = events_service.events_after(session, after, limit=100_000)
    identity_service.stitch(session, batch)
    return batch[-1].position if batch else after


def log_and_stitch(session: Session, *payloads: dict[str, Any], source: str = "web") -> None:
    """Log messages and stitch the log up to them."""
    before = events_service.head_position(session)
    log(session, *payloads, source=source)
    stitch_new(session, after=before)


def profile(session: Session, kind: str, value: str) -> int:
    """The live profile of an identifier, which must exist."""
    found = identity_service.find_profile(session, kind, value)
    assert found is not None, f"no profile has {kind} {value}"
    return found


def partition(session: Session) -> set[frozenset[tuple[str, str]]]:
    """The graph as sets of identifiers that share a profile, whatever the profile ids are."""
    groups: dict[int, set[tuple[str, str]]] = {}
    for row in session.scalars(select(Identifier)).all():
        groups.setdefault(row.profile_id, set()).add((row.kind, row.value))
    return {frozenset(group) for group in groups.values()}


def snapshot(session: Session) -> dict[str, Any]:
    """Everything stitching writes, for comparing before and after."""
    session.expire_all()
    return {
        "identifiers": sorted(
            (r.kind, r.value, r.profile_id, r.born_profile_id, r.first_seen_at, r.last_seen_at)
            for r in session.scalars(select(Identifier)).all()
        ),
        "merges": sorted(
            (m.survivor_id, m.absorbed_id, m.kind, m.value, m.message_id)
            for m in session.scalars(select(IdentityMerge)).all()
        ),
        "conflicts": sorted(
            (c.profile_id, c.kind, c.value, c.message_id)
            for c in session.scalars(select(IdentityConflict)).all()
        ),
        "events": sorted(
            (e.position, e.kind, e.value)
            for pid in {r.profile_id for r in session.scalars(select(Identifier)).all()}
            for e in identity_service.events_of(session, pid, limit=1000)
        ),
    }


def canonical(session: Session) -> dict[str, Any]:
    """The graph without its profile ids: groups, merge and conflict evidence, attributions."""
    shot = snapshot(session)
    return {
        "groups": partition(session),
        "merges": sorted(m[2:] for m in shot["merges"]),
        "conflicts": sorted(c[1:] for c in shot["conflicts"]),
        "events": shot["events"],
    }


def forget_graph(session: Session) -> None:
    """Delete the whole identity graph, keeping the event log."""
    for table in (
        "identity_event",
        "identity_conflict",
        "identity_merge",
        "identity_identifier",
        "identity_profile",
    ):
        session.execute(text(f"DELETE FROM {table}"))
