"""The review queue: pairs of profiles the matcher is unsure of, merged or kept apart by a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.identity import repository, service
from omni.identity.errors import CandidateAlreadyDecided, CandidateNotFound, MergeInvalid, ProfileNotLive
from omni.identity.models import MatchCandidate
from omni.identity.schemas import MatchCandidateRead, MergeRead
from omni.kit.time import utc_now

PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"


@dataclass(frozen=True, slots=True)
class Proposal:
    """One pair of profiles the matcher scored in the grey band."""

    profile_a: int
    profile_b: int
    match_probability: float
    match_weight: float
    evidence: dict[str, Any] = field(default_factory=dict)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def propose_candidates(session: Session, proposals: Sequence[Proposal]) -> int:
    """Queue pairs for review; pairs already queued or decided, or already one profile, are skipped.

    A rejected pair stays rejected: it is recognised by its live profiles, so a later merge of either side
    with a third profile does not bring the pair back.
    """
    repository.lock_graph(session)
    decided: set[tuple[int, int]] = set()
    for a, b in session.execute(select(MatchCandidate.profile_a, MatchCandidate.profile_b)).all():
        decided.add((a, b))
        decided.add(_pair(service.merged_into(session, a), service.merged_into(session, b)))
    now = utc_now()
    added = 0
    for proposal in proposals:
        if not 0 <= proposal.match_probability <= 1:
            raise MergeInvalid(
                f"match_probability {proposal.match_probability} is not a probability",
                details=[{"field": "match_probability", "rule": "0 <= value <= 1"}],
            )
        pair = _pair(
            service.merged_into(session, proposal.profile_a), service.merged_into(session, proposal.profile_b)
        )
        if pair[0] == pair[1] or pair in decided:
            continue
        decided.add(pair)
        session.add(
            MatchCandidate(
                profile_a=pair[0],
                profile_b=pair[1],
                match_probability=proposal.match_probability,
                match_weight=proposal.match_weight,
                evidence=proposal.evidence,
                status=PENDING,
                created_at=now,
            )
        )
        added += 1
    session.flush()
    return added


def pending_candidates(session: Session, *, limit: int = 100) -> list[MatchCandidateRead]:
    """Pairs waiting for a decision, most likely first; pairs since merged another way are left out."""
    rows = session.scalars(
        select(MatchCandidate)
        .where(MatchCandidate.status == PENDING)
        .order_by(MatchCandidate.match_probability.desc(), MatchCandidate.id)
    ).all()
    found: list[MatchCandidateRead] = []
    for row in rows:
        if service.merged_into(session, row.profile_a) == service.merged_into(session, row.profile_b):
            continue
        found.append(MatchCandidateRead.model_validate(row))
        if len(found) == limit:
            break
    return found


def _pending(session: Session, candidate_id: int) -> MatchCandidate:
    # The graph lock first: two reviewers of one pair are serialised; the second sees the first decision.
    repository.lock_graph(session)
    row = session.get(MatchCandidate, candidate_id)
    if row is None:
        raise CandidateNotFound(f"no match candidate {candidate_id}")
    if row.status != PENDING:
        raise CandidateAlreadyDecided(
            f"match candidate {candidate_id} was already {row.status} by {row.decided_by}",
            details=[{"field": "candidate_id", "rule": "pending"}],
        )
    return row


def confirm_candidate(session: Session, candidate_id: int, *, by: str) -> MergeRead:
    """A person says the pair is one customer: merge them (the older survives); unmerge undoes it."""
    row = _pending(session, candidate_id)
    a, b = _pair(service.merged_into(session, row.profile_a), service.merged_into(session, row.profile_b))
    if a == b:
        raise ProfileNotLive(
            f"profiles {row.profile_a} and {row.profile_b} are already one profile ({a})",
            details=[{"field": "candidate_id", "rule": "two separate profiles"}],
        )
    evidence = {**row.evidence, "candidate_id": row.id}
    merge = service.merge_profiles(session, a, b, rule="manual_review", evidence=evidence, by=by)
    row.status = CONFIRMED
    row.decided_by = by
    row.decided_at = utc_now()
    session.flush()
    return merge


def reject_candidate(session: Session, candidate_id: int, *, by: str) -> MatchCandidateRead:
    """A person says the pair is two customers: it is never proposed again."""
    row = _pending(session, candidate_id)
    row.status = REJECTED
    row.decided_by = by
    row.decided_at = utc_now()
    session.flush()
    return MatchCandidateRead.model_validate(row)
