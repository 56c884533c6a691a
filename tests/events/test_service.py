from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy.orm import Session

from omni.events import rows
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


def test_a_batch_larger_than_one_statement_is_appended_whole_and_in_order(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given statements cut at 7 rows or 2 KB (a recompute can append a million events in one batch)
    monkeypatch.setattr(rows, "POSTGRES_STATEMENT_ROWS", 7)
    monkeypatch.setattr(rows, "POSTGRES_STATEMENT_BYTES", 2048)
    batch = _records(*(track(f"E{i}", message_id=f"big-{i}", properties={"n": "x" * i}) for i in range(60)))
    # when the batch, with one message already logged, is appended
    events_service.append_events(session, batch[5:6])
    result = events_service.append_events(session, batch)
    # then every other message is logged once, in the batch's order
    assert (result.appended, result.duplicates) == (59, ["big-5"])
    logged = events_service.events_after(session, 0, limit=100)
    assert [ev.message_id for ev in logged] == ["big-5", *[f"big-{i}" for i in range(60) if i != 5]]


def test_statements_stay_under_their_row_and_byte_limits_and_keep_every_record() -> None:
    batch = _records(*(track("E", message_id=f"m{i}", properties={"pad": "x" * (i * 40)}) for i in range(50)))
    documents = list(rows.postgres_batches(batch, rows=8, limit=3000))
    decoded = [orjson.loads(document) for document in documents]
    assert [record["message_id"] for part in decoded for record in part] == [f"m{i}" for i in range(50)]
    assert all(len(part) <= 8 for part in decoded)
    # a document over the limit holds one record, bigger than the limit by itself
    assert all(len(d) <= 3000 or len(p) == 1 for d, p in zip(documents, decoded, strict=True))
    assert len(documents) > 50 // 8 + 1
