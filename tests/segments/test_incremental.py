"""The incremental skip rule: a batch evaluates only the segments it can affect, and every one it can."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.events.models import LoggedEvent
from omni.identity import service as identity_service
from omni.segments import membership, repository
from tests.identity.builders import message
from tests.segments.builders import at, identify, ingest, make_segment, order, person, shop, track

SHOES = {"category": "鞋", "sku": "SH-1"}
VIEWERS = {"event": "Product Viewed", "min_times": 3, "where": [{"property": "category", "value": "鞋"}]}
TAIPEI = {"trait": "city", "value": "台北市"}


def _batch(session: Session, *payloads: dict[str, Any]) -> membership.Update:
    """Log, stitch and index payloads, then run the incremental update on them as the consumer would."""
    ingest(session, *payloads)
    ids = [payload["messageId"] for payload in payloads]
    events = session.scalars(
        select(LoggedEvent).where(LoggedEvent.message_id.in_(ids)).order_by(LoggedEvent.position)
    ).all()
    return membership.update_for_events(session, events, at_position=events[-1].position)


def _segments(session: Session, **definitions: dict[str, Any]) -> dict[str, int]:
    ids = {key: make_segment(session, key, definition) for key, definition in definitions.items()}
    membership.recompute_all(session)
    return ids


def test_an_event_evaluates_the_segments_naming_it_and_no_other(session: Session) -> None:
    # given bob (two shoe views, two orders) and segments on views, orders and a trait
    shop(session)
    ids = _segments(
        session, viewers=VIEWERS, big_buyers={"orders": "count", "op": "gte", "value": 3}, taipei=TAIPEI
    )
    bob = person(session, "bob")
    # when bob orders a third time, then views shoes a third time
    ordered = _batch(session, order("bob-o3", user_id="bob", revenue=100, when=at(1)))
    viewed = _batch(session, track("bob-v9", "Product Viewed", when=at(1), properties=SHOES, user_id="bob"))
    # then each batch evaluated only the segment reading its event, and moved bob into it
    assert ordered.evaluated == ("big_buyers",)
    assert viewed.evaluated == ("viewers",)
    assert bob in repository.member_ids(session, ids["big_buyers"], among=[bob])
    assert bob in repository.member_ids(session, ids["viewers"], among=[bob])


def test_a_trait_change_evaluates_the_segments_reading_that_trait(session: Session) -> None:
    # given dan in 高雄市, a city segment, and a segment on another trait
    shop(session)
    ids = _segments(session, taipei=TAIPEI, older={"trait": "age", "op": "gte", "value": 40}, viewers=VIEWERS)
    dan = person(session, "dan")
    # when dan says he moved to Taipei
    update = _batch(session, identify("dan-moves", user_id="dan", traits={"city": "台北市"}, when=at(0)))
    # then only the city segment was evaluated, and dan entered it
    assert update.evaluated == ("taipei",)
    assert repository.member_ids(session, ids["taipei"], among=[dan]) == {dan}


def test_a_referenced_segment_whose_members_changed_re_evaluates_its_referrers(session: Session) -> None:
    # given shoe viewers (ann already is one; bob, in Taipei, has two views) and Taipei shoe viewers
    shop(session)
    ids = _segments(session, viewers=VIEWERS)
    ids["taipei_viewers"] = make_segment(session, "taipei_viewers", {"all": [{"segment": "viewers"}, TAIPEI]})
    membership.recompute_all(session)
    bob = person(session, "bob")
    # when ann views shoes again (no change), then bob views his third pair
    unchanged = _batch(
        session, track("ann-v9", "Product Viewed", when=at(1), properties=SHOES, user_id="ann")
    )
    changed = _batch(session, track("bob-v9", "Product Viewed", when=at(1), properties=SHOES, user_id="bob"))
    # then the referrer was evaluated only when the referenced members changed, and bob is in both
    assert unchanged.evaluated == ("viewers",)
    assert changed.evaluated == ("viewers", "taipei_viewers")
    assert repository.member_ids(session, ids["taipei_viewers"], among=[bob]) == {bob}


def test_a_merge_re_evaluates_every_segment(session: Session) -> None:
    # given fay's account (with an email) and her anonymous browser (in Taipei): neither has both
    ingest(
        session,
        identify("fay-1", user_id="fay", traits={"email": "fay@example.com"}, when=at(2)),
        message("fay-2", type="identify", anonymous_id="anon-fay", traits={"city": "台北市"}, at=at(2)),
    )
    ids = _segments(session, reachable_taipei={"all": [TAIPEI, {"trait": "email", "op": "exists"}]})
    # when she signs in on that browser: an event with no traits joins the two profiles
    update = _batch(session, message("fay-3", user_id="fay", anonymous_id="anon-fay", at=at(1)))
    # then the trait segment was evaluated although no trait was stated, and the merged person is in it
    live = identity_service.find_profile(session, "user_id", "fay")
    assert live is not None
    assert update.evaluated == ("reachable_taipei",)
    assert repository.member_ids(session, ids["reachable_taipei"]) == {live}


def test_a_new_person_is_evaluated_against_every_segment(session: Session) -> None:
    # given segments of people who never ordered and of shoe viewers
    shop(session)
    ids = _segments(
        session, never_ordered={"not": {"orders": "count", "op": "gte", "value": 1}}, viewers=VIEWERS
    )
    # when someone new identifies, stating nothing any segment reads
    update = _batch(session, identify("gus-1", user_id="gus", traits={}, when=at(0)))
    # then every segment was evaluated, and gus (no orders) entered the first
    gus = person(session, "gus")
    assert set(update.evaluated) == {"never_ordered", "viewers"}
    assert repository.member_ids(session, ids["never_ordered"], among=[gus]) == {gus}


def test_an_order_leaves_ranked_segments_to_the_full_recompute(session: Session) -> None:
    # given repeat buyers, and the top buyers by revenue (a place among every buyer)
    shop(session)
    _segments(
        session,
        repeat={"orders": "count", "op": "gte", "value": 2},
        top={"orders": "revenue_top_percent", "op": "lte", "value": 50},
        champions={"rfm": {"r": [4, 5], "f": [4, 5]}},
    )
    # when dan orders again
    update = _batch(session, order("dan-o2", user_id="dan", revenue=90_000, when=at(1)))
    # then the count segment was evaluated, the ranked ones were not
    assert update.evaluated == ("repeat",)


def test_a_person_split_by_an_unmerge_is_evaluated_against_every_segment(session: Session) -> None:
    # given fay's account and anonymous browser merged, computed in full, then the merge undone
    ingest(
        session,
        identify("fay-1", user_id="fay", traits={"email": "fay@example.com"}, when=at(2)),
        message("fay-2", type="identify", anonymous_id="anon-fay", traits={"city": "台北市"}, at=at(2)),
        message("fay-3", user_id="fay", anonymous_id="anon-fay", at=at(1)),
    )
    ids = _segments(session, reachable_taipei={"all": [TAIPEI, {"trait": "email", "op": "exists"}]})
    live = identity_service.find_profile(session, "user_id", "fay")
    assert live is not None
    assert repository.member_ids(session, ids["reachable_taipei"]) == {live}
    merge = identity_service.explain(session, live).merges[0]
    split = identity_service.unmerge(session, live, merge.id, by="test").new_profile_id
    # when the browser sends an event stating nothing (unmerges are not on the log)
    update = _batch(session, message("fay-4", anonymous_id="anon-fay", at=at(0)))
    # then the trait segment was evaluated for the split person (and fay stays until the full recompute)
    assert update.evaluated == ("reachable_taipei",)
    assert repository.member_ids(session, ids["reachable_taipei"], among=[split]) == set()
