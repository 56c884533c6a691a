"""The matching job: score every pair of live profiles on their resolved traits, merge or queue for review.

The deterministic graph has joined everything that shares an identifier; this finds the same person behind
records that share none (a phone typo'd at a till, a second email). Sure pairs are merged through the
identity graph, so they stay explainable and undoable; grey-band pairs go to a person.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

# The matcher and the review queue are the identity domain's; both are only called, never reached into.
from omni.identity import matching as identity_matching
from omni.identity import review as identity_review
from omni.identity import service as identity_service
from omni.identity.errors import MergeExceedsLimit
from omni.profiles import service as profiles_service

# Resolved trait -> the matcher's column; name is split into given_name and surname first.
TRAIT_COLUMNS = {
    "birthday": "date_of_birth",
    "email": "email",
    "phone": "phone",
    "city": "city",
    "address": "address",
    "postcode": "postcode",
}


@dataclass(frozen=True, slots=True)
class MatchRun:
    """What one run of the job did."""

    profiles: int
    pairs_scored: int
    merged: int
    queued: int
    refused: int
    skipped: str | None = None


def _cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith("CJK UNIFIED") for ch in text)


def split_name(name: str) -> tuple[str | None, str | None]:
    """(given name, surname): a Chinese name's first character is its surname, else the last word."""
    name = " ".join(name.split())
    if not name:
        return None, None
    if " " not in name and _cjk(name):
        # Two-character surnames (歐陽, 司馬) are rare enough that the first character alone is fine here.
        return (name[1:] or None), name[0]
    words = name.split(" ")
    if len(words) == 1:
        return words[0], None
    return " ".join(words[:-1]), words[-1]


def candidate_record(profile_id: int, traits: dict[str, Any]) -> dict[str, Any]:
    """The matcher's record of one profile, from its resolved trait values."""
    record: dict[str, Any] = {"record_id": str(profile_id)}
    name = traits.get("name")
    if isinstance(name, str):
        record["given_name"], record["surname"] = split_name(name)
    for trait, column in TRAIT_COLUMNS.items():
        value = traits.get(trait)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            record[column] = str(value)
    return record


def candidate_records(session: Session) -> list[dict[str, Any]]:
    """One record per live profile with at least one trait the matcher compares."""
    records = []
    for profile_id in identity_service.live_profile_ids(session):
        traits = {name: read.value for name, read in profiles_service.traits_of(session, profile_id).items()}
        record = candidate_record(profile_id, traits)
        if len(record) > 1:
            records.append(record)
    return records


def _evidence(decision: identity_matching.Decision, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    left, right = records[decision.record_id_l], records[decision.record_id_r]
    compared = sorted(k for k in left.keys() & right.keys() if k != "record_id" and left[k] and right[k])
    return {
        "match_probability": round(decision.match_probability, 6),
        "match_weight": round(decision.match_weight, 4),
        "compared_fields": compared,
        "agreeing_fields": [k for k in compared if left[k] == right[k]],
    }


def run(session: Session, thresholds: identity_matching.MatchThresholds | None = None) -> MatchRun:
    """Score all live profiles (default thresholds unless given): merge sure pairs, queue the grey band."""
    records = candidate_records(session)
    minimum = identity_matching.MatchSettings().min_records_to_train
    if len(records) < minimum:
        # The model is estimated from the profiles themselves; too few say nothing about u and m.
        return MatchRun(len(records), 0, 0, 0, 0, skipped=f"fewer than {minimum} profiles with traits")
    try:
        scored = identity_matching.score_pairs(records)
    except identity_matching.MatchingInputError as exc:
        # Estimation finds nothing to learn from in some populations (no pair agrees on anything): no guesses.
        return MatchRun(
            len(records), 0, 0, 0, 0, skipped=f"the model could not be estimated: {exc.message[:200]}"
        )
    decisions = identity_matching.decide(scored, thresholds or identity_matching.MatchThresholds())
    by_id = {record["record_id"]: record for record in records}
    merged = refused = 0
    proposals = []
    for decision in sorted(decisions, key=lambda d: -d.match_probability):
        evidence = _evidence(decision, by_id)
        left, right = int(decision.record_id_l), int(decision.record_id_r)
        if decision.action == "review":
            proposals.append(
                identity_review.Proposal(
                    left, right, decision.match_probability, decision.match_weight, evidence
                )
            )
            continue
        # Earlier merges in this run may have absorbed either side: merge the live profiles, oldest survives.
        a, b = sorted(
            (identity_service.merged_into(session, left), identity_service.merged_into(session, right))
        )
        if a == b:
            continue
        try:
            # The limits are checked before anything is written, so a refusal leaves nothing behind.
            identity_service.merge_profiles(session, a, b, rule="probabilistic", evidence=evidence, by=None)
        except MergeExceedsLimit:
            # Two member ids cannot be one person by the rules; a review could not merge them either.
            refused += 1
            continue
        merged += 1
    queued = identity_review.propose_candidates(session, proposals)
    return MatchRun(len(records), scored.pairs_scored, merged, queued, refused)
