from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from omni.identity import review
from omni.identity import service as identity_service
from omni.identity.errors import (
    CandidateAlreadyDecided,
    CandidateNotFound,
    MergeExceedsLimit,
    MergeInvalid,
    ProfileNotLive,
)
from omni.identity.models import IdentityMerge
from omni.identity.review import Proposal
from tests.identity.builders import log_and_stitch, message, partition, profile

EVIDENCE: dict[str, Any] = {"match_probability": 0.97, "match_weight": 5.1, "fields": ["name", "birthday"]}


def _two_people(session: Session) -> tuple[int, int]:
    log_and_stitch(session, message("m1", user_id="c_001", anonymous_id="anon-a"))
    log_and_stitch(session, message("m2", type="identify", anonymous_id="anon-b", traits={"email": "b@x.tw"}))
    return profile(session, "user_id", "c_001"), profile(session, "anonymous_id", "anon-b")


def test_merge_profiles_joins_two_live_profiles_with_evidence(session: Session) -> None:
    # given two profiles that share no identifier
    first, second = _two_people(session)
    # when the matcher merges them
    merge = identity_service.merge_profiles(
        session, first, second, rule="probabilistic", evidence=EVIDENCE, by=None
    )
    # then the identifiers share one profile, and the merge carries the rule and the evidence
    assert partition(session) == {
        frozenset(
            {
                ("user_id", "c_001"),
                ("anonymous_id", "anon-a"),
                ("anonymous_id", "anon-b"),
                ("email", "b@x.tw"),
            }
        )
    }
    assert identity_service.merged_into(session, second) == first
    explained = identity_service.explain(session, second)
    assert [(m.id, m.survivor_id, m.absorbed_id, m.rule, m.evidence) for m in explained.merges] == [
        (merge.id, first, second, "probabilistic", EVIDENCE)
    ]


def test_a_probabilistic_merge_is_undone_by_unmerge(session: Session) -> None:
    # given two profiles merged by the matcher
    first, second = _two_people(session)
    merge = identity_service.merge_profiles(
        session, first, second, rule="probabilistic", evidence=EVIDENCE, by=None
    )
    # when a person undoes it
    result = identity_service.unmerge(session, first, merge.id, by="admin@shop.example")
    # then the absorbed profile's identifiers are on their own again
    assert sorted((i.kind, i.value) for i in result.moved) == [
        ("anonymous_id", "anon-b"),
        ("email", "b@x.tw"),
    ]
    assert partition(session) == {
        frozenset({("user_id", "c_001"), ("anonymous_id", "anon-a")}),
        frozenset({("anonymous_id", "anon-b"), ("email", "b@x.tw")}),
    }
    assert session.get(IdentityMerge, merge.id).undone_by == "admin@shop.example"  # type: ignore[union-attr]


def test_merge_profiles_refuses_to_exceed_a_per_kind_limit(session: Session) -> None:
    # given two profiles each with a user id (limit 1 per profile)
    log_and_stitch(session, message("m1", user_id="c_001"), message("m2", user_id="c_002"))
    first, second = profile(session, "user_id", "c_001"), profile(session, "user_id", "c_002")
    # when the matcher tries to merge them, then it is refused with 409 naming the kind, and nothing changed
    with pytest.raises(MergeExceedsLimit) as refused:
        identity_service.merge_profiles(session, first, second, rule="probabilistic", evidence={}, by=None)
    assert (refused.value.status_code, refused.value.details) == (
        409,
        [{"field": "user_id", "rule": "at most 1 per profile"}],
    )
    assert partition(session) == {frozenset({("user_id", "c_001")}), frozenset({("user_id", "c_002")})}


@pytest.mark.parametrize(
    ("rule", "same", "error", "field"),
    [
        pytest.param("guess", False, MergeInvalid, "rule", id="unknown-rule-422"),
        pytest.param("probabilistic", True, MergeInvalid, "absorbed_id", id="itself-422"),
    ],
)
def test_merge_profiles_refuses_bad_input(
    session: Session, rule: str, same: bool, error: type[Exception], field: str
) -> None:
    first, second = _two_people(session)
    with pytest.raises(error) as refused:
        identity_service.merge_profiles(
            session, first, first if same else second, rule=rule, evidence={}, by=None
        )
    assert refused.value.details[0]["field"] == field  # type: ignore[attr-defined]


def test_merge_profiles_refuses_an_absorbed_profile(session: Session) -> None:
    first, second = _two_people(session)
    identity_service.merge_profiles(session, first, second, rule="probabilistic", evidence={}, by=None)
    log_and_stitch(session, message("m3", user_id="c_003"))
    third = profile(session, "user_id", "c_003")
    with pytest.raises(ProfileNotLive) as refused:
        identity_service.merge_profiles(session, third, second, rule="probabilistic", evidence={}, by=None)
    assert (refused.value.status_code, refused.value.details) == (
        409,
        [{"field": "absorbed_id", "rule": "a live profile"}],
    )


def test_propose_queues_each_pair_once_in_order(session: Session) -> None:
    # given two profiles
    first, second = _two_people(session)
    # when the pair is proposed twice, in both orders
    added = review.propose_candidates(
        session,
        [Proposal(second, first, 0.5, 0.1, {"fields": ["name"]}), Proposal(first, second, 0.6, 0.3)],
    )
    # then it is queued once, stored as (older, newer)
    assert added == 1
    pending = review.pending_candidates(session)
    assert [(c.profile_a, c.profile_b, c.match_probability, c.evidence, c.status) for c in pending] == [
        (first, second, 0.5, {"fields": ["name"]}, "pending")
    ]


def test_confirm_merges_the_pair_by_manual_review(session: Session) -> None:
    first, second = _two_people(session)
    review.propose_candidates(session, [Proposal(first, second, 0.5, 0.1, {"fields": ["name"]})])
    (candidate,) = review.pending_candidates(session)
    merge = review.confirm_candidate(session, candidate.id, by="marketer@shop.example")
    assert (merge.survivor_id, merge.absorbed_id, merge.rule, merge.evidence) == (
        first,
        second,
        "manual_review",
        {"fields": ["name"], "candidate_id": candidate.id},
    )
    assert identity_service.merged_into(session, second) == first
    assert review.pending_candidates(session) == []
    with pytest.raises(CandidateAlreadyDecided):
        review.reject_candidate(session, candidate.id, by="admin@shop.example")


def test_a_rejected_pair_is_never_proposed_again(session: Session) -> None:
    # given a pair a person rejected
    first, second = _two_people(session)
    review.propose_candidates(session, [Proposal(first, second, 0.5, 0.1)])
    (candidate,) = review.pending_candidates(session)
    rejected = review.reject_candidate(session, candidate.id, by="admin@shop.example")
    assert (rejected.status, rejected.decided_by) == ("rejected", "admin@shop.example")
    # when the matcher proposes it again, then nothing is queued and the profiles stay apart
    assert review.propose_candidates(session, [Proposal(second, first, 0.9, 2.0)]) == 0
    assert review.pending_candidates(session) == []
    assert identity_service.merged_into(session, second) == second


def test_a_pair_already_one_profile_is_not_proposed(session: Session) -> None:
    first, second = _two_people(session)
    identity_service.merge_profiles(session, first, second, rule="probabilistic", evidence={}, by=None)
    assert review.propose_candidates(session, [Proposal(first, second, 0.5, 0.1)]) == 0


def test_deciding_an_unknown_candidate_is_404(session: Session) -> None:
    with pytest.raises(CandidateNotFound) as missing:
        review.confirm_candidate(session, 999, by="admin@shop.example")
    assert missing.value.status_code == 404
