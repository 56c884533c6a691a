"""Membership follows identity merges: an absorbed profile's member rows become the live profile's."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.events.models import LoggedEvent
from omni.identity import service as identity_service
from omni.identity import tasks as identity_tasks
from omni.kit.time import utc_now
from omni.profiles import tasks as profiles_tasks
from omni.segments import membership, repository, service, tasks
from tests.identity.builders import message
from tests.segments.builders import at, identify, ingest, make_segment

CONSUMERS = [*identity_tasks.CONSUMERS, *profiles_tasks.CONSUMERS, *tasks.CONSUMERS]
TAIPEI = {"trait": "city", "value": "台北市"}


def _send(database: Database, *payloads: dict[str, object]) -> None:
    with database.unit_of_work() as session:
        records = events_service.build_records(list(payloads), source="web", default_channel="web")
        events_service.append_events(session, records)


def _entered(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(LoggedEvent).where(LoggedEvent.event == "Segment Entered")
        )
        or 0
    )


def test_a_stitched_merge_moves_the_absorbed_members_row_and_announces_nothing_new(
    committed: Database,
) -> None:
    # given fay browsing anonymously from Taipei (a member), and her account known by userId alone
    _send(
        committed,
        {"type": "identify", "userId": "fay", "messageId": "fay-1", "traits": {"email": "fay@example.com"},
         "timestamp": utc_now().isoformat()},
        {"type": "identify", "anonymousId": "anon-fay", "messageId": "fay-2", "traits": {"city": "台北市"},
         "timestamp": utc_now().isoformat()},
    )  # fmt: skip
    catch_up(committed.sessions, CONSUMERS)
    with committed.unit_of_work() as session:
        segment_id = make_segment(session, "taipei", TAIPEI)
        membership.recompute(session, segment_id)
        anonymous = identity_service.find_profile(session, "anonymous_id", "anon-fay")
        assert repository.member_ids(session, segment_id) == {anonymous}
    catch_up(committed.sessions, CONSUMERS)
    with committed.unit_of_work() as session:
        entered_before = _entered(session)
    # when she logs in on that browser: one event joins the two profiles
    _send(
        committed,
        {"type": "track", "event": "Signed In", "userId": "fay", "anonymousId": "anon-fay",
         "messageId": "fay-3", "timestamp": utc_now().isoformat()},
    )  # fmt: skip
    catch_up(committed.sessions, CONSUMERS)
    # then the one live profile is the member, the absorbed one holds no row, the size still says 1,
    # and no second Segment Entered was logged for a person who never left
    with committed.unit_of_work() as session:
        live = identity_service.find_profile(session, "user_id", "fay")
        assert live is not None
        assert identity_service.merged_into(session, anonymous or 0) == live
        assert repository.member_ids(session, segment_id) == {live}
        assert service.read(session, segment_id).size == 1
        assert _entered(session) == entered_before


def test_a_matcher_merge_is_followed_by_the_next_full_recompute(session: Session) -> None:
    # given two Taipei members, then the matcher merges the second into the first
    ingest(
        session,
        identify("a", user_id="gus", traits={"city": "台北市"}, when=at(2)),
        message("b", type="identify", anonymous_id="gus-tablet", traits={"city": "台北市"}, at=at(1)),
    )
    segment_id = make_segment(session, "taipei", TAIPEI)
    membership.recompute(session, segment_id)
    survivor = identity_service.find_profile(session, "user_id", "gus")
    absorbed = identity_service.find_profile(session, "anonymous_id", "gus-tablet")
    assert survivor is not None
    assert absorbed is not None
    assert repository.member_ids(session, segment_id) == {survivor, absorbed}
    identity_service.merge_profiles(session, survivor, absorbed, rule="probabilistic", evidence={}, by="test")
    # when the segment is recomputed
    result = membership.recompute(session, segment_id)
    # then one member, nobody exited (the person is still in), and the absorbed row is gone
    assert repository.member_ids(session, segment_id) == {survivor}
    assert (result.size, result.entered, result.exited) == (1, 0, 0)
