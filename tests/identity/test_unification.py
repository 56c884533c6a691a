from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from omni.identity import unification
from tests.identity.builders import log_and_stitch, message


def test_a_perfect_partition_scores_one() -> None:
    truth = {("email", "a@x.tw"): "p1", ("phone", "+886912000001"): "p1", ("email", "b@x.tw"): "p2"}
    profiles = {("email", "a@x.tw"): 10, ("phone", "+886912000001"): 10, ("email", "b@x.tw"): 20}
    result = unification.score(profiles, truth)
    assert (result.precision, result.recall, result.f1) == (1.0, 1.0, 1.0)
    assert (result.split_people, result.merged_profiles) == (0, 0)


def test_a_split_person_costs_recall_and_a_mixed_profile_costs_precision() -> None:
    # given p1 wrote three identifiers held by two profiles, and profile 20 also holds p2's one
    truth = {("email", "a"): "p1", ("phone", "1"): "p1", ("member_id", "M1"): "p1", ("email", "b"): "p2"}
    profiles = {("email", "a"): 10, ("phone", "1"): 10, ("member_id", "M1"): 20, ("email", "b"): 20}
    result = unification.score(profiles, truth)
    # then 1 of 3 true pairs is found, and 1 of 2 predicted pairs is true
    assert result.recall == pytest.approx(1 / 3)
    assert result.precision == pytest.approx(1 / 2)
    assert result.f1 == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert (result.identifiers, result.people, result.profiles) == (4, 2, 2)
    assert (result.split_people, result.merged_profiles) == (1, 1)


def test_identifiers_only_one_side_knows_are_left_out() -> None:
    result = unification.score(
        {("email", "a"): 1, ("email", "z"): 1}, {("email", "a"): "p1", ("email", "b"): "p1"}
    )
    assert result.identifiers == 1
    assert (result.precision, result.recall) == (1.0, 1.0)


def test_the_graph_is_scored_on_values_as_people_wrote_them(session: Session) -> None:
    # given one person identified with a phone written locally, and another whose email was never linked
    log_and_stitch(
        session,
        message(
            "m1", type="identify", user_id="c_1", traits={"phone": "0912-345-678", "email": "Amy@Gmail.com"}
        ),
        message("m2", type="identify", user_id="c_2"),
        message("m3", type="identify", anonymous_id="a-2", traits={"email": "bob@example.com"}),
    )
    written = [
        ("user_id", "c_1", "amy"),
        ("phone", "0912345678", "amy"),
        ("email", " amy@gmail.com ", "amy"),
        ("user_id", "c_2", "bob"),
        ("email", "bob@example.com", "bob"),
        ("anonymous_id", "a-2", "bob"),
        # junk and shared values link no one by design, so they are not scored
        ("email", "test@test.com", "bob"),
        ("phone", "02-2345-6789", "amy"),
        ("phone", "02-2345-6789", "bob"),
    ]
    # when it is scored
    every = unification.measure(session, written)
    known = unification.measure(session, written, kinds=unification.KNOWN_KINDS)
    # then amy is whole and bob is split in two; among known kinds bob's email is still apart
    assert (every.identifiers, every.people, every.profiles, every.split_people) == (6, 2, 3, 1)
    assert every.precision == 1.0
    assert every.recall == pytest.approx(4 / 6)
    assert (known.identifiers, known.split_people) == (5, 1)
    assert known.recall == pytest.approx(3 / 4)
