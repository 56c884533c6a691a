"""kill -9 in the middle of an ingest: every event the SDK saw acknowledged is stored exactly once."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import segment.analytics as analytics
from sqlalchemy import func, select

from omni.db.engine import Database
from omni.events.models import LoggedEvent
from tests.events.tracking_helpers import free_port, make_source, serve

EVENTS = 100_000


def _count(database: Database) -> int:
    with database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(LoggedEvent)) or 0)


def test_kill_9_mid_ingest_loses_no_acknowledged_event_and_stores_none_twice(
    committed: Database, tmp_path: Path
) -> None:
    # given a real server and the real SDK, retrying on its own with a short budget
    source = make_source(committed)
    port = free_port()
    # The log's consumers run elsewhere (`omni worker`): this is about what ingest acknowledges.
    server = serve(committed.url, port, tmp_path, "--no-consumers")
    failed: list[dict[str, Any]] = []
    client = analytics.Client(
        source.write_key,
        host=f"http://127.0.0.1:{port}",
        max_queue_size=EVENTS,
        max_retries=6,
        timeout=5,
        on_error=lambda _error, batch: failed.extend(batch),
    )
    sent: list[str] = []

    def produce() -> None:
        for i in range(EVENTS):
            ok, message = client.track(
                f"member-{i % 997}", "Product Viewed", {"sku": f"P{i % 500:04d}", "n": i}
            )
            assert ok
            sent.append(message["messageId"])

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        # when the server is killed with SIGKILL once a good part of the events is in, and started again
        deadline = time.monotonic() + 60
        while (stored_at_kill := _count(committed)) < EVENTS // 4:
            assert time.monotonic() < deadline, f"only {stored_at_kill} events arrived"
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        server = serve(committed.url, port, tmp_path, "--no-consumers")
        producer.join(120)
        client.flush()
        client.join()
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    # then the kill did land mid-ingest, the SDK gave up on nothing, and the log holds each event once
    assert EVENTS // 4 <= stored_at_kill < EVENTS
    assert failed == []
    with committed.unit_of_work() as session:
        stored = list(session.scalars(select(LoggedEvent.message_id)))
    assert len(stored) == len(set(stored)) == EVENTS
    assert set(stored) == set(sent)
