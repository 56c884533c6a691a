from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.identity.errors import ProfileNotFound
from omni.kit.errors import ValidationFailed
from omni.profiles import consent_changes, definitions, indexing, service
from omni.profiles.errors import (
    ComputedTraitExists,
    ComputedTraitInvalid,
    ProfileLookupInvalid,
    ProfileUnknown,
)
from omni.profiles.models import ComputedTraitInput, ProfileActivity, TraitObservation
from omni.profiles.priority import save_trait_priority
from omni.profiles.schemas import ComputedTraitCreate, ConsentChange, TraitSourcePriority
from tests.identity.builders import message, profile
from tests.profiles.builders import NOW, at, identify, ingest, order, track


def _traits(session: Session, profile_id: int) -> dict[str, tuple[Any, str]]:
    return {name: (t.value, t.source) for name, t in service.traits_of(session, profile_id).items()}


def _computed(session: Session, profile_id: int, **kwargs: Any) -> dict[str, tuple[Any, int]]:
    return {c.name: (c.value, c.events) for c in service.computed_values_of(session, profile_id, **kwargs)}


def _consent(session: Session, profile_id: int) -> dict[str, str]:
    return {
        f"{c.channel}/{c.purpose}": c.status
        for c in service.consent_of(session, profile_id)
        if c.status != "unknown"
    }


def _define(session: Session, name: str, aggregation: str, **fields: Any) -> None:
    definitions.create(session, ComputedTraitCreate(name=name, aggregation=aggregation, **fields))  # type: ignore[arg-type]


def test_traits_follow_source_priority_then_time(session: Session) -> None:
    # given the CRM's name, a newer web name, and a newer web email (no CRM email)
    ingest(session, identify("crm-1", user_id="c1", traits={"name": "王小明"}, when=at(10)), source="crm")
    ingest(
        session,
        identify("web-1", user_id="c1", traits={"name": "wang", "email": "Old@Example.com"}, when=at(5)),
        identify("web-2", user_id="c1", traits={"email": "new@example.com", "city": None}, when=at(2)),
    )
    # when
    traits = _traits(session, profile(session, "user_id", "c1"))
    # then the CRM keeps the name, the newest web statement gives the email, a null states nothing
    assert traits == {"name": ("王小明", "crm"), "email": ("new@example.com", "web")}


def test_an_older_pos_statement_beats_a_newer_web_one_and_priority_is_configurable(session: Session) -> None:
    # given a till typed the phone a year ago and the web shop a different one yesterday
    ingest(
        session,
        identify("pos-1", user_id="c1", traits={"phone": "0912-000-111"}, when=at(365)),
        source="pos:TPE-XINYI",
    )
    ingest(session, identify("web-1", user_id="c1", traits={"phone": "0912-999-888"}, when=at(1)))
    live = profile(session, "user_id", "c1")
    assert _traits(session, live) == {"phone": ("0912-000-111", "pos:TPE-XINYI")}
    # when head office trusts the web above the tills
    save_trait_priority(session, TraitSourcePriority(priority=["crm", "web", "pos"]))
    # then the same statements resolve the other way
    assert _traits(session, live) == {"phone": ("0912-999-888", "web")}


def test_context_traits_of_a_track_event_are_traits(session: Session) -> None:
    ingest(
        session,
        track("t1", "Order Completed", when=at(1), user_id="c1", context={"traits": {"name": "林小姐"}}),
        source="pos:TPE-XINYI",
    )
    assert _traits(session, profile(session, "user_id", "c1")) == {"name": ("林小姐", "pos:TPE-XINYI")}


