from __future__ import annotations

import random
import re
from datetime import date

import pytest

from omni.demo.people import (
    FAMILY_NAMES,
    JUNK_EMAILS,
    Person,
    make_person,
    national_phone,
    scramble,
    typed_name,
    written_email,
    written_phone,
)
from tests.demo.simulated import e164

START, END = date(2025, 11, 1), date(2026, 11, 1)
PHONE_FORMATS = {
    "0912-345-678": re.compile(r"^09\d{2}-\d{3}-\d{3}$"),
    "+886912345678": re.compile(r"^\+8869\d{8}$"),
    "886 912 345 678": re.compile(r"^886 9\d{2} \d{3} \d{3}$"),
    "0912345678": re.compile(r"^09\d{8}$"),
    "0912 345 678": re.compile(r"^09\d{2} \d{3} \d{3}$"),
    "+886 912-345-678": re.compile(r"^\+886 9\d{2}-\d{3}-\d{3}$"),
}


def _people(count: int, seed: int = 7) -> list[Person]:
    return [
        make_person(random.Random(f"omni-demo-person:{seed}:{i}"), seed=seed, index=i, start=START, end=END)
        for i in range(count)
    ]


def test_written_phones_take_every_format_and_mean_the_same_number() -> None:
    rng = random.Random(1)
    written = [written_phone(rng, "+886912345678") for _ in range(2000)]
    for name, pattern in PHONE_FORMATS.items():
        assert any(pattern.match(w) for w in written), name
    assert {e164(w) for w in written} == {"+886912345678"}
    assert national_phone("+886912345678") == "0912345678"


def test_written_emails_vary_in_case_and_spaces_only() -> None:
    rng = random.Random(2)
    written = {written_email(rng, "amy.lin88@gmail.com") for _ in range(500)}
    assert " Amy.Lin88@Gmail.com " in written
    assert "AMY.LIN88@GMAIL.COM" in written
    assert "amy.lin88@gmail.com" in written
    assert {w.strip().lower() for w in written} == {"amy.lin88@gmail.com"}


def test_cashiers_type_names_with_swaps_gaps_and_lookalikes() -> None:
    person = make_person(random.Random(3), seed=7, index=3, start=START, end=END)
    rng = random.Random(4)
    typed = {typed_name(rng, person) for _ in range(3000)}
    family, given = person.family_name, person.given_name
    assert person.name in typed
    assert family + given[::-1] in typed
    assert family + given[0] in typed
    assert family + ("小姐" if person.gender == "f" else "先生") in typed
    assert f"{family} {given}" in typed
    assert len(typed) >= 6
    assert all(t.startswith(family) or t[1:] == given for t in typed)


def test_scramble_is_a_bijection() -> None:
    values = [scramble(i, 7, 1, 1000) for i in range(1000)]
    assert sorted(values) == list(range(1000))
    assert values[:10] != list(range(10))


def test_people_have_unique_identifiers_except_shared_family_emails() -> None:
    people = _people(3000)
    assert len({p.person_id for p in people}) == 3000
    assert len({p.phone for p in people}) == 3000
    member_ids = [p.member_id for p in people if p.member_id]
    assert len(set(member_ids)) == len(member_ids)
    assert all(re.fullmatch(r"M\d{8}", m) for m in member_ids)
    emails = [p.email for p in people if ".family" not in p.email]
    assert len(set(emails)) == len(emails)
    family = [p.email for p in people if ".family" in p.email]
    assert len(family) > len(set(family)) > 0
    assert not set(JUNK_EMAILS) & {p.email for p in people}


@pytest.mark.parametrize("index", [0, 1, 999])
def test_a_person_depends_only_on_seed_and_index(index: int) -> None:
    def draw(seed: int) -> Person:
        return make_person(random.Random(f"s{seed}:{index}"), seed=seed, index=index, start=START, end=END)

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_names_follow_taiwanese_surname_frequencies() -> None:
    people = _people(3000)
    surnames = [p.family_name for p in people]
    assert surnames.count("陳") > surnames.count("林") > surnames.count("高")
    assert set(surnames) <= {character for character, _, _ in FAMILY_NAMES}
    assert all(re.fullmatch(r"\+8869\d{8}", p.phone) for p in people)
