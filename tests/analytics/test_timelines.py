"""The export's person_activity: each attributed event with its person, its place in the person's timeline,
and its channel and store as funnels break down by them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from sqlalchemy import insert
from sqlalchemy.orm import Session

from omni.analytics import timelines
from omni.identity.models import EventAttribution, Identifier, IdentityProfile
from omni.profiles.models import ProfileActivity

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
PERSON = 900_001


def test_each_event_gets_its_person_and_its_place_in_time_then_log_order(
    session: Session, tmp_path: Path
) -> None:
    # given one person known by two identifiers (a member id and an app device), whose events
    # reached the log out of time order, two at the same microsecond, and an event nobody claims
    session.execute(insert(IdentityProfile), [{"id": PERSON, "created_at": T0}])
    session.execute(
        insert(Identifier),
        [
            {"id": PERSON + i, "kind": kind, "value": value, "profile_id": PERSON, "born_profile_id": PERSON,
             "first_seen_at": T0, "last_seen_at": T0, "source": "web", "first_message_id": value}
            for i, (kind, value) in enumerate((("user_id", "m1"), ("device_id", "d1")))
        ],
    )  # fmt: skip
    rows = [
        # position, minutes after T0, event, channel, source, properties, identifier (None: unclaimed)
        (5001, 30, "Order Completed", "pos", "pos:TPE-XINYI", {}, PERSON),
        (5002, 0, "Product Viewed", "app", "app", {}, PERSON + 1),
        (5003, 10, "Product Added", "web", "web", {"store_code": "TXG-1"}, PERSON),
        (5004, 10, "Checkout Started", "", "web", {"pickup_store": "TPE-DAAN"}, PERSON + 1),
        (5005, 5, "Product Viewed", "web", "web", {}, None),
    ]
    session.execute(
        insert(ProfileActivity),
        [
            {"position": p, "occurred_at": T0 + timedelta(minutes=m), "type": "track", "event": e,
             "channel": ch, "source": src, "properties": props}
            for p, m, e, ch, src, props, _ in rows
        ],
    )  # fmt: skip
    session.execute(
        insert(EventAttribution),
        [{"position": p, "identifier_id": who} for p, *_, who in rows if who is not None],
    )
    # when the store is exported
    written = timelines.export(session, tmp_path)
    # then the claimed events are numbered from 0 in time order, ties by log position, with channel and store
    assert written[timelines.NAME] == 4
    found = duckdb.execute(
        f"SELECT person, seq, position, us, event, channel, store "
        f"FROM read_parquet('{tmp_path / 'person_activity.parquet'}') ORDER BY seq"
    ).fetchall()
    start = int(T0.timestamp()) * 1_000_000
    minute = 60_000_000
    assert found == [
        (PERSON, 0, 5002, start, "Product Viewed", "app", "—"),
        (PERSON, 1, 5003, start + 10 * minute, "Product Added", "web", "TXG-1"),
        (PERSON, 2, 5004, start + 10 * minute, "Checkout Started", "—", "TPE-DAAN"),
        (PERSON, 3, 5001, start + 30 * minute, "Order Completed", "pos", "TPE-XINYI"),
    ]
