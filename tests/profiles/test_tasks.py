from __future__ import annotations

import threading

from sqlalchemy import func, select

from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.identity import tasks as identity_tasks
from omni.profiles import definitions
from omni.profiles.models import ComputedTraitInput
from omni.profiles.schemas import ComputedTraitCreate
from omni.profiles.tasks import INDEX
from tests.profiles.builders import at, order

ROUNDS = 15
PER_ROUND = 40
DEFINITIONS = 6


def _append_orders(database: Database, round_: int) -> None:
    with database.unit_of_work() as session:
        payloads = [
            order(f"r{round_}-{i}", user_id=f"c{i % 7}", revenue=i, when=at(1)) for i in range(PER_ROUND)
        ]
        events_service.append_events(
            session, events_service.build_records(payloads, source="web", default_channel="web")
        )


def test_the_profiles_consumer_runs_after_identity_stitching() -> None:
    names = [consumer.name for consumer in ALL_CONSUMERS]
    assert names.index(INDEX.name) > names.index(identity_tasks.STITCH.name)


def test_definitions_created_while_the_consumer_runs_miss_no_event(committed: Database) -> None:
    # given a log that grows while the consumer indexes it in another thread
    failures: list[BaseException] = []
    stop = threading.Event()

    def ingest_and_consume() -> None:
        try:
            for round_ in range(ROUNDS):
                _append_orders(committed, round_)
                catch_up(committed.sessions, [INDEX])
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)
        finally:
            stop.set()

    worker = threading.Thread(target=ingest_and_consume)
    worker.start()
    # when definitions are created meanwhile, each gathering the past under the profiles lock
    for index in range(DEFINITIONS):
        with committed.unit_of_work() as session:
            definitions.create(
                session,
                ComputedTraitCreate(name=f"orders_{index}", aggregation="count", event="Order Completed"),
            )
        stop.wait(0.02)
    worker.join(timeout=120)
    catch_up(committed.sessions, [INDEX])
    # then every definition holds every order exactly once, whenever it was made
    assert failures == []
    with committed.unit_of_work() as session:
        counts = session.execute(
            select(ComputedTraitInput.trait_id, func.count()).group_by(ComputedTraitInput.trait_id)
        ).all()
    assert sorted(n for _, n in counts) == [ROUNDS * PER_ROUND] * DEFINITIONS