def test_traits_computed_traits_consent_and_timeline_follow_a_merge_and_its_unmerge(session: Session) -> None:
    # given a member's CRM record, and a tablet browser that subscribed to SMS and ordered anonymously
    _define(session, "orders", "count", event="Order Completed")
    _define(session, "revenue", "sum", event="Order Completed", property="revenue")
    ingest(session, identify("crm", user_id="c1", traits={"name": "王小明"}, when=at(30)), source="crm")
    ingest(session, order("o1", user_id="c1", revenue=1000, when=at(20)))
    tablet = [
        track("t1", "Order Completed", when=at(10), anonymous_id="tablet", properties={"revenue": 250.5}),
        track("t2", "Subscribed", when=at(9), anonymous_id="tablet", properties={"channel": "sms"}),
        message("t3", type="identify", anonymous_id="tablet", traits={"nickname": "Ming"}, at=at(8)),
    ]
    ingest(session, *tablet)
    member = profile(session, "user_id", "c1")
    assert _traits(session, member) == {"name": ("王小明", "crm")}
    # when a login on the tablet merges the two
    ingest(session, identify("login", user_id="c1", traits={}, when=at(1), anonymous_id="tablet"))
    # then the member's view holds both
    assert _traits(session, member) == {"name": ("王小明", "crm"), "nickname": ("Ming", "web")}
    assert _computed(session, member, now=NOW) == {"orders": (2, 2), "revenue": (1250.5, 2)}
    assert _consent(session, member) == {"sms/marketing": "granted"}
    assert len(service.timeline(session, member).items) == 6
    # when the merge is undone
    (merge,) = identity_service.explain(session, member).merges
    split = identity_service.unmerge(session, member, merge.id, by="admin@shop.example").new_profile_id
    # then each profile is back to its own events
    assert _traits(session, member) == {"name": ("王小明", "crm")}
    assert _computed(session, member, now=NOW) == {"orders": (1, 1), "revenue": (1000, 1)}
    assert _consent(session, member) == {}
    assert _traits(session, split) == {"nickname": ("Ming", "web")}
    assert _computed(session, split, now=NOW) == {"orders": (1, 1), "revenue": (250.5, 1)}
    assert _consent(session, split) == {"sms/marketing": "granted"}
    assert [i.event for i in service.timeline(session, split).items] == [
        None,
        "Subscribed",
        "Order Completed",
    ]


def test_a_window_slides_with_the_time_of_reading(session: Session) -> None:
    # given orders 100, 60 and 10 days before NOW, and 90-day revenue
    _define(session, "revenue_90d", "sum", event="Order Completed", property="revenue", window_days=90)
    for days, amount in ((100, 500), (60, 300), (10, 20)):
        ingest(session, order(f"o{days}", user_id="c1", revenue=amount, when=at(days)))
    live = profile(session, "user_id", "c1")
    # when read now, in 31 days, and in 81 days
    readings = [_computed(session, live, now=at(-days))["revenue_90d"] for days in (0, 31, 81)]
    # then events leave the window as it slides, with no event logged meanwhile
    assert readings == [(320, 2), (20, 1), (None, 0)]


def test_a_window_boundary_is_exact(session: Session) -> None:
    _define(session, "orders_7d", "count", event="Order Completed", window_days=7)
    ingest(session, order("inside", user_id="c1", revenue=1, when=at(7, hours=-1)))
    ingest(session, order("outside", user_id="c1", revenue=1, when=at(7, hours=1)))
    assert _computed(session, profile(session, "user_id", "c1"), now=NOW) == {"orders_7d": (1, 1)}


def test_a_new_definition_gathers_past_events_and_the_consumer_keeps_it_current(session: Session) -> None:
    # given orders logged before the definition existed
    ingest(session, order("o1", user_id="c1", revenue=100, when=at(3), category="shoes"))
    ingest(session, order("o2", user_id="c1", revenue=50, when=at(2), category="bags"))
    # when the definitions are made, and another order arrives
    _define(
        session,
        "shoe_orders",
        "count",
        event="Order Completed",
        filters=[{"property": "category", "op": "eq", "value": "shoes"}],
    )
    _define(
        session,
        "big_orders",
        "max",
        event="Order Completed",
        property="revenue",
        filters=[{"property": "revenue", "op": "gte", "value": 60}],
    )
    ingest(session, order("o3", user_id="c1", revenue=80, when=at(1), category="shoes"))
    # then past and new events count, each once, as the filters say
    assert _computed(session, profile(session, "user_id", "c1"), now=NOW) == {
        "shoe_orders": (2, 2),
        "big_orders": (100, 2),
    }
    assert session.scalar(select(func.count()).select_from(ComputedTraitInput)) == 4


