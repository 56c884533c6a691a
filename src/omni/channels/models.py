"""Tables of the channels domain: each message's send intent and outcome, push subscriptions, the in-app
inbox and message templates. Profiles are referred to by id only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class ChannelMessage(Base):
    """One message to one person on one channel: its intent, recorded before any provider is called.

    The unique idempotency key makes a second intent for the same step impossible; status moves
    queued -> claimed -> sending -> sent | failed | unknown. A "claimed" row was never handed to a provider,
    so a dead worker's claims go back to the queue; a row in "sending" is never sent again by the system.
    """

    __tablename__ = "channel_message"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_channel_message_idempotency_key"),
        Index("ix_channel_message_due", "status", "not_before"),
        Index("ix_channel_message_profile_sent", "profile_id", "sent_at"),
        Index("ix_channel_message_provider_message_id", "provider_message_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # Who asked (a journey step, an API caller) and with which template; echoed into tracking events.
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PushSubscription(Base):
    """A browser's web push subscription (VAPID) or an app's FCM registration token for a person."""

    __tablename__ = "channel_push_subscription"
    __table_args__ = (
        UniqueConstraint("endpoint", name="uq_channel_push_subscription_endpoint"),
        Index("ix_channel_push_subscription_profile_id", "profile_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    # The push service URL of a browser, or the FCM registration token of an app.
    endpoint: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str | None] = mapped_column(String(200))
    auth: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxMessage(Base):
    """A message in a person's in-app inbox."""

    __tablename__ = "channel_inbox"
    __table_args__ = (Index("ix_channel_inbox_profile_id", "profile_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # One inbox line per message: delivering twice cannot make two.
    message_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MessageTemplate(Base):
    """One message with a Liquid variant per channel, checked against the known variables when saved."""

    __tablename__ = "channel_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    variants: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
