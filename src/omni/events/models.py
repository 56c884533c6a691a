"""Tables of the event log, its consumers' cursors, the daily event counts and the tracking sources."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class LoggedEvent(Base):
    """One Segment-spec message; position orders the log and never goes back."""

    __tablename__ = "event_log"
    __table_args__ = (
        Index("ix_event_log_user_id", "user_id"),
        Index("ix_event_log_anonymous_id", "anonymous_id"),
        Index("ix_event_log_event_timestamp", "event", "timestamp"),
        Index("ix_event_log_timestamp", "timestamp"),
        {"sqlite_autoincrement": True},
    )

    position: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    event: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    anonymous_id: Mapped[str | None] = mapped_column(String(200))
    group_id: Mapped[str | None] = mapped_column(String(200))
    previous_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(100))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    original_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsumerCursor(Base):
    """How far one consumer has processed the log."""

    __tablename__ = "consumer_cursor"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigIntKey, default=0)
    processed: Mapped[int] = mapped_column(BigIntKey, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DailyEventCount(Base):
    """Events per local day, channel and kind: the dashboard's pulse of every touchpoint."""

    __tablename__ = "event_daily_count"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Source(Base):
    """A touchpoint that sends events with its own write key (a web shop, an app, a store's till)."""

    __tablename__ = "event_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    store_code: Mapped[str | None] = mapped_column(String(64))
    default_channel: Mapped[str] = mapped_column(String(32))
    # Only a hash of the write key is kept: a copy of the database does not let anyone send events.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def key(self) -> str:
        """What this source writes into each event's source field, e.g. pos:TPE-XINYI."""
        return f"{self.kind}:{self.name}"
