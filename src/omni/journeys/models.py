"""Tables of the journeys domain: journeys and their immutable versions, one row per person in a journey
(the run: where they are, when they wake, what they wait for), and the steps they took.

A person waiting three days for a reminder is a row with a wake_at, not a thread: workers claim due rows.
Profiles are referred to by id only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class Journey(Base):
    """A named campaign; its definition lives in versions, new people enter the newest."""

    __tablename__ = "journey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    # draft (saved, nobody enters), active (people enter and move), paused (nobody enters or moves)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JourneyVersion(Base):
    """One saved definition; never changed, so people in flight finish on the version they entered."""

    __tablename__ = "journey_version"

    journey_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("journey.id", name="fk_journey_version_journey_id_journey", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(254))


class JourneyRun(Base):
    """One person's pass through one journey version.

    state: active (due to step at wake_at), waiting (for a timer or an event; wake_at is the timeout),
    completed (reached a goal), exited, failed. wake_at is set only while a worker may have work to do,
    so the due index holds the timers and nothing else. wait_key and goal_key are "<event>|<key values>"
    strings: an event wakes exactly the rows holding its key, found through an index.
    """

    __tablename__ = "journey_run"
    __table_args__ = (
        UniqueConstraint("journey_id", "entry_key", name="uq_journey_run_journey_id_entry_key"),
        Index("ix_journey_run_wake_at", "wake_at"),
        Index("ix_journey_run_wait_key", "wait_key"),
        Index("ix_journey_run_goal_key", "goal_key"),
        Index("ix_journey_run_journey_profile", "journey_id", "profile_id"),
        Index("ix_journey_run_journey_node", "journey_id", "state", "node"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    journey_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("journey.id", name="fk_journey_run_journey_id_journey", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    # What made this entry unique (the trigger event's messageId, an API caller's key, a date and person):
    # the log is consumed at least once, and the same entry twice is one run.
    entry_key: Mapped[str] = mapped_column(String(300))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The log position at entry: only later events can end a wait or count as this run's conversion.
    entered_position: Mapped[int] = mapped_column(BigInteger, default=0)
    keys: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    state: Mapped[str] = mapped_column(String(16))
    node: Mapped[str] = mapped_column(String(100))
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_key: Mapped[str | None] = mapped_column(String(300))
    goal_key: Mapped[str | None] = mapped_column(String(300))
    # treatment or holdout once a random split with a holdout branch assigned the person; None before.
    cohort: Mapped[str | None] = mapped_column(String(16))
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JourneyStep(Base):
    """A person reaching a node, and what the node did: the history behind "people per node"."""

    __tablename__ = "journey_step"
    __table_args__ = (
        Index("ix_journey_step_run_id", "run_id"),
        Index("ix_journey_step_journey_node", "journey_id", "node"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("journey_run.id", name="fk_journey_step_run_id_journey_run", ondelete="CASCADE"),
    )
    journey_id: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
