"""Which absorbed profiles lead to which live profile, for domains that keep rows per profile id.

Segments (and anything else keyed by a profile id) must follow merges: a row held by a profile that was
absorbed belongs to the live profile its merged_into chain ends at.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from omni.identity.models import IdentityProfile
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
