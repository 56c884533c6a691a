from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.kit.errors import ValidationFailed
from tests.builders import track

RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _records(*payloads: dict[str, object]) -> list[events_service.EventRecord]:
    return events_service.build_records(payloads, source="web", default_channel="web", received_at=RECEIVED)


def test_append_stores_each_message_id_once(session: Session) -> None:
    # given a batch with one message twice, and the same batch sent again
    batch = _records(track("Product Viewed", message_id="m1"), track("Product Viewed", message_id="m1"))
    # when
    first = events_service.append_events(session, batch)
    second = events_service.append_events(session, batch)
    # then
    assert (first.appended, first.duplicates) == (1, ["m1"])
    assert (second.appended, second.duplicates) == (0, ["m1", "m1"])
    assert events_service.count_events(session) == 1


def test_positions_increase_in_append_order(session: Session) -> None:
    events_service.append_events(session, _records(track("A", message_id="a")))
    events_service.append_events(session, _records(track("B", message_id="b"), track("C", message_id="c")))
    logged = events_service.events_after(session, 0, limit=10)
    assert [ev.event for ev in logged] == ["A", "B", "C"]
    assert [ev.position for ev in logged] == sorted(ev.position for ev in logged)


def test_logged_event_keeps_spec_fields_and_utc_times(session: Session) -> None:
    payload = track(
        "Order Completed",
        message_id="o1",
        properties={"order_id": "A-1", "revenue": 1290, "currency": "TWD"},
        context={"store_code": "TPE-XINYI"},
        timestamp="2026-11-11T10:00:00+08:00",
    )
    events_service.append_events(session, _records(payload))
    (logged,) = events_service.events_after(session, 0, limit=1)
    assert logged.type == "track"
    assert logged.properties == {"order_id": "A-1", "revenue": 1290, "currency": "TWD"}
    assert logged.context == {"store_code": "TPE-XINYI"}
    assert logged.timestamp == datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
    assert logged.received_at == RECEIVED


def test_one_bad_message_rejects_the_batch_with_every_reason() -> None:
    good = track("Product Viewed", message_id="ok")
    no_identity = track("Product Viewed", message_id="x", user_id=None)
    not_an_object = "hello"
    with pytest.raises(ValidationFailed) as caught:
        events_service.build_records([good, no_identity, not_an_object], source="web", default_channel="web")
    assert caught.value.message == "2 message(s) rejected"
    assert [(d["index"], d["rule"]) for d in caught.value.details] == [
        (1, "Value error, userId or anonymousId is required"),
        (2, "must be a JSON object"),
    ]
