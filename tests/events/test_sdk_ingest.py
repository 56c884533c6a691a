"""Segment's own Python SDK, unmodified, against a real Omni server: every call arrives exactly once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
import segment.analytics as analytics
import uvicorn
from sqlalchemy import select

from omni.app import create_app
from omni.db.engine import Database
from omni.events.models import LoggedEvent
from omni.events.schemas import SourceKind
from omni.settings import Settings
from tests.events.tracking_helpers import make_source


@pytest.fixture
def server_url(committed: Database, settings: Settings) -> Iterator[str]:
    """Omni under a real uvicorn server on a free port, in a thread, over the test database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, committed), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(20)


@pytest.fixture
def sdk(server_url: str, committed: Database) -> Iterator[Any]:
    """The SDK's module-level client configured for a new pos source of this server."""
    source = make_source(committed, name=None, kind=SourceKind.POS, store_code="TPE-XINYI")
    errors: list[Exception] = []
    analytics.write_key = source.write_key
    analytics.host = server_url
    analytics.on_error = lambda error, _batch: errors.append(error)
    analytics.default_client = None
    yield analytics
    if analytics.default_client is not None and not analytics.sync_mode:
        analytics.shutdown()
    analytics.default_client = None
    analytics.sync_mode = False
    analytics.gzip = False
    assert errors == []


def _calls(sdk: Any) -> list[tuple[bool, dict[str, Any]]]:
    happened = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    return [
        sdk.identify("member-42", {"email": "amy@example.tw", "tier": "gold"}, timestamp=happened),
        sdk.track("member-42", "Order Completed", {"order_id": "TPE-1", "total": 1290}, timestamp=happened),
        sdk.page("member-42", "Shop", "Home", {"path": "/"}, timestamp=happened),
        sdk.screen("member-42", "App", "Cart", {"items": 2}, timestamp=happened),
        sdk.alias("anon-7", "member-42", timestamp=happened),
        sdk.group("member-42", "company-9", {"name": "Omni Co"}, timestamp=happened),
    ]


def _stored(database: Database) -> dict[str, LoggedEvent]:
    with database.unit_of_work() as session:
        return {event.message_id: event for event in session.scalars(select(LoggedEvent))}


@pytest.mark.parametrize(
    ("sync_mode", "gzip"),
    [(True, False), (False, False), (False, True)],
    ids=["one-request-per-call", "batched-flush", "batched-gzip"],
)
def test_every_sdk_call_arrives_exactly_once_with_its_fields(
    sync_mode: bool, gzip: bool, sdk: Any, committed: Database
) -> None:
    # given the SDK as an application would configure it
    sdk.sync_mode = sync_mode
    sdk.gzip = gzip
    # when it sends one of each message type
    sent = _calls(sdk)
    sdk.flush()
    # then each arrived once, under the till's source, with what the SDK sent
    assert all(ok for ok, _ in sent)
    stored = _stored(committed)
    assert set(stored) == {message["messageId"] for _, message in sent}
    by_type = {event.type: event for event in stored.values()}
    assert sorted(by_type) == ["alias", "group", "identify", "page", "screen", "track"]
    assert {(e.source, e.channel) for e in stored.values()} == {("pos:TPE-XINYI", "pos")}
    assert by_type["identify"].traits == {"email": "amy@example.tw", "tier": "gold"}
    assert (by_type["track"].event, by_type["track"].properties) == (
        "Order Completed",
        {"order_id": "TPE-1", "total": 1290},
    )
    assert (by_type["page"].name, by_type["page"].properties) == ("Home", {"path": "/", "category": "Shop"})
    assert (by_type["screen"].name, by_type["screen"].properties) == ("Cart", {"items": 2, "category": "App"})
    assert (by_type["alias"].previous_id, by_type["alias"].user_id) == ("anon-7", "member-42")
    assert (by_type["group"].group_id, by_type["group"].traits) == ("company-9", {"name": "Omni Co"})
    assert all(e.user_id == "member-42" for e in stored.values())
    assert all(e.context["library"]["name"] == "analytics-python" for e in stored.values())
    assert all(e.original_timestamp == datetime(2026, 11, 24, 10, 0, tzinfo=UTC) for e in stored.values())
    assert all(e.sent_at is not None for e in stored.values())


def test_sdk_batches_of_hundreds_arrive_once(sdk: Any, committed: Database) -> None:
    # when the SDK queues 1,000 events and uploads them in its own batches
    sent = [sdk.track(f"member-{i % 50}", "Product Viewed", {"sku": f"P{i:04d}"}) for i in range(1000)]
    sdk.flush()
    # then
    stored = _stored(committed)
    assert set(stored) == {message["messageId"] for _, message in sent}
    assert sorted(e.properties["sku"] for e in stored.values()) == [f"P{i:04d}" for i in range(1000)]


def test_an_unknown_write_key_is_reported_to_the_sdk_not_retried(
    server_url: str, committed: Database
) -> None:
    # given a client with a wrong key
    errors: list[Exception] = []
    client = analytics.Client(
        "wk_wrong", host=server_url, sync_mode=False, on_error=lambda e, _: errors.append(e)
    )
    # when
    client.track("member-42", "Product Viewed")
    client.flush()
    client.join()
    # then the SDK got a 401, which it does not retry, and nothing was stored
    assert [getattr(e, "status", None) for e in errors] == [401]
    assert _stored(committed) == {}


def test_concurrent_clients_retrying_the_same_batches_store_each_message_once(
    server_url: str, committed: Database
) -> None:
    # given 8 connections that each send the same 20 batches (a retry storm), in parallel
    source = make_source(committed)
    batches = [
        {
            "batch": [
                {"type": "track", "event": "A", "userId": "u1", "messageId": f"b{b}-m{m}"} for m in range(50)
            ]
        }
        for b in range(20)
    ]
    statuses: list[int] = []

    def client() -> None:
        with httpx2.Client(base_url=server_url, auth=(source.write_key, ""), timeout=30) as http:
            statuses.extend(http.post("/v1/batch", json=batch).status_code for batch in batches)

    threads = [threading.Thread(target=client) for _ in range(8)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then every request was acknowledged and every message is in the log once
    assert statuses == [200] * 160
    with committed.unit_of_work() as session:
        stored = list(session.scalars(select(LoggedEvent.message_id)))
    assert sorted(stored) == sorted(f"b{b}-m{m}" for b in range(20) for m in range(50))
