from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.identity.errors import InvalidIdentifier
from omni.identity.models import Identifier, IdentityConflict, IdentityMerge
from omni.identity.rules import RULE_ALIAS, RULE_CO_OCCURRENCE
from omni.identity.schemas import IdentityRules
from tests.identity.builders import (
    START,
    canonical,
    forget_graph,
    log,
    log_and_stitch,
    message,
    partition,
    profile,
    snapshot,
    stitch_new,
)


def test_identifiers_seen_together_share_one_profile_transitively(session: Session) -> None:
    # given a device seen with two anonymous ids, then one of them logging in
    log_and_stitch(
        session,
        message("m1", anonymous_id="anon-a", context={"device": {"id": "dev-1"}}),
        message("m2", anonymous_id="anon-b", context={"device": {"id": "dev-1"}}),
        message(
            "m3", type="identify", user_id="c_001", anonymous_id="anon-b", traits={"email": "Amy@Gmail.com"}
        ),
    )
    # then all of them are one person
    assert partition(session) == {
        frozenset(
            {
                ("user_id", "c_001"),
                ("email", "amy@gmail.com"),
                ("device_id", "dev-1"),
                ("anonymous_id", "anon-a"),
                ("anonymous_id", "anon-b"),
            }
        )
    }


def test_separate_profiles_merge_when_an_event_joins_them_and_the_oldest_survives(session: Session) -> None:
    # given a shopper known by user id on one browser, and an anonymous visit on another
    log_and_stitch(session, message("m1", user_id="c_001", anonymous_id="anon-a"))
    log_and_stitch(session, message("m2", anonymous_id="anon-b"))
    older, newer = profile(session, "user_id", "c_001"), profile(session, "anonymous_id", "anon-b")
    # when the second browser logs in
    log_and_stitch(session, message("m3", type="identify", user_id="c_001", anonymous_id="anon-b"))
    # then the newer profile is merged into the older, with the evidence of the merge
    assert older < newer
    assert profile(session, "anonymous_id", "anon-b") == older
    assert identity_service.merged_into(session, newer) == older
    (merge,) = session.scalars(select(IdentityMerge)).all()
    assert (merge.survivor_id, merge.absorbed_id, merge.kind, merge.value) == (
        older,
        newer,
        "anonymous_id",
        "anon-b",
    )
    assert (merge.rule, merge.message_id, merge.source) == (RULE_CO_OCCURRENCE, "m3", "web")
    assert merge.event_position == events_service.head_position(session)
    assert merge.occurred_at > START


def test_alias_links_the_previous_anonymous_id_to_the_user(session: Session) -> None:
    log_and_stitch(session, message("m1", anonymous_id="anon-a"), message("m2", user_id="c_001"))
    log_and_stitch(session, message("m3", type="alias", user_id="c_001", previous_id="anon-a"))
    assert partition(session) == {frozenset({("user_id", "c_001"), ("anonymous_id", "anon-a")})}
    (merge,) = session.scalars(select(IdentityMerge)).all()
    # the anonymous profile is the older one, so the user's profile joins it
    assert (merge.rule, merge.kind, merge.value) == (RULE_ALIAS, "user_id", "c_001")


def test_alias_of_an_earlier_user_id_is_held_to_the_user_id_limit(session: Session) -> None:
    log_and_stitch(session, message("m1", user_id="old-id"), message("m2", user_id="new-id"))
    log_and_stitch(session, message("m3", type="alias", user_id="new-id", previous_id="old-id"))
    assert partition(session) == {frozenset({("user_id", "old-id")}), frozenset({("user_id", "new-id")})}
    (conflict,) = session.scalars(select(IdentityConflict)).all()
    assert (conflict.kind, conflict.value) == ("user_id", "old-id")


def test_shared_family_email_does_not_fuse_two_people(session: Session) -> None:
    # given mother and father, each with an account, both typing the family email
    family = "chen.family@gmail.com"
    log_and_stitch(session, message("m1", type="identify", user_id="mom", traits={"email": family}))
    log_and_stitch(
        session, message("m2", type="identify", user_id="dad", traits={"email": " Chen.Family@Gmail.com"})
    )
    # then they stay two people; the email stays with whoever had it first
    mom, dad = profile(session, "user_id", "mom"), profile(session, "user_id", "dad")
    assert mom != dad
    assert profile(session, "email", family) == mom
    assert session.scalars(select(IdentityMerge)).all() == []
    (conflict,) = session.scalars(select(IdentityConflict)).all()
    assert (conflict.profile_id, conflict.other_profile_id, conflict.kind, conflict.value) == (
        dad,
        mom,
        "email",
        family,
    )
    assert conflict.reason == "would give the profile 2 user_id identifiers; the limit is 1"
    assert conflict.message_id == "m2"


