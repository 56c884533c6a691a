"""Tables of the identity graph: profiles, identifiers, merges with evidence, conflicts, attributions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class IdentityProfile(Base):
    """One person as far as identifiers tell; merged_into_id points at the profile that absorbed it."""

    __tablename__ = "identity_profile"
    __table_args__ = (Index("ix_identity_profile_merged_into_id", "merged_into_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(
        BigIntKey,
        ForeignKey("identity_profile.id", name="fk_identity_profile_merged_into_id_identity_profile"),
    )
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identifier(Base):
    """A normalised (kind, value) on its live profile; born_profile_id is the profile it first joined."""

    __tablename__ = "identity_identifier"
    __table_args__ = (
        UniqueConstraint("kind", "value", name="uq_identity_identifier_kind_value"),
        Index("ix_identity_identifier_profile_id", "profile_id"),
        Index("ix_identity_identifier_born_profile_id", "born_profile_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(254))
    profile_id: Mapped[int] = mapped_column(
        BigIntKey,
        ForeignKey("identity_profile.id", name="fk_identity_identifier_profile_id_identity_profile"),
    )
    born_profile_id: Mapped[int] = mapped_column(
        BigIntKey,
        ForeignKey("identity_profile.id", name="fk_identity_identifier_born_profile_id_identity_profile"),
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100))
    first_message_id: Mapped[str] = mapped_column(String(200))


class IdentityMerge(Base):
    """One profile absorbed by another, with the evidence: the identifier, the event and the rule."""

    __tablename__ = "identity_merge"
    __table_args__ = (
        Index("ix_identity_merge_survivor_id", "survivor_id"),
        Index("ix_identity_merge_absorbed_id", "absorbed_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    survivor_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("identity_profile.id", name="fk_identity_merge_survivor_id_identity_profile")
    )
    absorbed_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("identity_profile.id", name="fk_identity_merge_absorbed_id_identity_profile")
    )
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(254))
    rule: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(200))
    event_position: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_into_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("identity_profile.id", name="fk_identity_merge_undone_into_id_identity_profile")
    )
    undone_by: Mapped[str | None] = mapped_column(String(254))
    # Probabilistic and reviewed merges have no shared identifier: the score and the compared fields say why.
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class IdentityConflict(Base):
    """An identifier left out of an event's merge because a per-profile limit would have been exceeded."""

    __tablename__ = "identity_conflict"
    __table_args__ = (
        UniqueConstraint("message_id", "kind", "value", name="uq_identity_conflict_message_id"),
        Index("ix_identity_conflict_profile_id", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("identity_profile.id", name="fk_identity_conflict_profile_id_identity_profile")
    )
    other_profile_id: Mapped[int | None] = mapped_column(
        BigIntKey,
        ForeignKey("identity_profile.id", name="fk_identity_conflict_other_profile_id_identity_profile"),
    )
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventAttribution(Base):
    """Which identifier an event in the log belongs to; its profile follows the identifier through merges."""

    __tablename__ = "identity_event"
    __table_args__ = (Index("ix_identity_event_identifier_id", "identifier_id"),)

    # The event log's position; no foreign key, as the log belongs to another domain.
    position: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    identifier_id: Mapped[int] = mapped_column(
        BigIntKey,
        ForeignKey("identity_identifier.id", name="fk_identity_event_identifier_id_identity_identifier"),
    )


class IdentityRuleSet(Base):
    """The stitching rules in force, one row; no row means the defaults in rules.py."""

    __tablename__ = "identity_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatchCandidate(Base):
    """A pair of profiles the matcher thinks may be one person, waiting for (or given) a person's decision."""

    __tablename__ = "identity_match_candidate"
    __table_args__ = (
        # The pair is stored with profile_a < profile_b, so one pair has one row whatever the order found.
        UniqueConstraint("profile_a", "profile_b", name="uq_identity_match_candidate_profile_a"),
        Index("ix_identity_match_candidate_status", "status"),
        Index("ix_identity_match_candidate_profile_b", "profile_b"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    profile_a: Mapped[int] = mapped_column(
        BigIntKey,
        ForeignKey("identity_profile.id", name="fk_identity_match_candidate_profile_a_identity_profile"),
    )
    profile_b: Mapped[int] = mapped_column(
        BigIntKey,
        ForeignKey("identity_profile.id", name="fk_identity_match_candidate_profile_b_identity_profile"),
    )
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
