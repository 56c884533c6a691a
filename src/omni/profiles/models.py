"""Tables of the unified profile: what each logged event says about its person, keyed by log position.

Nothing here names a profile. Identity attributes events to identifiers and moves identifiers between
profiles on merges and unmerges; keying by position and resolving a profile's positions at read time
(identity_service.attributed_positions) keeps every view right through both without being told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class ProfileActivity(Base):
    """One logged event as a profile's timeline shows it."""

    __tablename__ = "profile_activity"
    __table_args__ = (Index("ix_profile_activity_event", "event", "position"),)

    # The event log's position; no foreign key, as the log belongs to another domain.
    position: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(100))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class TraitObservation(Base):
    """One trait value as one event stated it."""

    __tablename__ = "profile_trait"
    __table_args__ = (Index("ix_profile_trait_trait_text", "trait", "text"),)

    position: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    trait: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONDocument)
    # Lower-cased text of a text value, for finding people by name in the dashboard.
    text: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentDecision(Base):
    """A person's yes or no to messages on one channel for one purpose, as one event recorded it."""

    __tablename__ = "profile_consent"

    position: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100))
    evidence: Mapped[str] = mapped_column(String(200))


class ComputedTrait(Base):
    """A computed trait's definition: which events, which property, how aggregated, over what window."""

    __tablename__ = "profile_computed_trait"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    aggregation: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(200))
    property: Mapped[str | None] = mapped_column(String(200))
    window_days: Mapped[int | None] = mapped_column(Integer)
    filters: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComputedTraitInput(Base):
    """An event that counts towards a computed trait, with the property value it contributes."""

    __tablename__ = "profile_computed_input"
    # Position leads the key: a profile's read starts from its positions, never from a whole trait.
    __table_args__ = (Index("ix_profile_computed_input_trait_id", "trait_id"),)

    position: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    trait_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey(
            "profile_computed_trait.id",
            name="fk_profile_computed_input_trait_id_profile_computed_trait",
            ondelete="CASCADE",
        ),
        primary_key=True,
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)


class ProfileSettings(Base):
    """The profile rules in force, one row (the trait source priority); no row means the defaults."""

    __tablename__ = "profile_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