def test_the_store_phone_typed_at_the_till_does_not_fuse_members(session: Session) -> None:
    # given a cashier typing the store's own phone for two members who would not give theirs
    store_phone = "02-2720-8889"
    for n, member in enumerate(("M001", "M002", "M003")):
        log_and_stitch(
            session,
            message(f"pos-{n}", user_id=member, properties={"member_id": member, "phone": store_phone}),
            source="pos:TPE-XINYI",
        )
    # then the members remain three people and two conflicts say why
    assert partition(session) == {
        frozenset({("user_id", "M001"), ("member_id", "M001"), ("phone", "+886227208889")}),
        frozenset({("user_id", "M002"), ("member_id", "M002")}),
        frozenset({("user_id", "M003"), ("member_id", "M003")}),
    }
    conflicts = session.scalars(select(IdentityConflict).order_by(IdentityConflict.id)).all()
    assert [(c.message_id, c.kind, c.value, c.source) for c in conflicts] == [
        ("pos-1", "phone", "+886227208889", "pos:TPE-XINYI"),
        ("pos-2", "phone", "+886227208889", "pos:TPE-XINYI"),
    ]


def test_higher_priority_identifier_wins_and_the_lower_one_is_left_out(session: Session) -> None:
    # given an anonymous browser already tied to one user
    log_and_stitch(session, message("m1", user_id="c_001", anonymous_id="shared-laptop"))
    # when another user is seen on the same browser
    log_and_stitch(session, message("m2", user_id="c_002", anonymous_id="shared-laptop"))
    # then the user id decides; the anonymous id stays with the first user
    assert partition(session) == {
        frozenset({("user_id", "c_001"), ("anonymous_id", "shared-laptop")}),
        frozenset({("user_id", "c_002")}),
    }
    events = identity_service.events_of(session, profile(session, "user_id", "c_002"))
    assert [(e.kind, e.value) for e in events] == [("user_id", "c_002")]


def test_a_profile_takes_at_most_the_limit_of_emails(session: Session) -> None:
    log_and_stitch(
        session,
        *(
            message(f"m{i}", type="identify", user_id="c_001", traits={"email": f"amy{i}@gmail.com"})
            for i in range(6)
        ),
    )
    emails = [i.value for i in identity_service.identifiers_of(session, profile(session, "user_id", "c_001"))]
    assert emails == ["c_001", *(f"amy{i}@gmail.com" for i in range(5))]
    assert identity_service.find_profile(session, "email", "amy5@gmail.com") is None
    (conflict,) = session.scalars(select(IdentityConflict)).all()
    assert (conflict.kind, conflict.value, conflict.other_profile_id) == ("email", "amy5@gmail.com", None)


@pytest.mark.parametrize(
    ("traits", "user_ids"),
    [
        pytest.param({"email": "test@test.com"}, ("c_001", "c_002"), id="test-email"),
        pytest.param({"email": "TEST@example.com "}, ("c_001", "c_002"), id="example-email"),
        pytest.param({"phone": "0900-000-000"}, ("c_001", "c_002"), id="all-zero-phone"),
        pytest.param({"phone": "0911111111"}, ("c_001", "c_002"), id="same-digit-phone"),
        pytest.param({"member_id": "null"}, ("c_001", "c_002"), id="null-member"),
        pytest.param({"member_id": "undefined"}, ("c_001", "c_002"), id="undefined-member"),
        pytest.param({"email": "n/a"}, ("c_001", "c_002"), id="na-email"),
    ],
)
def test_junk_identifiers_never_link_anyone(
    session: Session, traits: dict[str, str], user_ids: tuple[str, ...]
) -> None:
    log_and_stitch(
        session,
        *(
            message(f"m-{u}", type="identify", user_id=u, anonymous_id=f"a-{u}", traits=traits)
            for u in user_ids
        ),
    )
    assert partition(session) == {frozenset({("user_id", u), ("anonymous_id", f"a-{u}")}) for u in user_ids}


@pytest.mark.parametrize("junk", ["null", "undefined", "anonymous", "0", "-1"])
def test_junk_anonymous_ids_are_not_identifiers(session: Session, junk: str) -> None:
    log_and_stitch(
        session,
        message("m1", user_id="c_001", anonymous_id=junk),
        message("m2", user_id="c_002", anonymous_id=junk),
    )
    assert partition(session) == {frozenset({("user_id", "c_001")}), frozenset({("user_id", "c_002")})}


def test_event_of_only_junk_identifiers_is_not_attributed(session: Session) -> None:
    log_and_stitch(session, message("m1", anonymous_id="undefined", traits={"email": "test@test.com"}))
    assert partition(session) == set()
    assert snapshot(session)["events"] == []


@pytest.mark.parametrize(
    "written", ["0912-345-678", "+886912345678", "886 912 345 678", "0912345678", "+886 912-345-678"]
)
def test_lookup_by_any_phone_format_finds_the_profile(session: Session, written: str) -> None:
    log_and_stitch(session, message("m1", type="identify", user_id="c_001", traits={"phone": "0912 345 678"}))
    assert identity_service.find_profile(session, "phone", written) == profile(session, "user_id", "c_001")


