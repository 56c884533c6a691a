from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy.orm import Session

from omni.identity import review as identity_review
from omni.identity import service as identity_service
from omni.identity.matching import MatchThresholds
from omni.profiles import matching_job
from tests.identity.builders import message, profile
from tests.profiles.builders import at, ingest

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾"
GIVEN = ["美玲", "志明", "淑芬", "建宏", "雅婷", "俊傑", "怡君", "家豪", "佳穎", "宗翰", "欣怡", "冠宇"]


def _person(n: int, name: str, birthday: str, phone: str, email: str) -> dict[str, Any]:
    traits = {"name": name, "birthday": birthday, "phone": phone, "email": email}
    # Anonymous: two user ids would exceed their limit of one per profile, which the merge respects.
    return message(f"m-{n}", type="identify", anonymous_id=f"anon-{n}", traits=traits, at=at(n))


def _crowd(count: int) -> list[dict[str, Any]]:
    """Distinct people: no two share a name, a birthday, a phone or an email."""
    names = (s + g for g, s in itertools.product(GIVEN, SURNAMES))
    return [
        _person(
            1000 + i,
            next(names),
            f"19{60 + i % 40:02d}-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}",
            f"09{(10_000_000 + i * 7_919_311) % 100_000_000:08d}",
            f"crowd{i}@mail.example",
        )
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("陳美玲", ("美玲", "陳"), id="chinese"),
        pytest.param("Mei Ling Chen", ("Mei Ling", "Chen"), id="western"),
        pytest.param("Madonna", ("Madonna", None), id="one-word"),
        pytest.param("  ", (None, None), id="blank"),
    ],
)
def test_split_name(name: str, expected: tuple[str | None, str | None]) -> None:
    assert matching_job.split_name(name) == expected


def test_candidate_record_maps_traits_to_matcher_columns() -> None:
    traits = {"name": "陳美玲", "birthday": "1985-03-02", "phone": "+886912345678", "home_store": "TPE"}
    assert matching_job.candidate_record(7, traits) == {
        "record_id": "7",
        "given_name": "美玲",
        "surname": "陳",
        "date_of_birth": "1985-03-02",
        "phone": "+886912345678",
    }


def _two_lookalike_pairs(session: Session) -> tuple[tuple[int, int], tuple[int, int]]:
    """A crowd of distinct people, one person twice with a phone typo'd at a till, and a second pair with
    the same name and birthday but another phone and email."""
    ingest(
        session,
        *_crowd(70),
        _person(1, "王小明", "1980-05-17", "0912345678", "ming@mail.example"),
        _person(2, "王小明", "1980-05-17", "0912345679", "ming.wang@work.example"),
        _person(3, "李大同", "1975-09-21", "0933111222", "tung@mail.example"),
        _person(4, "李大同", "1975-09-21", "0966777888", "datong@work.example"),
    )
    return (
        (profile(session, "anonymous_id", "anon-1"), profile(session, "anonymous_id", "anon-2")),
        (profile(session, "anonymous_id", "anon-3"), profile(session, "anonymous_id", "anon-4")),
    )


def test_the_job_merges_a_typod_phone_with_the_default_thresholds(session: Session) -> None:
    # given two people each written twice, with no identifier in common
    (ming, ming_at_till), (tung, tung_too) = _two_lookalike_pairs(session)
    # when the job runs with the default thresholds
    result = matching_job.run(session)
    # then both pairs score above 0.95 and are merged by the probabilistic rule, with their evidence
    assert (result.profiles, result.merged, result.queued, result.refused, result.skipped) == (
        74,
        2,
        0,
        0,
        None,
    )
    assert identity_service.merged_into(session, ming_at_till) == ming
    assert identity_service.merged_into(session, tung_too) == tung
    (merge,) = identity_service.explain(session, ming).merges
    assert (merge.rule, merge.absorbed_id) == ("probabilistic", ming_at_till)
    assert merge.evidence is not None
    assert merge.evidence["match_probability"] >= 0.95
    assert merge.evidence["agreeing_fields"] == ["date_of_birth", "given_name", "surname"]
    assert merge.evidence["compared_fields"] == ["date_of_birth", "email", "given_name", "phone", "surname"]
    # and a second run finds nothing left to do
    again = matching_job.run(session)
    assert (again.profiles, again.merged, again.queued) == (72, 0, 0)


def test_the_job_queues_the_grey_band_for_review(session: Session) -> None:
    # given the same people, and a stricter auto-merge bound that the pair without a near phone falls under
    (ming, ming_at_till), (tung, tung_too) = _two_lookalike_pairs(session)
    strict = MatchThresholds(auto_merge=0.9999, review=0.2)
    # when the job runs
    result = matching_job.run(session, strict)
    # then the typo'd phone still merges and the other pair waits for a person, unmerged
    assert (result.merged, result.queued) == (1, 1)
    assert identity_service.merged_into(session, ming_at_till) == ming
    (candidate,) = identity_review.pending_candidates(session)
    assert (candidate.profile_a, candidate.profile_b) == (tung, tung_too)
    assert 0.2 <= candidate.match_probability < 0.9999
    assert identity_service.merged_into(session, tung_too) == tung_too
    # and the queued pair is not queued twice
    assert matching_job.run(session, strict).queued == 0


def test_the_job_skips_too_few_profiles(session: Session) -> None:
    ingest(session, *_crowd(3))
    result = matching_job.run(session)
    assert (result.profiles, result.pairs_scored, result.merged, result.skipped) == (
        3,
        0,
        0,
        "fewer than 50 profiles with traits",
    )
