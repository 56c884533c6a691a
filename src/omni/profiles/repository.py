"""SQL of the profile domain: idempotent writes keyed by log position, reads over a profile's positions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omni.profiles.models import (
    ComputedTrait,
    ComputedTraitInput,
    ConsentDecision,
    ProfileActivity,
    ProfileSettings,
    TraitObservation,
)
from omni.profiles.timeline import Cursor

# Any constant works; it names the lock that serialises the indexing consumer and definition backfills.
PROFILES_LOCK_KEY = 0x9F_0000_0001
WRITE_CHUNK = 1000


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_profiles(session: Session) -> None:
    """Serialise the indexing consumer with computed-trait backfills for this transaction.

    A definition created while a consumer batch is in flight would otherwise miss that batch: the batch
    does not see the new definition, and the backfill does not see the batch's uncommitted activity.
    SQLite has one writer; a write statement (matching no row) takes its lock before anything is read.
    """
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROFILES_LOCK_KEY})
    else:
        session.execute(update(ProfileSettings).where(ProfileSettings.id < 0).values(document={}))


def insert_new(session: Session, model: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, skipping those whose primary key is already stored (a batch processed again)."""
    table = model.__table__
    statement = (pg_insert(table) if _postgres(session) else sqlite_insert(table)).on_conflict_do_nothing(
        index_elements=list(keys)
    )
    for start in range(0, len(rows), WRITE_CHUNK):
        session.execute(statement, list(rows[start : start + WRITE_CHUNK]))


def definitions(session: Session) -> Sequence[ComputedTrait]:
    """Every computed trait definition, oldest first."""
    return session.scalars(select(ComputedTrait).order_by(ComputedTrait.id)).all()


# Reads of a profile's rows select plain columns: ORM objects cost more than the queries on a lookup.
_OBSERVATION = (
    TraitObservation.position,
    TraitObservation.trait,
    TraitObservation.value,
    TraitObservation.source,
    TraitObservation.observed_at,
)
_DECISION = (
    ConsentDecision.position,
    ConsentDecision.channel,
    ConsentDecision.purpose,
    ConsentDecision.granted,
    ConsentDecision.decided_at,
    ConsentDecision.source,
    ConsentDecision.evidence,
)
_INPUT = (
    ComputedTraitInput.trait_id,
    ComputedTraitInput.position,
    ComputedTraitInput.occurred_at,
    ComputedTraitInput.value,
)


def observations(session: Session, positions: Select[Any]) -> Sequence[Any]:
    """Trait statements of the events at positions."""
    return session.execute(select(*_OBSERVATION).where(TraitObservation.position.in_(positions))).all()


def decisions(session: Session, positions: Select[Any]) -> Sequence[Any]:
    """Consent decisions of the events at positions."""
    return session.execute(select(*_DECISION).where(ConsentDecision.position.in_(positions))).all()


def inputs(session: Session, positions: Select[Any], trait_ids: Sequence[int]) -> Sequence[Any]:
    """Inputs of the given computed traits from the events at positions; the caller applies windows."""
    if not trait_ids:
        return []
    return session.execute(
        select(*_INPUT).where(
            ComputedTraitInput.position.in_(positions), ComputedTraitInput.trait_id.in_(trait_ids)
        )
    ).all()


def activity_page(
    session: Session, positions: Select[Any], *, limit: int, before: Cursor | None
) -> Sequence[ProfileActivity]:
    """Up to limit events at positions, newest first by time then position, strictly before the cursor."""
    query = select(ProfileActivity).where(ProfileActivity.position.in_(positions))
    if before is not None:
        if before.position is None:
            query = query.where(ProfileActivity.occurred_at < before.occurred_at)
        else:
            query = query.where(
                or_(
                    ProfileActivity.occurred_at < before.occurred_at,
                    and_(
                        ProfileActivity.occurred_at == before.occurred_at,
                        ProfileActivity.position < before.position,
                    ),
                )
            )
    query = query.order_by(ProfileActivity.occurred_at.desc(), ProfileActivity.position.desc()).limit(limit)
    return session.scalars(query).all()


def activity_of_event(session: Session, event: str) -> Iterator[ProfileActivity]:
    """Every recorded event of one name, in log order, streamed."""
    query = select(ProfileActivity).where(ProfileActivity.event == event).order_by(ProfileActivity.position)
    yield from session.scalars(query.execution_options(yield_per=WRITE_CHUNK))


def delete_inputs(session: Session, trait_id: int) -> None:
    """Forget what a computed trait gathered (SQLite may run without enforcing the cascade)."""
    session.execute(delete(ComputedTraitInput).where(ComputedTraitInput.trait_id == trait_id))


def positions_with_trait_text(session: Session, trait: str, fragment: str, *, limit: int) -> list[int]:
    """Positions of events that stated trait with a text value containing fragment (any case)."""
    pattern = "%" + fragment.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        session.scalars(
            select(TraitObservation.position)
            .where(TraitObservation.trait == trait, TraitObservation.text.like(pattern, escape="\\"))
            .order_by(TraitObservation.position.desc())
            .limit(limit)
        ).all()
    )