def test_indexing_a_batch_again_changes_nothing(session: Session) -> None:
    _define(session, "orders", "count", event="Order Completed")
    ingest(
        session,
        identify("i1", user_id="c1", traits={"email_opt_in": True}, when=at(2)),
        order("o1", user_id="c1", revenue=1, when=at(1)),
    )
    counts = [
        session.scalar(select(func.count()).select_from(m))
        for m in (ProfileActivity, TraitObservation, ComputedTraitInput)
    ]
    # when the consumer sees the whole log again (a crash before its cursor moved)
    indexing.index_events(session, events_service.events_after(session, 0, limit=1000))
    # then
    assert (
        [
            session.scalar(select(func.count()).select_from(m))
            for m in (ProfileActivity, TraitObservation, ComputedTraitInput)
        ]
        == counts
        == [2, 1, 1]
    )


def test_consent_latest_decision_wins_across_traits_and_events(session: Session) -> None:
    ingest(
        session,
        identify("i1", user_id="c1", traits={"email_opt_in": True, "opted_in_sms": "yes"}, when=at(10)),
        track("e1", "Email Unsubscribed", when=at(5), user_id="c1"),
        track("e2", "SMS Opted Out", when=at(20), user_id="c1"),
        track(
            "e3",
            "Subscribed",
            when=at(4),
            user_id="c1",
            properties={"channel": "LINE", "purpose": "transactional"},
        ),
    )
    assert _consent(session, profile(session, "user_id", "c1")) == {
        "email/marketing": "denied",
        "sms/marketing": "granted",
        "line/transactional": "granted",
    }


def test_changing_consent_logs_an_event_that_becomes_the_profiles_state(session: Session) -> None:
    # given a member who opted in to email
    ingest(session, identify("i1", user_id="c1", traits={"email_opt_in": True}, when=at(10)))
    live = profile(session, "user_id", "c1")
    head = events_service.head_position(session)
    # when staff record the member's unsubscribe
    answer = consent_changes.change_consent(
        session,
        live,
        [ConsentChange(channel="email", granted=False, reason="asked at the till")],
        by="clerk@shop.example",
    )
    # then the answer holds it, the log has the event, and once processed the profile shows it
    assert {f"{c.channel}/{c.purpose}": c.status for c in answer if c.status != "unknown"} == {
        "email/marketing": "denied"
    }
    (logged,) = events_service.events_after(session, head, limit=10)
    assert (logged.event, logged.user_id, logged.source, logged.properties) == (
        "Unsubscribed",
        "c1",
        "omni:consent",
        {
            "channel": "email",
            "purpose": "marketing",
            "changed_by": "clerk@shop.example",
            "reason": "asked at the till",
        },
    )
    ingest(session, stitch_from=head)
    assert _consent(session, live) == {"email/marketing": "denied"}


def test_timeline_is_newest_first_by_time_and_pages_without_gaps(session: Session) -> None:
    # given events logged out of time order (a till sending the morning's sales late)
    ingest(session, *(track(f"e{i}", "Product Viewed", when=at(i), user_id="c1") for i in (1, 3, 5)))
    ingest(session, *(track(f"e{i}", "Product Viewed", when=at(i), user_id="c1") for i in (2, 4)))
    live = profile(session, "user_id", "c1")
    # when read two at a time
    pages, before = [], None
    while True:
        page = service.timeline(session, live, limit=2, before=before)
        pages.append([item.occurred_at for item in page.items])
        before = page.next_before
        if before is None:
            break
    # then
    assert pages == [[at(1), at(2)], [at(3), at(4)], [at(5)]]


def test_timeline_rejects_a_cursor_it_did_not_make(session: Session) -> None:
    ingest(session, track("e1", "Product Viewed", when=at(1), user_id="c1"))
    with pytest.raises(ValidationFailed) as error:
        service.timeline(session, profile(session, "user_id", "c1"), before="yesterday")
    assert error.value.details == [{"field": "before", "rule": "a next_before cursor or an ISO-8601 time"}]


