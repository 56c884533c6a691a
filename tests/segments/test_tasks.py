"""Incremental membership: the consumer re-evaluates only the people a batch of events is about."""

from __future__ import annotations

import time

from sqlalchemy import select

from omni.db.engine import Database
from omni.db.periodic import JobRunner
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.events.models import LoggedEvent
from omni.identity import tasks as identity_tasks
from omni.kit.time import utc_now
from omni.profiles import tasks as profiles_tasks
from omni.segments import membership, predefined, repository, service, tasks
from omni.settings import Settings
from tests.segments.builders import make_segment, person, shop

CONSUMERS = [*identity_tasks.CONSUMERS, *profiles_tasks.CONSUMERS, *tasks.CONSUMERS]


def _send(database: Database, *payloads: dict[str, object]) -> None:
    with database.unit_of_work() as session:
        records = events_service.build_records(list(payloads), source="web", default_channel="web")
        events_service.append_events(session, records)


def test_an_event_moves_its_person_in_and_only_touched_people_are_re_evaluated(committed: Database) -> None:
    # given Taipei shoppers computed, and eve (台中) wrongly stored as a member
    with committed.unit_of_work() as session:
        shop(session)
        segment_id = make_segment(session, "taipei", {"trait": "city", "value": "台北市"})
        membership.recompute(session, segment_id)
        ann, bob, dan, eve = (person(session, name) for name in ("ann", "bob", "dan", "eve"))
    catch_up(committed.sessions, CONSUMERS)  # the shop's own history and the Segment Entered events
    with committed.unit_of_work() as session:
        repository.apply_changes(session, segment_id, entered=[eve], exited=[], version=1, at=utc_now())
    # when dan says he moved to Taipei, through the log
    _send(
        committed,
        {
            "type": "identify",
            "userId": "dan",
            "messageId": "dan-moves",
            "traits": {"city": "台北市"},
            "timestamp": utc_now().isoformat(),
        },
    )
    catch_up(committed.sessions, CONSUMERS)
    # then dan entered, eve (not in the batch) was left alone
    with committed.unit_of_work() as session:
        members = repository.member_ids(session, segment_id)
        entered = session.scalars(
            select(LoggedEvent.message_id).where(
                LoggedEvent.event == "Segment Entered", LoggedEvent.user_id == "dan"
            )
        ).all()
        moved = session.scalar(select(LoggedEvent.position).where(LoggedEvent.message_id == "dan-moves"))
    assert members == {ann, bob, dan, eve}  # eve's stale row stays: she was not in the batch
    assert entered == [f"segments:{segment_id}:{dan}:entered:{moved}"]


def test_processing_the_same_batch_again_appends_no_second_event(committed: Database) -> None:
    with committed.unit_of_work() as session:
        shop(session)
        segment_id = make_segment(session, "taipei", {"trait": "city", "value": "台北市"})
        membership.recompute(session, segment_id)
    catch_up(committed.sessions, CONSUMERS)
    _send(
        committed,
        {
            "type": "identify",
            "userId": "dan",
            "messageId": "dan-moves",
            "traits": {"city": "台北市"},
            "timestamp": utc_now().isoformat(),
        },
    )
    catch_up(committed.sessions, CONSUMERS)
    with committed.unit_of_work() as session:
        logged = session.scalars(select(LoggedEvent).where(LoggedEvent.message_id == "dan-moves")).one()
        moved = logged.position
        dan = person(session, "dan")
        # when the consumer's batch is handled once more (as after a crash before its cursor moved)
        membership.update_for_events(session, [logged], at_position=moved)
        repository.apply_changes(session, segment_id, entered=[], exited=[dan], version=1, at=utc_now())
        membership.update_for_events(session, [logged], at_position=moved)
        events = session.scalars(
            select(LoggedEvent.message_id).where(
                LoggedEvent.event == "Segment Entered", LoggedEvent.user_id == "dan"
            )
        ).all()
    # then the re-entry computed at the same position carries the same messageId, stored once
    assert events == [f"segments:{segment_id}:{dan}:entered:{moved}"]


def test_the_schedule_creates_the_predefined_segments_and_computes_them_in_the_background(
    committed: Database, settings: Settings
) -> None:
    # given the shop, with no segment yet
    with committed.unit_of_work() as session:
        shop(session)
    schedule = JobRunner(tasks.RECOMPUTE, committed, settings)
    # when the schedule starts (as a server running consumers does)
    schedule.start()
    try:
        deadline = time.monotonic() + 30
        computed: list[int | None] = []
        while time.monotonic() < deadline:
            with committed.unit_of_work() as session:
                computed = [s.computed_version for s in service.list_all(session)]
            if len(computed) == len(predefined.PREDEFINED) and all(computed):
                break
            time.sleep(0.2)
    finally:
        schedule.stop()
    # then every predefined segment exists and was computed once
    assert computed == [1] * len(predefined.PREDEFINED)
    with committed.unit_of_work() as session:
        repeat = service.by_key(session, "repeat_buyers")
        assert repeat is not None
        assert repository.member_ids(session, repeat.id) == {person(session, "bob")}
