"""The Segment-compatible Tracking API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events import sources as events_sources
from omni.events.models import LoggedEvent
from omni.events.schemas import SourceKind
from tests.events.tracking_helpers import basic_auth, make_source

SUCCESS = {"success": True}


def _logged(database: Database) -> list[LoggedEvent]:
    with database.unit_of_work() as session:
        return list(events_service.events_after(session, 0, limit=1000))


def _error(answer: Any) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()["error"]
    return {"code": body["code"], "message": body["message"], "details": body["details"]}


def test_a_track_is_stored_under_its_source_with_the_source_channel(
    client: TestClient, committed: Database
) -> None:
    # given a store's till with its write key
    till = make_source(committed, name=None, kind=SourceKind.POS, store_code="TPE-XINYI")
    message = {
        "userId": "member-42",
        "event": "Order Completed",
        "messageId": "pos-order-1",
        "properties": {"order_id": "TPE-1", "total": 1290, "currency": "TWD", "items": ["棉質上衣"]},
        "context": {"store_code": "TPE-XINYI"},
        "timestamp": "2026-11-24T10:00:00+08:00",
    }
    # when
    answer = client.post("/v1/track", json=message, headers=basic_auth(till.write_key))
    # then the answer is Segment's, and the event is already readable from another connection
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    (logged,) = _logged(committed)
    assert (logged.type, logged.event, logged.user_id, logged.message_id) == (
        "track",
        "Order Completed",
        "member-42",
        "pos-order-1",
    )
    assert (logged.source, logged.channel) == ("pos:TPE-XINYI", "pos")
    assert logged.properties == message["properties"]
    assert logged.context == {"store_code": "TPE-XINYI"}
    assert logged.timestamp == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "channel"),
    [({"channel": "app"}, "app"), ({"context": {"channel": "marketplace"}}, "marketplace"), ({}, "web")],
    ids=["message-channel", "context-channel", "source-default"],
)
def test_the_message_channel_wins_over_the_source_default(
    fields: dict[str, Any], channel: str, client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    answer = client.post(
        "/v1/track", json={"event": "A", "anonymousId": "a1", **fields}, headers=basic_auth(web.write_key)
    )
    assert answer.status_code == 200
    assert [e.channel for e in _logged(committed)] == [channel]


MESSAGES = {
    "identify": {"userId": "u1", "traits": {"email": "amy@example.tw"}},
    "track": {"userId": "u1", "event": "Product Viewed", "properties": {"sku": "P1-M"}},
    "page": {"anonymousId": "a1", "name": "Home", "properties": {"path": "/"}},
    "screen": {"userId": "u1", "name": "Cart"},
    "alias": {"userId": "u1", "previousId": "a1"},
    "group": {"userId": "u1", "groupId": "company-9", "traits": {"name": "Omni Co"}},
}


@pytest.mark.parametrize(
    ("path", "message_type"),
    [(f"/v1/{t}", t) for t in MESSAGES] + [(f"/v1/{t[0]}", t) for t in MESSAGES],
    ids=[*MESSAGES, *(f"short-{t[0]}" for t in MESSAGES)],
)
def test_every_message_type_has_its_path(
    path: str, message_type: str, client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    answer = client.post(path, json=MESSAGES[message_type], headers=basic_auth(web.write_key))
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    (logged,) = _logged(committed)
    assert logged.type == message_type
    assert (logged.user_id, logged.anonymous_id, logged.group_id, logged.previous_id) == tuple(
        MESSAGES[message_type].get(k) for k in ("userId", "anonymousId", "groupId", "previousId")
    )


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/import"], ids=["batch", "import"])
def test_a_batch_stores_every_message_in_order(path: str, client: TestClient, committed: Database) -> None:
    web = make_source(committed)
    batch = [{"type": t, **m, "messageId": f"m-{t}"} for t, m in MESSAGES.items()]
    answer = client.post(path, json={"batch": batch}, headers=basic_auth(web.write_key))
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    assert [(e.type, e.message_id, e.source) for e in _logged(committed)] == [
        (t, f"m-{t}", "web:webshop") for t in MESSAGES
    ]


def test_analytics_js_sends_the_key_in_a_text_plain_body(client: TestClient, committed: Database) -> None:
    web = make_source(committed)
    body = orjson.dumps({"writeKey": web.write_key, "event": "Product Viewed", "anonymousId": "a1"})
    answer = client.post("/v1/t", content=body, headers={"Content-Type": "text/plain"})
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    assert [e.event for e in _logged(committed)] == ["Product Viewed"]


def test_a_gzip_batch_is_stored(client: TestClient, committed: Database) -> None:
    web = make_source(committed)
    body = gzip.compress(orjson.dumps({"batch": [{"type": "track", "event": "A", "userId": "u1"}] * 3}))
    answer = client.post(
        "/v1/batch",
        content=body,
        headers={**basic_auth(web.write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    assert len(_logged(committed)) == 3


def test_a_retried_message_is_accepted_and_stored_once(client: TestClient, committed: Database) -> None:
    # given a batch that is sent, then sent again because the client never saw the answer
    web = make_source(committed)
    batch = {
        "batch": [{"type": "track", "event": "A", "userId": "u1", "messageId": f"m{i}"} for i in range(3)]
    }
    # when
    answers = [client.post("/v1/batch", json=batch, headers=basic_auth(web.write_key)) for _ in range(2)]
    again = client.post("/v1/track", json=batch["batch"][0], headers=basic_auth(web.write_key))
    # then
    assert [a.status_code for a in (*answers, again)] == [200, 200, 200]
    assert [e.message_id for e in _logged(committed)] == ["m0", "m1", "m2"]


@pytest.mark.parametrize("batch_level", [False, True], ids=["message-sent-at", "batch-sent-at"])
def test_a_wrong_device_clock_is_corrected_by_sent_at(
    batch_level: bool, client: TestClient, committed: Database
) -> None:
    # given a phone whose clock is a day behind, which queued the event 10 s before sending it
    web = make_source(committed)
    device_now = datetime.now(UTC) - timedelta(days=1)
    happened = (device_now - timedelta(seconds=10)).isoformat()
    message: dict[str, Any] = {"type": "track", "event": "A", "userId": "u1", "timestamp": happened}
    body: dict[str, Any] = {"batch": [message]}
    (body if batch_level else message)["sentAt"] = device_now.isoformat()
    # when
    answer = client.post("/v1/batch", json=body, headers=basic_auth(web.write_key))
    # then the event is dated 10 s before the server received it, the device's own times kept as they were
    assert answer.status_code == 200
    (logged,) = _logged(committed)
    assert logged.timestamp == logged.received_at - timedelta(seconds=10)
    assert logged.original_timestamp == datetime.fromisoformat(happened)
    assert logged.sent_at == device_now


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "no write key: send it as the HTTP Basic user name, or as writeKey in the JSON body"),
        (basic_auth("wk_not-a-key"), "the write key is unknown or has been revoked"),
        (
            {"Authorization": "Bearer abc"},
            "send the write key as the HTTP Basic user name (Authorization: Basic ...)",
        ),
        ({"Authorization": "Basic %%%"}, "the Authorization header is not valid HTTP Basic credentials"),
    ],
    ids=["no-key", "unknown-key", "bearer", "garbled-basic"],
)
def test_requests_without_a_valid_key_are_401(
    headers: dict[str, str], message: str, client: TestClient, committed: Database
) -> None:
    make_source(committed)
    answer = client.post("/v1/track", json={"event": "A", "userId": "u1"}, headers=headers)
    assert answer.status_code == 401
    assert _error(answer) == {"code": "unknown_write_key", "message": message, "details": []}
    assert _logged(committed) == []


def test_a_revoked_key_is_refused_from_the_next_request_on(client: TestClient, committed: Database) -> None:
    # given a key that worked a moment ago (and so is known to the server)
    web = make_source(committed)
    assert (
        client.post(
            "/v1/track", json={"event": "A", "userId": "u1"}, headers=basic_auth(web.write_key)
        ).status_code
        == 200
    )
    # when it is revoked
    with committed.unit_of_work() as session:
        events_sources.revoke_source(session, "webshop")
    # then
    answer = client.post("/v1/track", json={"event": "B", "userId": "u1"}, headers=basic_auth(web.write_key))
    assert answer.status_code == 401
    assert [e.event for e in _logged(committed)] == ["A"]


def test_a_batch_with_one_bad_message_is_refused_whole_with_every_reason(
    client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    batch = [
        {"type": "track", "event": "A", "userId": "u1"},
        {"type": "track", "event": "B"},
        {"type": "identify", "userId": "u1", "traits": "gold"},
        {"type": "unknown", "userId": "u1"},
        "hello",
    ]
    answer = client.post("/v1/batch", json={"batch": batch}, headers=basic_auth(web.write_key))
    assert answer.status_code == 400
    assert _error(answer) == {
        "code": "invalid_message",
        "message": "4 message(s) rejected; nothing in the batch was stored",
        "details": [
            {"index": 1, "field": "userId", "rule": "Value error, userId or anonymousId is required"},
            {"index": 2, "field": "traits", "rule": "Input should be a valid dictionary"},
            {
                "index": 3,
                "field": "type",
                "rule": "Input should be 'identify', 'track', 'page', 'screen', 'group' or 'alias'",
            },
            {"index": 4, "field": "message", "rule": "must be a JSON object"},
        ],
    }
    assert _logged(committed) == []


@pytest.mark.parametrize(
    ("path", "body", "field", "rule"),
    [
        ("/v1/track", {"event": "A"}, "userId", "Value error, userId or anonymousId is required"),
        ("/v1/track", {"userId": "u1"}, "event", "Value error, track needs an event name"),
        ("/v1/alias", {"userId": "u1"}, "previousId", "Value error, alias needs both userId and previousId"),
        ("/v1/group", {"userId": "u1"}, "groupId", "Value error, group needs a groupId"),
        (
            "/v1/track",
            {"event": "A", "userId": "u1", "properties": [1]},
            "properties",
            "Input should be a valid dictionary",
        ),
        ("/v1/track", {"event": "A", "userId": ["u1"]}, "userId", "must be a string or a number"),
        ("/v1/track", {"event": "A", "userId": "u" * 201}, "userId", "at most 200 characters"),
        (
            "/v1/track",
            {"event": "A", "userId": "u1", "timestamp": "yesterday"},
            "timestamp",
            "Input should be a valid datetime or date, input is too short",
        ),
        (
            "/v1/track",
            {"event": "A", "userId": "u1", "timestamp": "2026-11-24T10:00:00"},
            "timestamp",
            "Input should have timezone info",
        ),
        (
            "/v1/track",
            {
                "event": "A",
                "userId": "u1",
                "timestamp": "0001-01-01T00:00:00Z",
                "sentAt": "9999-12-31T00:00:00Z",
            },
            "timestamp",
            "must be within the calendar after clock correction",
        ),
    ],
    ids=[
        "no-identity",
        "track-without-event",
        "alias-without-previous",
        "group-without-id",
        "properties-not-object",
        "user-id-list",
        "user-id-too-long",
        "timestamp-garbage",
        "timestamp-naive",
        "clock-overflow",
    ],
)
def test_a_message_breaking_the_spec_is_400_naming_field_and_rule(
    path: str, body: dict[str, Any], field: str, rule: str, client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    answer = client.post(path, json=body, headers=basic_auth(web.write_key))
    assert answer.status_code == 400
    error = _error(answer)
    assert error["code"] == "invalid_message"
    assert {"field": field, "rule": rule} in error["details"]
    assert _logged(committed) == []


@pytest.mark.parametrize(
    ("content", "field", "rule"),
    [
        (
            b'{"event": "A", "userId": "u1"',
            "body",
            "must be JSON (unexpected end of data: line 1 column 30 (char 29))",
        ),
        (b'["A"]', "body", "must be a JSON object"),
        (b'{"event": "A", "userId": "u\\u0000"}', "userId", "must not contain the NUL character (\\u0000)"),
    ],
    ids=["truncated-json", "array", "nul"],
)
def test_a_body_that_is_not_a_message_is_400(
    content: bytes, field: str, rule: str, client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    answer = client.post(
        "/v1/track",
        content=content,
        headers={**basic_auth(web.write_key), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert _error(answer)["details"] == [{"field": field, "rule": rule}]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/v1/track",
            {"event": "A", "userId": "u1", "properties": {"blob": "x" * 33_000}},
            "the body is larger than 32 KB (32768 bytes), the most a single message may be",
        ),
        (
            "/v1/batch",
            {
                "batch": [{"type": "track", "event": "A", "userId": "u1", "properties": {"b": "x" * 30_000}}]
                * 18
            },
            "the body is larger than 500 KB (512000 bytes), the most a batch may be",
        ),
        (
            "/v1/batch",
            {
                "batch": [
                    {"type": "track", "event": "A", "userId": "u1", "properties": {"blob": "x" * 33_000}}
                ]
            },
            "1 message(s) in the batch are larger than 32 KB (32768 bytes)",
        ),
    ],
    ids=["message-over-32kb", "batch-over-500kb", "batch-message-over-32kb"],
)
def test_oversized_requests_are_413_naming_the_limit(
    path: str, body: dict[str, Any], message: str, client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    answer = client.post(path, json=body, headers=basic_auth(web.write_key))
    assert answer.status_code == 413
    assert _error(answer)["message"] == message
    assert _logged(committed) == []


def test_a_gzip_bomb_is_413_not_inflated(client: TestClient, committed: Database) -> None:
    web = make_source(committed)
    bomb = gzip.compress(b" " * 50_000_000, compresslevel=9)
    answer = client.post(
        "/v1/batch", content=bomb, headers={**basic_auth(web.write_key), "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 413
    assert _error(answer)["details"] == [
        {"field": "body", "rule": "at most 500 KB (512000 bytes) after decompression"}
    ]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Content-Type": "application/xml"}, 415), ({"Content-Encoding": "br"}, 415)],
    ids=["xml", "brotli"],
)
def test_unsupported_media_is_415(
    headers: dict[str, str], status: int, client: TestClient, committed: Database
) -> None:
    web = make_source(committed)
    answer = client.post(
        "/v1/track", content=b'{"event":"A","userId":"u"}', headers={**basic_auth(web.write_key), **headers}
    )
    assert answer.status_code == status
    assert _error(answer)["code"] == "unsupported_media_type"


def test_browsers_may_post_from_any_shop_origin(client: TestClient, committed: Database) -> None:
    web = make_source(committed)
    origin = "https://shop.example.tw"
    # when the browser asks first
    preflight = client.options(
        "/v1/t",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    # then
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert {"authorization", "content-type"} <= {
        h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")
    }
    # and the post itself, and its errors, carry the origin too
    posted = client.post(
        "/v1/t", json={"event": "A", "userId": "u1"}, headers={"Origin": origin, **basic_auth(web.write_key)}
    )
    refused = client.post("/v1/t", json={"event": "A", "userId": "u1"}, headers={"Origin": origin})
    assert (posted.status_code, posted.headers["access-control-allow-origin"]) == (200, origin)
    assert (refused.status_code, refused.headers["access-control-allow-origin"]) == (401, origin)


@pytest.mark.parametrize("path", ["/healthz", "/login", "/v1/unknown"], ids=["health", "page", "other-api"])
def test_cors_is_only_for_the_tracking_paths(path: str, client: TestClient) -> None:
    preflight = client.options(
        path, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    got = client.get(path, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in got.headers


def test_get_on_a_tracking_path_is_405_json(client: TestClient) -> None:
    answer = client.get("/v1/track")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_the_write_key_in_the_body_may_be_sent_with_basic_auth_too(
    client: TestClient, committed: Database
) -> None:
    # analytics-python sends both; the header's key is the one checked
    web = make_source(committed)
    body = {"batch": [{"type": "track", "event": "A", "userId": "u1"}], "writeKey": "wk_stale"}
    answer = client.post("/v1/batch", json=body, headers=basic_auth(web.write_key))
    assert answer.status_code == 200


def test_a_password_in_basic_auth_is_ignored_as_segment_does(client: TestClient, committed: Database) -> None:
    web = make_source(committed)
    token = base64.b64encode(f"{web.write_key}:anything".encode()).decode()
    answer = client.post(
        "/v1/track", json={"event": "A", "userId": "u1"}, headers={"Authorization": f"Basic {token}"}
    )
    assert answer.status_code == 200
