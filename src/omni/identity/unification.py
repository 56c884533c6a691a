"""How well the identity graph unified people, measured against a ground truth of who is behind what.

Pairwise scores over identifiers: a pair of identifiers is predicted together when one profile holds both,
and truly together when one person wrote both. Precision is the share of predicted pairs that are true,
recall the share of true pairs found. Counted from the (profile, person) contingency table, so a run of
a million identifiers costs a dictionary pass, not a list of pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.identity.models import Identifier
from omni.identity.normalize import normalize_identifier
from omni.identity.service import current_rules

Key = tuple[str, str]


@dataclass(frozen=True)
class UnificationScore:
    precision: float
    recall: float
    f1: float
    identifiers: int
    people: int
    profiles: int
    # People whose identifiers sit on more than one profile, and profiles holding more than one person.
    split_people: int
    merged_profiles: int

    def describe(self) -> str:
        return (
            f"precision {self.precision:.3f}, recall {self.recall:.3f}, F1 {self.f1:.3f} over "
            f"{self.identifiers:,} identifiers of {self.people:,} people on {self.profiles:,} profiles "
            f"({self.split_people:,} people split, {self.merged_profiles:,} profiles mixing people)"
        )


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(profile_of: Mapping[Key, int], person_of: Mapping[Key, str]) -> UnificationScore:
    """Pairwise precision, recall and F1 over the identifiers both mappings know."""
    keys = profile_of.keys() & person_of.keys()
    cells = Counter((profile_of[key], person_of[key]) for key in keys)
    per_profile = Counter(profile_of[key] for key in keys)
    per_person = Counter(person_of[key] for key in keys)
    together = sum(_pairs(n) for n in cells.values())
    predicted = sum(_pairs(n) for n in per_profile.values())
    true = sum(_pairs(n) for n in per_person.values())
    precision = together / predicted if predicted else 1.0
    recall = together / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    people_of_profile = Counter(profile for profile, _ in cells)
    profiles_of_person = Counter(person for _, person in cells)
    return UnificationScore(
        precision=precision,
        recall=recall,
        f1=f1,
        identifiers=len(keys),
        people=len(per_person),
        profiles=len(per_profile),
        split_people=sum(1 for n in profiles_of_person.values() if n > 1),
        merged_profiles=sum(1 for n in people_of_profile.values() if n > 1),
    )


def truth_by_key(session: Session, written: Iterable[tuple[str, str, str]]) -> dict[Key, str]:
    """Normalise (kind, value as written, person) rows the way stitching does; values that normalise to
    nothing (junk) and values more than one person wrote (a shared family email) are left out, as they
    link no one by design."""
    rules = current_rules(session)
    owners: dict[Key, set[str]] = {}
    for kind, raw, person in written:
        value = normalize_identifier(kind, raw, region=rules.region, blocked=rules.blocked).value
        if value is not None:
            owners.setdefault((kind, value), set()).add(person)
    return {key: next(iter(people)) for key, people in owners.items() if len(people) == 1}


def profiles_by_key(session: Session) -> dict[Key, int]:
    """The live profile holding each identifier."""
    rows = session.execute(select(Identifier.kind, Identifier.value, Identifier.profile_id))
    return {(kind, value): profile for kind, value, profile in rows}


# What a person tells a retailer, as against cookies and devices that many never tie to themselves.
KNOWN_KINDS = frozenset({"user_id", "member_id", "email", "phone"})


def measure(
    session: Session, written: Iterable[tuple[str, str, str]], *, kinds: frozenset[str] | None = None
) -> UnificationScore:
    """Score the graph as it stands against what each person wrote (only identifiers of kinds, if given)."""
    truth = truth_by_key(session, written)
    if kinds is not None:
        truth = {key: person for key, person in truth.items() if key[0] in kinds}
    return score(profiles_by_key(session), truth)