def test_a_merged_away_id_answers_with_the_survivor(session: Session) -> None:
    # given a tablet visitor and a member, then a login that joins them (the older profile survives)
    ingest(session, message("a1", anonymous_id="tablet", at=at(3)))
    ingest(session, identify("i1", user_id="c1", traits={}, when=at(2)))
    member = profile(session, "user_id", "c1")
    ingest(session, identify("login", user_id="c1", traits={}, when=at(1), anonymous_id="tablet"))
    # when the member's old id is asked for
    view = service.profile_view(session, member)
    # then the survivor answers, saying so
    survivor = profile(session, "anonymous_id", "tablet")
    assert survivor != member
    assert (view.requested_id, view.profile_id, view.merged_away) == (member, survivor, True)


def test_find_by_any_identifier_in_any_format(session: Session) -> None:
    ingest(
        session,
        identify(
            "i1", user_id="c1", traits={"phone": "0912-345-678", "email": "Mei@Example.com"}, when=at(1)
        ),
    )
    live = profile(session, "user_id", "c1")
    assert service.find(session, [("phone", "+886 912 345 678")])[0] == live
    assert service.find(session, [("email", " mei@example.COM ")])[0] == live
    with pytest.raises(ProfileUnknown):
        service.find(session, [("phone", "0987-654-321")])


@pytest.mark.parametrize(
    "query",
    [
        pytest.param([], id="none"),
        pytest.param([("email", "a@b.co"), ("phone", "0912345678")], id="two-kinds"),
        pytest.param([("email", "a@b.co"), ("email", "c@d.co")], id="same-kind-twice"),
        pytest.param([("shoe_size", "42")], id="unknown-key"),
    ],
)
def test_find_needs_exactly_one_known_identifier(session: Session, query: list[tuple[str, str]]) -> None:
    with pytest.raises(ProfileLookupInvalid):
        service.find(session, query)


def test_an_unknown_profile_id_is_not_found(session: Session) -> None:
    with pytest.raises(ProfileNotFound):
        service.profile_view(session, 987_654)


def test_search_finds_by_phone_email_member_number_and_part_of_a_name(session: Session) -> None:
    ingest(
        session,
        identify(
            "i1",
            user_id="c1",
            traits={"name": "王小明", "phone": "0912-345-678", "member_id": "M00000042"},
            when=at(2),
        ),
        identify("i2", user_id="c2", traits={"name": "王大明", "email": "da@example.com"}, when=at(1)),
    )
    c1, c2 = profile(session, "user_id", "c1"), profile(session, "user_id", "c2")
    assert service.search(session, "+886912345678") == [c1]
    assert service.search(session, "DA@example.com") == [c2]
    assert service.search(session, "M00000042") == [c1]
    assert sorted(service.search(session, "明")) == sorted([c1, c2])
    assert service.search(session, "小明") == [c1]
    assert service.search(session, "陳") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param(
            {"aggregation": "sum", "event": "Order Completed"}, "property", id="sum-without-property"
        ),
        pytest.param(
            {"aggregation": "count", "event": "Order Completed", "property": "revenue"},
            "property",
            id="count-with-property",
        ),
        pytest.param(
            {"aggregation": "count", "event": "X", "filters": [{"property": "a", "op": "in", "value": 1}]},
            "filters.0.value",
            id="in-without-list",
        ),
        pytest.param(
            {"aggregation": "count", "event": "X", "filters": [{"property": "a", "op": "gt", "value": "x"}]},
            "filters.0.value",
            id="gt-without-number",
        ),
    ],
)
def test_definitions_that_cannot_be_computed_are_refused(
    session: Session, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ComputedTraitInvalid) as error:
        definitions.create(session, ComputedTraitCreate(name="x", **fields))
    assert [d["field"] for d in error.value.details] == [field]


def test_a_definition_name_is_unique(session: Session) -> None:
    _define(session, "orders", "count", event="Order Completed")
    with pytest.raises(ComputedTraitExists):
        _define(session, "orders", "count", event="Order Completed")


def test_deleting_a_definition_forgets_its_inputs(session: Session) -> None:
    ingest(session, order("o1", user_id="c1", revenue=1, when=at(1)))
    _define(session, "orders", "count", event="Order Completed")
    (definition,) = definitions.list_all(session)
    definitions.delete(session, definition.id)
    assert definitions.list_all(session) == []
    assert session.scalar(select(func.count()).select_from(ComputedTraitInput)) == 0
