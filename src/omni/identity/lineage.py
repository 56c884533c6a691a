"""Which absorbed profiles lead to which live profile, for domains that keep rows per profile id.

Segments (and anything else keyed by a profile id) must follow merges: a row held by a profile that was
absorbed belongs to the live profile its merged_into chain ends at.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from omni.identity.models import Identifier, IdentityMerge, IdentityProfile
from omni.identity.repository import IN_CHUNK


def absorbed_profiles() -> Select[int]:
    """A SELECT of every profile id absorbed by another, for IN clauses."""
    return select(IdentityProfile.id).where(IdentityProfile.merged_into_id.is_not(None))


def absorbed_into(session: Session, people: Sequence[int]) -> dict[int, int]:
    """For live profiles, every profile absorbed into each (directly or down a chain): {absorbed: live}."""
    found: dict[int, int] = {}
    for start in range(0, len(people), IN_CHUNK):
        roots = list(people[start : start + IN_CHUNK])
        tree = (
            select(IdentityProfile.id, IdentityProfile.merged_into_id.label("root"))
            .where(IdentityProfile.merged_into_id.in_(roots))
            .cte("absorbed", recursive=True)
        )
        tree = tree.union_all(
            select(IdentityProfile.id, tree.c.root).where(IdentityProfile.merged_into_id == tree.c.id)
        )
        found.update({int(a): int(b) for a, b in session.execute(select(tree.c.id, tree.c.root)).all()})
    return found


def reshaped(
    session: Session,
    lineage: Sequence[int],
    *,
    positions: Sequence[int],
    message_ids: Sequence[str],
    unmerged_since: datetime,
) -> bool:
    """Whether a live person's identity changed through these log positions, or by an unmerge since then;
    lineage is the live people and every profile absorbed into them (absorbed_into).

    Changed: a profile was born or gained an identifier by one of the messages, was merged at one of the
    positions, or took part in a merge undone at or after unmerged_since (unmerges are not on the log).
    """
    profiles = sorted(set(lineage))
    wanted = set(message_ids)
    at = set(positions)
    for start in range(0, len(profiles), IN_CHUNK):
        chunk = profiles[start : start + IN_CHUNK]
        firsts = session.scalars(select(Identifier.first_message_id).where(Identifier.profile_id.in_(chunk)))
        if wanted.intersection(firsts):
            return True
        merged = session.scalars(
            select(IdentityMerge.event_position).where(IdentityMerge.survivor_id.in_(chunk))
        )
        if at.intersection(merged):
            return True
    undone = session.execute(
        select(IdentityMerge.survivor_id, IdentityMerge.absorbed_id, IdentityMerge.undone_into_id).where(
            IdentityMerge.undone_at >= unmerged_since
        )
    ).all()
    involved = set(profiles)
    return any(involved.intersection(row) for row in undone)
