from __future__ import annotations

import pytest
from pydantic import ValidationError

from omni.identity.rules import StitchRules, extract
from omni.identity.schemas import IdentityRules

MEMBER_NUMBERS = StitchRules(user_id_patterns={"member_id": r"M\d{8}"})


def _identifiers(rules: StitchRules, user_id: str) -> tuple[tuple[str, str], ...]:
    return extract(
        rules, user_id=user_id, anonymous_id=None, previous_id=None, traits={}, properties={}, context={}
    ).identifiers


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        pytest.param("M40012019", (("member_id", "M40012019"),), id="member-number-from-the-till"),
        pytest.param("c_298f322d5d", (("user_id", "c_298f322d5d"),), id="web-account"),
        pytest.param("M4001201", (("user_id", "M4001201"),), id="too-short-is-a-user-id"),
    ],
)
def test_user_id_matching_a_pattern_is_of_that_kind(
    user_id: str, expected: tuple[tuple[str, str], ...]
) -> None:
    assert _identifiers(MEMBER_NUMBERS, user_id) == expected


def test_without_patterns_every_user_id_is_a_user_id() -> None:
    assert _identifiers(StitchRules(), "M40012019") == (("user_id", "M40012019"),)


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        pytest.param({"user_id": "x"}, "user_id must be a kind in priority", id="message-kind"),
        pytest.param({"loyalty": "x"}, "loyalty must be a kind in priority", id="unknown-kind"),
        pytest.param(
            {"member_id": "M[0-9"}, "the pattern of member_id is not a regular expression", id="bad-re"
        ),
    ],
)
def test_bad_user_id_patterns_are_refused(patterns: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        IdentityRules(user_id_patterns=patterns)
    assert message in str(caught.value)
