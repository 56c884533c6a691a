"""The group-committing writer: concurrent requests, revoked sources, a bad request among good ones."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from omni.db.engine import Database, DatabaseUnavailable
from omni.events import rows
from omni.events import service as events_service
from omni.events import sources as events_sources
from omni.events.errors import UnknownWriteKey
from omni.events.models import LoggedEvent
from omni.events.spec import EventRecord
from omni.events.writer import EventWriter, WriterStopped
from tests.builders import track
from tests.events.tracking_helpers import make_source


@pytest.fixture
def writer(committed: Database) -> Iterator[EventWriter]:
    running = EventWriter(committed)
    running.start()
    yield running
    running.stop()


def _records(*message_ids: str, source: str = "web:webshop") -> list[EventRecord]:
    return events_service.build_records(
        [track("Product Viewed", message_id=m, properties={"n": m}) for m in message_ids],
        source=source,
        default_channel="web",
    )


def _stored(database: Database) -> list[str]:
    with database.unit_of_work() as session:
        return list(session.scalars(select(LoggedEvent.message_id).order_by(LoggedEvent.position)))


async def _gather(*appends: Any) -> list[BaseException | None]:
    return list(await asyncio.gather(*appends, return_exceptions=True))


def test_concurrent_requests_are_each_committed_once(writer: EventWriter, committed: Database) -> None:
    # given 60 requests at once, half of them retries of the other half
    requests = [_records(f"r{i % 30}-a", f"r{i % 30}-b") for i in range(60)]
    # when
    outcomes = asyncio.run(_gather(*(writer.append(r) for r in requests)))
    # then every request is answered with success and every message is stored once
    assert outcomes == [None] * 60
    assert sorted(_stored(committed)) == sorted(f"r{i}-{s}" for i in range(30) for s in "ab")


def test_requests_from_several_threads_and_event_loops_all_land(
    writer: EventWriter, committed: Database
) -> None:
    # given 4 threads, each with its own event loop, as 4 server workers in one process would be
    failures: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            asyncio.run(_gather(*(writer.append(_records(f"t{number}-{i}")) for i in range(25))))
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(_stored(committed)) == 100


def test_a_revoked_source_is_refused_and_the_others_in_its_group_still_land(
    writer: EventWriter, committed: Database
) -> None:
    # given two sources, one of them revoked after its requests were authenticated
    kept = make_source(committed, name="kept")
    gone = make_source(committed, name="gone")
    with committed.unit_of_work() as session:
        events_sources.revoke_source(session, "gone")
    # when both send at the same time
    outcomes = asyncio.run(
        _gather(
            *(writer.append(_records(f"kept-{i}"), source_id=kept.source.id) for i in range(10)),
            *(writer.append(_records(f"gone-{i}"), source_id=gone.source.id) for i in range(10)),
        )
    )
    # then
    assert outcomes[:10] == [None] * 10
    assert all(isinstance(o, UnknownWriteKey) for o in outcomes[10:])
    assert sorted(_stored(committed)) == sorted(f"kept-{i}" for i in range(10))


def test_a_retry_from_an_active_source_with_nothing_new_is_still_a_success(
    writer: EventWriter, committed: Database
) -> None:
    source = make_source(committed)
    asyncio.run(writer.append(_records("once"), source_id=source.source.id))
    asyncio.run(writer.append(_records("once"), source_id=source.source.id))
    assert _stored(committed) == ["once"]


def test_a_request_the_database_refuses_fails_alone(writer: EventWriter, committed: Database) -> None:
    # given one request whose record breaks a NOT NULL column, among good ones
    (broken,) = _records("broken")
    broken = dataclasses.replace(broken, channel=None)  # type: ignore[arg-type]
    requests = [_records(f"good-{i}") for i in range(5)]
    # when they are written together
    outcomes = asyncio.run(
        _gather(
            *(writer.append(r) for r in requests[:3]),
            writer.append([broken]),
            *(writer.append(r) for r in requests[3:]),
        )
    )
    # then only the broken one fails, and nothing of it is stored
    assert [o is None for o in outcomes] == [True, True, True, False, True, True]
    assert "null" in str(outcomes[3]).lower()
    assert "channel" in str(outcomes[3])
    assert sorted(_stored(committed)) == [f"good-{i}" for i in range(5)]


def test_a_request_larger_than_one_statement_is_one_transaction(
    writer: EventWriter, committed: Database
) -> None:
    # given more events than one SQLite statement can carry
    count = rows.SQLITE_STATEMENT_ROWS + 500
    ids = [f"big-{i:05d}" for i in range(count)]
    # when
    asyncio.run(writer.append(_records(*ids)))
    # then all are stored in order
    assert _stored(committed) == ids


def test_stored_rows_read_back_as_the_records_were(writer: EventWriter, committed: Database) -> None:
    # given records with every kind of value the log holds
    records = events_service.build_records(
        [
            {
                "type": "identify",
                "userId": 42,
                "anonymousId": "anon-1",
                "messageId": "full",
                "traits": {"name": "陳怡君", "vip": True, "score": 1.5, "tags": ["a", None], "big": 2**70},
                "context": {"ip": "203.0.113.7", "page": {"path": "/"}},
                "timestamp": "2026-11-24T18:30:00.123456+08:00",
                "sentAt": "2026-11-24T18:30:01+08:00",
            }
        ],
        source="web:webshop",
        default_channel="web",
    )
    # when
    asyncio.run(writer.append(records))
    # then
    with committed.unit_of_work() as session:
        (logged,) = session.scalars(select(LoggedEvent)).all()
        stored = {field.name: getattr(logged, field.name) for field in dataclasses.fields(EventRecord)}
    assert stored == dataclasses.asdict(records[0])


def test_stop_writes_what_is_queued_and_then_refuses(committed: Database) -> None:
    writer = EventWriter(committed)
    writer.start()

    async def append_then_stop() -> None:
        pending = [asyncio.ensure_future(writer.append(_records(f"q{i}"))) for i in range(20)]
        await asyncio.sleep(0)
        await asyncio.to_thread(writer.stop)
        await asyncio.gather(*pending)
        with pytest.raises(WriterStopped):
            await writer.append(_records("late"))

    asyncio.run(append_then_stop())
    with committed.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(LoggedEvent)) == 20


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/omni", "sqlite:///{tmp}"],
    ids=["postgresql-down", "sqlite-unopenable"],
)
def test_a_database_that_cannot_be_written_is_503_for_the_client_to_retry(url: str, tmp_path: Path) -> None:
    # given a writer whose database refuses connections (a directory is no SQLite file)
    database = Database(url.format(tmp=tmp_path))
    writer = EventWriter(database)
    writer.start()
    try:
        # when
        with pytest.raises(DatabaseUnavailable) as caught:
            asyncio.run(writer.append(_records("lost")))
    finally:
        writer.stop()
        database.dispose()
    # then
    assert caught.value.status_code == 503
    assert caught.value.message.startswith("the event log cannot be written just now: ")


def test_the_row_columns_are_the_record_fields_in_order() -> None:
    # The serialised rows rely on it: a field added to EventRecord must be added to the columns too.
    assert tuple(field.name for field in dataclasses.fields(EventRecord)) == rows.ALL_COLUMNS


def test_a_consumer_reading_while_several_writers_append_misses_nothing(committed: Database) -> None:
    # given three writers, as three server processes would run, and a reader that follows the log by
    # position as a consumer does: an event committed late with a lower position would be skipped for good
    writers = [EventWriter(committed) for _ in range(3)]
    for running in writers:
        running.start()
    seen: list[str] = []
    done = threading.Event()

    def follow() -> None:
        position = 0
        while True:
            finished = done.is_set()
            with committed.unit_of_work() as session:
                batch = events_service.events_after(session, position, limit=10_000)
            if batch:
                seen.extend(event.message_id for event in batch)
                position = batch[-1].position
            elif finished:
                return

    def append(number: int) -> None:
        appends = (
            writers[number].append(_records(*(f"w{number}-{r}-{i}" for i in range(25)))) for r in range(40)
        )
        asyncio.run(_gather(*appends))

    reader = threading.Thread(target=follow)
    appenders = [threading.Thread(target=append, args=(n,)) for n in range(3)]
    # when
    reader.start()
    for thread in appenders:
        thread.start()
    for thread in appenders:
        thread.join(120)
    done.set()
    reader.join(60)
    for running in writers:
        running.stop()
    # then the reader saw every event exactly once
    assert len(seen) == len(set(seen)) == 3 * 40 * 25
