from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import Consumer, catch_up, lags, process_batch
from omni.events.models import DailyEventCount, LoggedEvent
from omni.events.tasks import DAILY_COUNTS
from tests.builders import track


def _append(database: Database, *message_ids: str, event: str = "Product Viewed", **fields: object) -> None:
    with database.unit_of_work() as session:
        records = events_service.build_records(
            [track(event, message_id=m, **fields) for m in message_ids], source="web", default_channel="web"
        )
        events_service.append_events(session, records)


def _recorder(seen: list[str], *, name: str = "test.recorder", batch_size: int = 2) -> Consumer:
    def handle(_: Session, batch: Sequence[LoggedEvent]) -> None:
        seen.extend(ev.message_id for ev in batch)

    return Consumer(name=name, handle=handle, description="records what it sees", batch_size=batch_size)


def test_consumer_processes_in_log_order_in_batches(committed: Database) -> None:
    _append(committed, "a", "b", "c", "d", "e")
    seen: list[str] = []
    consumer = _recorder(seen)
    assert [process_batch(committed.sessions, consumer) for _ in range(4)] == [2, 2, 1, 0]
    assert seen == ["a", "b", "c", "d", "e"]


def test_failed_batch_is_retried_and_its_effects_roll_back(committed: Database) -> None:
    _append(committed, "a", "b")
    seen: list[str] = []
    failures = iter([True, False])

    def handle(session: Session, batch: Sequence[LoggedEvent]) -> None:
        session.add(DailyEventCount(day=date(2026, 1, 1), channel="web", kind="probe", count=len(batch)))
        seen.extend(ev.message_id for ev in batch)
        if next(failures):
            raise RuntimeError("handler crashed")

    consumer = Consumer(name="test.flaky", handle=handle, description="fails once")
    with pytest.raises(RuntimeError):
        process_batch(committed.sessions, consumer)
    with committed.unit_of_work() as session:
        assert session.scalars(select(DailyEventCount)).all() == []
        assert lags(session, [consumer])[0].lag == 2
    assert process_batch(committed.sessions, consumer) == 2
    assert seen == ["a", "b", "a", "b"]
    with committed.unit_of_work() as session:
        assert lags(session, [consumer])[0].lag == 0


def test_lag_reports_distance_to_head(committed: Database) -> None:
    seen: list[str] = []
    consumer = _recorder(seen, batch_size=3)
    _append(committed, "a", "b", "c", "d")
    with committed.unit_of_work() as session:
        (before,) = lags(session, [consumer])
    process_batch(committed.sessions, consumer)
    with committed.unit_of_work() as session:
        (after,) = lags(session, [consumer])
    assert (before.position, before.lag, before.updated_at) == (0, 4, None)
    assert (after.lag, after.processed) == (1, 3)


def test_concurrent_workers_never_process_an_event_twice(committed: Database) -> None:
    # given many events and four workers running the same consumer at once
    message_ids = [f"m{i}" for i in range(400)]
    _append(committed, *message_ids)
    seen: list[str] = []
    lock = threading.Lock()

    def handle(_: Session, batch: Sequence[LoggedEvent]) -> None:
        with lock:
            seen.extend(ev.message_id for ev in batch)

    consumer = Consumer(name="test.shared", handle=handle, description="shared", batch_size=7)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            catch_up(committed.sessions, [consumer])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every event was handled exactly once, in order
    assert errors == []
    assert seen == message_ids


def test_daily_counts_consumer_counts_per_local_day_channel_and_kind(committed: Database) -> None:
    # 23:30 UTC on 10 Nov is 07:30 on 11 Nov in Taipei
    _append(committed, "a", "b", event="Order Completed", timestamp="2026-11-10T23:30:00Z")
    _append(committed, "c", event="Product Viewed", timestamp="2026-11-10T10:00:00Z")
    catch_up(committed.sessions, [DAILY_COUNTS])
    _append(committed, "d", event="Order Completed", timestamp="2026-11-11T01:00:00Z")
    catch_up(committed.sessions, [DAILY_COUNTS])
    with committed.unit_of_work() as session:
        rows = {
            (r.day, r.channel, r.kind): r.count
            for r in events_service.daily_counts(session, since=date(2026, 1, 1))
        }
        assert rows == {
            (date(2026, 11, 11), "web", "Order Completed"): 3,
            (date(2026, 11, 10), "web", "Product Viewed"): 1,
        }
        assert events_service.totals_by_channel(session) == {"web": 4}


def test_a_consumer_never_sees_an_event_the_consumers_before_it_have_not_handled(committed: Database) -> None:
    # given stitching-like "first" and segments-like "second", and a client appending mid-pass
    _append(committed, "a", "b")
    handled_by_first: set[int] = set()
    early: list[str] = []

    def first(_: Session, batch: Sequence[LoggedEvent]) -> None:
        handled_by_first.update(event.position for event in batch)

    def second(_: Session, batch: Sequence[LoggedEvent]) -> None:
        early.extend(e.message_id for e in batch if e.position not in handled_by_first)

    seen: list[str] = []
    consumers = [
        Consumer(name="test.first", handle=first, description="runs first"),
        _recorder(seen, name="test.between"),
        Consumer(name="test.second", handle=second, description="reads what first wrote"),
    ]

    def arrive_between(name: str, _: int) -> None:
        # An event arrives after "first" has finished its turn and before "second" takes its own.
        if name == "test.between" and "late" not in seen:
            seen.append("late")
            _append(committed, "late")

    # when every consumer catches up
    catch_up(committed.sessions, consumers, on_progress=arrive_between)
    # then "second" saw nothing before "first" did, and the late event was handled by all in the end
    assert early == []
    with committed.unit_of_work() as session:
        assert {lag.name: lag.lag for lag in lags(session, consumers)} == {
            "test.first": 0,
            "test.between": 0,
            "test.second": 0,
        }
