"""The SQL of journeys: claiming due runs, finding the runs an event wakes or converts, the counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from omni.journeys.models import Journey, JourneyRun, JourneyStep

IN_CHUNK = 500


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _active_journeys() -> Any:
    return select(Journey.id).where(Journey.status == "active")


def claim_due(session: Session, *, now: datetime, limit: int) -> Sequence[JourneyRun]:
    """Lock up to limit runs of active journeys whose wake_at has come, oldest first, for this transaction.

    On PostgreSQL the rows are taken FOR UPDATE SKIP LOCKED: several workers each get different runs, and
    a run being woken by an event is skipped rather than waited for. SQLite has one writer at a time: the
    first statement is a write, so the transaction holds the write lock before it reads which runs are
    due, and a second worker reads them only after the first committed their new wake_at.
    """
    due = (
        select(JourneyRun.id)
        .where(JourneyRun.wake_at <= now, JourneyRun.journey_id.in_(_active_journeys()))
        .order_by(JourneyRun.wake_at, JourneyRun.id)
        .limit(limit)
    )
    if _postgres(session):
        return session.scalars(
            select(JourneyRun)
            .where(JourneyRun.wake_at <= now, JourneyRun.journey_id.in_(_active_journeys()))
            .order_by(JourneyRun.wake_at, JourneyRun.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=JourneyRun)
        ).all()
    ids = session.scalars(
        update(JourneyRun)
        .where(JourneyRun.id.in_(due.scalar_subquery()))
        .values(updated_at=JourneyRun.updated_at)
        .returning(JourneyRun.id)
    ).all()
    if not ids:
        return []
    return session.scalars(
        select(JourneyRun).where(JourneyRun.id.in_(ids)).order_by(JourneyRun.wake_at, JourneyRun.id)
    ).all()


def _locked(session: Session, query: Any) -> Sequence[JourneyRun]:
    # Waking waits for a worker stepping the same run (its timeout) to commit, then sees the run's new
    # state: a run already moved on no longer matches and is left alone.
    if _postgres(session):
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).all()


def waiting_for(session: Session, wait_keys: Sequence[str]) -> list[JourneyRun]:
    """Runs waiting for one of wait_keys, locked, through the wait_key index."""
    found: list[JourneyRun] = []
    for start in range(0, len(wait_keys), IN_CHUNK):
        chunk = wait_keys[start : start + IN_CHUNK]
        found.extend(
            _locked(
                session,
                select(JourneyRun)
                .where(JourneyRun.wait_key.in_(chunk), JourneyRun.state == "waiting")
                .order_by(JourneyRun.id),
            )
        )
    return found


def converting(session: Session, goal_keys: Sequence[str]) -> list[JourneyRun]:
    """Runs not yet converted whose goal is one of goal_keys, locked, through the goal_key index."""
    found: list[JourneyRun] = []
    for start in range(0, len(goal_keys), IN_CHUNK):
        chunk = goal_keys[start : start + IN_CHUNK]
        found.extend(
            _locked(
                session,
                select(JourneyRun)
                .where(JourneyRun.goal_key.in_(chunk), JourneyRun.converted_at.is_(None))
                .order_by(JourneyRun.id),
            )
        )
    return found


def lock_journey(session: Session, journey_id: int) -> None:
    """Serialise entries into one journey (cap and re-entry are check-then-insert).

    A write rather than SELECT FOR UPDATE, so that on SQLite too the transaction takes the write lock
    before it reads what it checks.
    """
    session.execute(update(Journey).where(Journey.id == journey_id).values(status=Journey.status))


def last_entry(session: Session, journey_id: int, profile_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(JourneyRun.entered_at)).where(
            JourneyRun.journey_id == journey_id, JourneyRun.profile_id == profile_id
        )
    )


def entries(session: Session, journey_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(JourneyRun).where(JourneyRun.journey_id == journey_id)
        )
        or 0
    )


def run_by_entry(session: Session, journey_id: int, entry_key: str) -> JourneyRun | None:
    return session.scalar(
        select(JourneyRun).where(JourneyRun.journey_id == journey_id, JourneyRun.entry_key == entry_key)
    )


def counts_by_state(session: Session, journey_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per journey: runs per state, and converted runs under the key "converted"."""
    found: dict[int, dict[str, int]] = {journey_id: {} for journey_id in journey_ids}
    if not journey_ids:
        return found
    rows = session.execute(
        select(JourneyRun.journey_id, JourneyRun.state, func.count(), func.count(JourneyRun.converted_at))
        .where(JourneyRun.journey_id.in_(journey_ids))
        .group_by(JourneyRun.journey_id, JourneyRun.state)
    ).all()
    for journey_id, state, people, converted in rows:
        counts = found[journey_id]
        counts[state] = int(people)
        counts["converted"] = counts.get("converted", 0) + int(converted)
    return found


def people_here(session: Session, journey_id: int) -> dict[str, int]:
    """People now at each node (in flight only)."""
    rows = session.execute(
        select(JourneyRun.node, func.count())
        .where(JourneyRun.journey_id == journey_id, JourneyRun.state.in_(("active", "waiting")))
        .group_by(JourneyRun.node)
    ).all()
    return {node: int(people) for node, people in rows}


def people_reached(session: Session, journey_id: int) -> dict[str, int]:
    """People who ever reached each node."""
    rows = session.execute(
        select(JourneyStep.node, func.count(func.distinct(JourneyStep.run_id)))
        .where(JourneyStep.journey_id == journey_id)
        .group_by(JourneyStep.node)
    ).all()
    return {node: int(people) for node, people in rows}


def cohorts(session: Session, journey_id: int) -> dict[str, tuple[int, int]]:
    """(people, converted) per cohort of the journey's holdout split."""
    rows = session.execute(
        select(JourneyRun.cohort, func.count(), func.count(JourneyRun.converted_at))
        .where(JourneyRun.journey_id == journey_id, JourneyRun.cohort.is_not(None))
        .group_by(JourneyRun.cohort)
    ).all()
    return {str(cohort): (int(people), int(converted)) for cohort, people, converted in rows}
