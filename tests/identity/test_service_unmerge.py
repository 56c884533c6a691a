from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.identity.errors import MergeAlreadyUndone, MergeNotFound, ProfileNotFound
from omni.identity.models import IdentityMerge
from tests.identity.builders import log_and_stitch, message, partition, profile


def test_explain_shows_identifiers_merges_and_conflicts(session: Session) -> None:
    log_and_stitch(session, message("m1", user_id="c_001", anonymous_id="anon-a"))
    log_and_stitch(session, message("m2", anonymous_id="anon-b"))
    absorbed = profile(session, "anonymous_id", "anon-b")
    log_and_stitch(session, message("m3", user_id="c_001", anonymous_id="anon-b"))
    log_and_stitch(session, message("m4", user_id="c_002", anonymous_id="anon-a"))
    live = profile(session, "user_id", "c_001")
    explained = identity_service.explain(session, absorbed)
    assert (explained.profile_id, explained.requested_id, explained.merged_profile_ids) == (
        live,
        absorbed,
        [absorbed],
    )
    assert [(i.kind, i.value) for i in explained.identifiers] == [
        ("user_id", "c_001"),
        ("anonymous_id", "anon-a"),
        ("anonymous_id", "anon-b"),
    ]
    assert [(m.survivor_id, m.absorbed_id, m.kind, m.message_id) for m in explained.merges] == [
        (live, absorbed, "anonymous_id", "m3")
    ]
    assert (
        identity_service.explain(session, profile(session, "user_id", "c_002")).conflicts[0].value == "anon-a"
    )


def test_unmerge_moves_the_identifiers_and_their_events_to_a_new_profile(session: Session) -> None:
    # given a user with a laptop browser, and a tablet browser that was later merged in by a login
    log_and_stitch(session, message("laptop-1", user_id="c_001", anonymous_id="laptop"))
    log_and_stitch(
        session, message("tablet-1", anonymous_id="tablet"), message("tablet-2", anonymous_id="tablet")
    )
    tablet_profile = profile(session, "anonymous_id", "tablet")
    log_and_stitch(session, message("login", type="identify", user_id="c_001", anonymous_id="tablet"))
    live = profile(session, "user_id", "c_001")
    (merge,) = identity_service.explain(session, live).merges
    positions = {m: p for p, m in _positions(session)}
    assert {e.position for e in identity_service.events_of(session, live)} == set(positions.values())
    # when the merge is undone
    result = identity_service.unmerge(session, live, merge.id, by="admin@shop.example")
    # then the tablet's identifiers and events move to a new profile, the login stays with the user
    assert [(i.kind, i.value) for i in result.moved] == [("anonymous_id", "tablet")]
    assert partition(session) == {
        frozenset({("user_id", "c_001"), ("anonymous_id", "laptop")}),
        frozenset({("anonymous_id", "tablet")}),
    }
    assert {e.position for e in identity_service.events_of(session, result.new_profile_id)} == {
        positions["tablet-1"],
        positions["tablet-2"],
    }
    assert {e.position for e in identity_service.events_of(session, live)} == {
        positions["laptop-1"],
        positions["login"],
    }
    assert identity_service.merged_into(session, tablet_profile) == result.new_profile_id
    undone = session.get(IdentityMerge, merge.id)
    assert undone is not None
    assert (undone.undone_into_id, undone.undone_by) == (result.new_profile_id, "admin@shop.example")


def test_unmerge_takes_along_what_was_merged_into_the_absorbed_profile_before(session: Session) -> None:
    # given two anonymous visits merged by a device, then that profile merged into a user's
    log_and_stitch(session, message("m0", user_id="c_001"))
    log_and_stitch(session, message("m1", anonymous_id="a1"), message("m2", anonymous_id="a2"))
    log_and_stitch(session, message("m3", anonymous_id="a2", context={"device": {"id": "d1"}}))
    log_and_stitch(session, message("m4", anonymous_id="a1", context={"device": {"id": "d1"}}))
    log_and_stitch(session, message("m5", user_id="c_001", anonymous_id="a1"))
    live = profile(session, "user_id", "c_001")
    into_user = [m for m in identity_service.explain(session, live).merges if m.message_id == "m5"]
    # when the merge into the user is undone
    identity_service.unmerge(session, live, into_user[0].id, by="admin@shop.example")
    # then the whole anonymous group leaves together
    assert partition(session) == {
        frozenset({("user_id", "c_001")}),
        frozenset({("anonymous_id", "a1"), ("anonymous_id", "a2"), ("device_id", "d1")}),
    }


def test_unmerge_twice_is_refused(session: Session) -> None:
    log_and_stitch(session, message("m1", user_id="c_001"), message("m2", anonymous_id="a1"))
    log_and_stitch(session, message("m3", user_id="c_001", anonymous_id="a1"))
    live = profile(session, "user_id", "c_001")
    (merge,) = identity_service.explain(session, live).merges
    identity_service.unmerge(session, live, merge.id, by="x")
    with pytest.raises(MergeAlreadyUndone):
        identity_service.unmerge(session, live, merge.id, by="x")


def test_unmerge_of_another_profiles_merge_is_not_found(session: Session) -> None:
    log_and_stitch(session, message("m1", user_id="c_001"), message("m2", anonymous_id="a1"))
    log_and_stitch(session, message("m3", user_id="c_001", anonymous_id="a1"), message("m4", user_id="c_002"))
    (merge,) = identity_service.explain(session, profile(session, "user_id", "c_001")).merges
    with pytest.raises(MergeNotFound):
        identity_service.unmerge(session, profile(session, "user_id", "c_002"), merge.id, by="x")


def test_unknown_profile_is_not_found(session: Session) -> None:
    with pytest.raises(ProfileNotFound):
        identity_service.merged_into(session, 987654)


def _positions(session: Session) -> list[tuple[int, str]]:
    return [(e.position, e.message_id) for e in events_service.events_after(session, 0, limit=1000)]
