"""Tables of the segments domain: definitions and their versions, current members, manual tags, exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class Segment(Base):
    """A named audience; its definition lives in versions, the newest being current_version."""

    __tablename__ = "segment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # A stable handle: predefined segments are found by it on every start, and URLs may use it.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(1000), default="")
    predefined: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    # The version the stored members were computed under; None until the first recompute.
    computed_version: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SegmentVersion(Base):
    """One saved definition of a segment; saving never changes an older version."""

    __tablename__ = "segment_version"

    segment_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("segment.id", name="fk_segment_version_segment_id_segment", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(254))


class SegmentMember(Base):
    """A live profile in a segment now, under the version it was computed by."""

    __tablename__ = "segment_member"
    __table_args__ = (Index("ix_segment_member_profile_id", "profile_id"),)

    segment_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("segment.id", name="fk_segment_member_segment_id_segment", ondelete="CASCADE"),
        primary_key=True,
    )
    # Identity's profile id; no foreign key, as the graph belongs to another domain.
    profile_id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProfileTag(Base):
    """A manual tag on a person, held by one of their identifiers so that it follows merges and unmerges."""

    __tablename__ = "segment_tag"
    __table_args__ = (Index("ix_segment_tag_tag", "tag"),)

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(254), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    tagged_profile_id: Mapped[int] = mapped_column(BigIntKey)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(254))


class SegmentExport(Base):
    """A webhook delivery of a segment's members: recorded before the POST, its outcome after."""

    __tablename__ = "segment_export"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    segment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("segment.id", name="fk_segment_export_segment_id_segment", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2000))
    members: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