def test_lookup_of_an_unknown_identifier_finds_nothing(session: Session) -> None:
    assert identity_service.find_profile(session, "email", "nobody@gmail.com") is None


def test_lookup_of_junk_names_the_rule_it_breaks(session: Session) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        identity_service.find_profile(session, "phone", "0900-000-000")
    assert caught.value.details == [{"field": "phone", "rule": "placeholder number (repeated digit)"}]


def test_sightings_keep_first_and_last_seen_and_the_first_source(session: Session) -> None:
    log_and_stitch(session, message("m1", user_id="c_001", at=START + timedelta(days=2)), source="app")
    log_and_stitch(session, message("m2", user_id="c_001", at=START + timedelta(days=5)), source="web")
    log_and_stitch(
        session, message("m3", user_id="c_001", at=START + timedelta(days=1)), source="pos:TPE-XINYI"
    )
    (identifier,) = identity_service.identifiers_of(session, profile(session, "user_id", "c_001"))
    assert (identifier.first_seen_at, identifier.last_seen_at) == (
        START + timedelta(days=1),
        START + timedelta(days=5),
    )
    assert (identifier.source, identifier.first_message_id) == ("app", "m1")


def test_stitching_a_batch_again_changes_nothing(session: Session) -> None:
    log(
        session,
        message("m1", anonymous_id="a1", context={"device": {"id": "d1"}}),
        message("m2", user_id="c_001", anonymous_id="a1", traits={"email": "amy@gmail.com"}),
        message("m3", user_id="c_002", traits={"email": "amy@gmail.com"}),
        message("m4", type="alias", user_id="c_001", previous_id="a9"),
    )
    stitch_new(session)
    before = snapshot(session)
    stitch_new(session)
    assert snapshot(session) == before


def test_the_graph_does_not_depend_on_the_batch_size(session: Session) -> None:
    # given a stream with merges, a conflict and an alias
    log(
        session,
        message("m1", anonymous_id="a1"),
        message("m2", anonymous_id="a2", context={"device": {"id": "d1"}}),
        message("m3", anonymous_id="a1", context={"device": {"id": "d1"}}),
        message("m4", user_id="c_001", anonymous_id="a2", traits={"email": "fam@gmail.com"}),
        message("m5", user_id="c_002", anonymous_id="a4", traits={"email": "fam@gmail.com"}),
        message("m6", anonymous_id="a3"),
        message("m7", type="alias", user_id="c_002", previous_id="a3"),
    )
    # when it is stitched one event per batch, and again from scratch in one batch
    position = 0
    while (after := _stitch_one(session, position)) != position:
        position = after
    one_by_one = canonical(session)
    forget_graph(session)
    stitch_new(session)
    # then both give the same graph with the same evidence
    assert canonical(session) == one_by_one
    assert one_by_one["groups"] == {
        frozenset(
            {
                ("anonymous_id", "a1"),
                ("anonymous_id", "a2"),
                ("device_id", "d1"),
                ("user_id", "c_001"),
                ("email", "fam@gmail.com"),
            }
        ),
        frozenset({("user_id", "c_002"), ("anonymous_id", "a4"), ("anonymous_id", "a3")}),
    }
    assert one_by_one["merges"] == [("anonymous_id", "a3", "m7"), ("device_id", "d1", "m3")]
    assert one_by_one["conflicts"] == [("email", "fam@gmail.com", "m5")]


def _stitch_one(session: Session, after: int) -> int:
    batch = events_service.events_after(session, after, limit=1)
    identity_service.stitch(session, batch)
    return batch[-1].position if batch else after


def test_custom_kinds_and_limits_come_from_the_rules(session: Session) -> None:
    # given rules that read a LINE user id from traits and allow two user ids per profile
    identity_service.save_rules(
        session,
        IdentityRules(
            priority=["user_id", "line_id", "email", "anonymous_id"],
            limits={"user_id": 2, "line_id": 1},
            paths={"line_id": ["traits.line_id"], "email": ["traits.email"]},
            blocked_values=["store@shop.tw"],
        ),
    )
    # when the web account and the till's member id meet through a LINE id
    log_and_stitch(
        session,
        message(
            "m1", type="identify", user_id="c_001", traits={"line_id": "U4af49", "email": "store@shop.tw"}
        ),
        message(
            "m2", type="identify", user_id="M001", traits={"line_id": "U4af49", "email": "store@shop.tw"}
        ),
    )
    # then they are one person, and the blocked email links no one
    assert partition(session) == {
        frozenset({("user_id", "c_001"), ("user_id", "M001"), ("line_id", "U4af49")})
    }


def test_identifiers_are_unique_per_kind_and_value(session: Session) -> None:
    log_and_stitch(session, message("m1", user_id="same"), message("m2", anonymous_id="same"))
    rows = session.execute(select(Identifier.kind, Identifier.value)).all()
    assert sorted(rows) == [("anonymous_id", "same"), ("user_id", "same")]
