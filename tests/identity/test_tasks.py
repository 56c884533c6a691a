from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select, update

from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events.consumers import Consumer, catch_up, process_batch
from omni.events.models import ConsumerCursor
from omni.identity.models import EventAttribution
from omni.identity.tasks import STITCH, stitch_events
from tests.identity.builders import canonical, log, message, snapshot

# m9 carries the till member's phone and a web browser of c_001: the phone outranks the anonymous id.
GROUPS = {
    frozenset(
        {
            ("user_id", "c_001"),
            ("anonymous_id", "a1"),
            ("anonymous_id", "a2"),
            ("device_id", "d1"),
            ("email", "amy@gmail.com"),
        }
    ),
    frozenset({("user_id", "c_002"), ("anonymous_id", "b1")}),
    frozenset({("user_id", "M002"), ("member_id", "M002"), ("phone", "+886912345678")}),
}


def _stream() -> list[dict[str, Any]]:
    return [
        message("m1", anonymous_id="a1", context={"device": {"id": "d1"}}),
        message("m2", anonymous_id="a2"),
        message("m3", anonymous_id="b1"),
        message("m4", type="identify", user_id="c_001", anonymous_id="a1", traits={"email": "amy@gmail.com"}),
        message("m5", anonymous_id="a2", context={"device": {"id": "d1"}}),
        message("m6", type="identify", user_id="c_002", anonymous_id="b1", traits={"email": "amy@gmail.com"}),
        message("m7", user_id="M002", properties={"member_id": "M002", "phone": "0912-345-678"}),
        message("m8", type="alias", user_id="c_002", previous_id="M002"),
        message("m9", anonymous_id="a1", traits={"phone": "+886 912 345 678"}),
        message("m10", type="identify", user_id="c_002", traits={"member_id": "M002"}),
    ]


def _log(database: Database, payloads: list[dict[str, Any]]) -> None:
    with database.unit_of_work() as session:
        log(session, *payloads)


def test_stitching_is_one_of_the_registered_consumers() -> None:
    assert STITCH in ALL_CONSUMERS
    assert STITCH.name == "identity.stitch"


def test_the_consumer_stitches_the_log_into_profiles(committed: Database) -> None:
    # given a log in which two people share an email and one phone is written two ways
    _log(committed, _stream())
    # when the consumer catches up, three events at a time
    catch_up(committed.sessions, [Consumer("identity.stitch", stitch_events, "test", batch_size=3)])
    # then identifiers group into people; whatever would give a profile a second user id is held back
    with committed.unit_of_work() as session:
        graph = canonical(session)
    assert graph["groups"] == GROUPS
    assert graph["merges"] == [("anonymous_id", "a2", "m5")]
    assert graph["conflicts"] == [
        ("anonymous_id", "a1", "m9"),
        ("email", "amy@gmail.com", "m6"),
        ("member_id", "M002", "m10"),
        ("user_id", "M002", "m8"),
    ]
    assert [kind for _, kind, _ in graph["events"]] == [
        "device_id",
        "anonymous_id",
        "anonymous_id",
        "user_id",
        "device_id",
        "user_id",
        "user_id",
        "user_id",
        "phone",
        "user_id",
    ]


def test_processing_the_log_again_changes_nothing(committed: Database) -> None:
    # given a log stitched once
    _log(committed, _stream())
    catch_up(committed.sessions, [STITCH])
    with committed.unit_of_work() as session:
        before = snapshot(session)
    # when the consumer's cursor is moved back and every batch is processed again
    with committed.unit_of_work() as session:
        session.execute(update(ConsumerCursor).where(ConsumerCursor.name == STITCH.name).values(position=0))
    assert process_batch(committed.sessions, STITCH) == 10
    # then the graph, its evidence and the attributions are exactly as they were
    with committed.unit_of_work() as session:
        assert snapshot(session) == before


def test_concurrent_workers_build_the_same_graph_as_one(committed: Database) -> None:
    # given a longer log of many people, some sharing a family email
    payloads = []
    for n in range(60):
        payloads += [
            message(f"p{n}-view", anonymous_id=f"anon-{n}"),
            message(
                f"p{n}-login",
                type="identify",
                user_id=f"c_{n:03d}",
                anonymous_id=f"anon-{n}",
                traits={"email": f"family{n // 3}@gmail.com"},
            ),
            message(f"p{n}-app", anonymous_id=f"app-{n}", context={"device": {"id": f"dev-{n}"}}),
            message(f"p{n}-app-login", user_id=f"c_{n:03d}", anonymous_id=f"app-{n}"),
        ]
    _log(committed, payloads)
    # when four workers run the consumer at once in small batches
    consumer = Consumer("identity.stitch", stitch_events, "test", batch_size=7)
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
    # then each person is one profile, each event is attributed once, family emails stay with the first
    assert errors == []
    with committed.unit_of_work() as session:
        graph = canonical(session)
        attributed = session.scalar(select(func.count()).select_from(EventAttribution))
    assert attributed == 240
    assert len(graph["groups"]) == 60
    assert len(graph["conflicts"]) == 40
    for n in range(60):
        family = ("email", f"family{n // 3}@gmail.com")
        expected = {
            ("user_id", f"c_{n:03d}"),
            ("anonymous_id", f"anon-{n}"),
            ("anonymous_id", f"app-{n}"),
            ("device_id", f"dev-{n}"),
        }
        assert (expected | {family} if n % 3 == 0 else expected) in graph["groups"]
