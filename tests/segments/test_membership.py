"""Membership: recompute, versions, Segment Entered/Exited on the log, why, and failures that keep members."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.events.models import LoggedEvent
from omni.profiles import definitions as profile_definitions
from omni.profiles.schemas import ComputedTraitCreate
from omni.segments import membership, predefined, repository, service
from omni.segments.errors import DefinitionInvalid
from omni.segments.schemas import SegmentUpdate
from tests.segments.builders import NOW, at, ingest, make_segment, order, person, shop, track

SHOE_BROWSERS = {
    "all": [
        {
            "event": "Product Viewed",
            "min_times": 3,
            "within_days": 7,
            "where": [{"property": "category", "op": "eq", "value": "鞋"}],
        },
        {"not": {"event": "Order Completed"}},
    ]
}


def _segment_events(session: Session) -> list[tuple[str, str | None, str | None]]:
    rows = session.scalars(
        select(LoggedEvent).where(LoggedEvent.source == "omni:segments").order_by(LoggedEvent.position)
    ).all()
    return [(row.message_id, row.event, row.user_id) for row in rows]


def test_recompute_stores_members_and_logs_segment_entered_keyed_to_the_person(session: Session) -> None:
    # given
    shop(session)
    segment_id = make_segment(session, "shoe_browsers", SHOE_BROWSERS)
    head = session.scalar(select(LoggedEvent.position).order_by(LoggedEvent.position.desc()).limit(1))
    # when
    result = membership.recompute(session, segment_id, now=NOW)
    # then ann alone entered, and the log says so under her userId with a deterministic messageId
    ann = person(session, "ann")
    assert (result.size, result.entered, result.exited, result.version) == (1, 1, 0, 1)
    assert repository.member_ids(session, segment_id) == {ann}
    assert _segment_events(session) == [
        (f"segments:{segment_id}:{ann}:entered:{head}", "Segment Entered", "ann")
    ]
    assert service.read(session, segment_id).size == 1


def test_a_second_recompute_with_nothing_new_changes_nothing_and_logs_nothing(session: Session) -> None:
    shop(session)
    segment_id = make_segment(session, "shoe_browsers", SHOE_BROWSERS)
    membership.recompute(session, segment_id, now=NOW)
    # when
    again = membership.recompute(session, segment_id, now=NOW)
    # then
    assert (again.size, again.entered, again.exited) == (1, 0, 0)
    assert len(_segment_events(session)) == 1


def test_an_order_makes_the_person_exit_with_a_segment_exited_event(session: Session) -> None:
    shop(session)
    segment_id = make_segment(session, "shoe_browsers", SHOE_BROWSERS)
    membership.recompute(session, segment_id, now=NOW)
    # when ann buys, and the segment is recomputed
    ingest(session, order("ann-o1", user_id="ann", revenue=1990, when=at(0, hours=1)))
    result = membership.recompute(session, segment_id, now=NOW)
    # then she left, and the log holds both of her changes in order
    assert (result.size, result.entered, result.exited) == (0, 0, 1)
    assert [(event, user) for _, event, user in _segment_events(session)] == [
        ("Segment Entered", "ann"),
        ("Segment Exited", "ann"),
    ]


def test_each_save_is_a_new_version_and_members_belong_to_the_version_computed(session: Session) -> None:
    shop(session)
    segment_id = make_segment(session, "taipei", {"trait": "city", "value": "台北市"})
    membership.recompute(session, segment_id, now=NOW)
    # when the definition is saved again
    service.update(
        session, segment_id, SegmentUpdate(definition={"trait": "city", "value": "高雄市"}), by="t"
    )
    before = service.read(session, segment_id)
    membership.recompute(session, segment_id, now=NOW)
    # then version 1 is kept, members follow version 2 once recomputed
    assert [v.version for v in service.versions(session, segment_id)] == [2, 1]
    assert service.versions(session, segment_id)[1].definition == {"trait": "city", "value": "台北市"}
    assert (before.current_version, before.computed_version) == (2, 1)
    page = service.members(session, segment_id)
    assert [(m.profile_id, m.version) for m in page.items] == [(person(session, "dan"), 2)]


def test_why_names_the_conditions_that_held_and_the_events_that_made_them_hold(session: Session) -> None:
    shop(session)
    segment_id = make_segment(session, "shoe_browsers", SHOE_BROWSERS)
    membership.recompute(session, segment_id, now=NOW)
    # when
    why = membership.why(session, segment_id, person(session, "ann"), now=NOW)
    # then the group held, its event condition by her three shoe views, the NOT by no orders at all
    assert (why.member, why.held, why.why.kind) == (True, True, "all")
    viewed, no_order = why.why.conditions
    assert (viewed.path, viewed.held, len(viewed.events)) == ("$.all[0]", True, 3)
    assert {e.event for e in viewed.events} == {"Product Viewed"}
    assert viewed.condition == SHOE_BROWSERS["all"][0]
    assert (no_order.path, no_order.held, no_order.conditions[0].held) == ("$.all[1]", True, False)


def test_why_for_someone_outside_says_which_condition_failed(session: Session) -> None:
    shop(session)
    segment_id = make_segment(session, "shoe_browsers", SHOE_BROWSERS)
    membership.recompute(session, segment_id, now=NOW)
    why = membership.why(session, segment_id, person(session, "bob"), now=NOW)
    assert (why.member, why.held) == (False, False)
    assert [c.held for c in why.why.conditions] == [False, False]
    assert len(why.why.conditions[0].events) == 2  # viewed shoes, but only twice


def test_a_recompute_that_fails_leaves_the_previous_members(session: Session) -> None:
    # given a segment over a computed trait, computed once
    shop(session)
    trait = profile_definitions.create(
        session, ComputedTraitCreate(name="views", aggregation="count", event="Product Viewed")
    )
    segment_id = make_segment(session, "viewers", {"computed_trait": "views", "op": "gte", "value": 3})
    taipei = make_segment(session, "taipei", {"trait": "city", "value": "台北市"})
    membership.recompute(session, segment_id, now=NOW)
    kept = repository.member_ids(session, segment_id)
    # when the computed trait is deleted and every segment is recomputed
    profile_definitions.delete(session, trait.id)
    result = membership.recompute_all(session, now=NOW)
    # then that segment failed with the path of the stale condition and kept its members; others ran
    assert [(f.key, f.error) for f in result.failed] == [
        ("viewers", "$.computed_trait: a known computed trait; 'views' is not one")
    ]
    assert [r.segment_id for r in result.recomputed] == [taipei]
    assert (
        repository.member_ids(session, segment_id) == kept == {person(session, "ann"), person(session, "dan")}
    )
    with pytest.raises(DefinitionInvalid):
        membership.recompute(session, segment_id, now=NOW)
    assert repository.member_ids(session, segment_id) == kept


def test_predefined_segments_are_created_once_and_compute_on_the_shop(session: Session) -> None:
    shop(session)
    ingest(session, track("ann-add", "Product Added", when=at(1), user_id="ann"))
    # when ensured twice
    first = predefined.ensure(session)
    second = predefined.ensure(session)
    result = membership.recompute_all(session, now=NOW)
    # then
    assert len(first) == len(predefined.PREDEFINED)
    assert second == []
    assert result.failed == []
    sizes = {s.key: s.size for s in service.list_all(session)}
    ids = {s.key: s.id for s in service.list_all(session)}
    names = {person(session, n): n for n in ("ann", "bob", "cai", "dan", "eve")}
    members = {
        key: {names[p] for p in repository.member_ids(session, ids[key])}
        for key in (
            "cart_abandoners",
            "first_time_buyers",
            "repeat_buyers",
            "lapsed_customers",
            "omnichannel_shoppers",
            "single_channel_shoppers",
            "unreachable",
        )
    }
    assert members == {
        "cart_abandoners": {"ann"},
        "first_time_buyers": {"cai", "dan"},
        "repeat_buyers": {"bob"},
        "lapsed_customers": {"cai"},
        "omnichannel_shoppers": {"bob"},
        "single_channel_shoppers": {"cai", "dan"},
        "unreachable": {"bob", "cai", "dan", "eve"},
    }
    assert sizes["cart_abandoners"] == 1
