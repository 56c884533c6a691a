"""The SQL of the channels domain: claiming due messages, counting what a person was sent, the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from omni.channels.models import ChannelMessage, InboxMessage, PushSubscription
from omni.channels.policy import Sent

# Statuses of messages that went or will go, so they count against frequency caps.
# Messages that went, may have gone, or are on their way: each counts against the frequency caps.
COUNTED = ("queued", "claimed", "sending", "sent", "unknown")


def by_key(session: Session, idempotency_key: str) -> ChannelMessage | None:
    return session.scalar(select(ChannelMessage).where(ChannelMessage.idempotency_key == idempotency_key))


def recently_sent(session: Session, profile_id: int, *, since: datetime, besides: int) -> list[Sent]:
    """Messages of a profile that went, or wait to go, after since, other than message besides."""
    rows = session.execute(
        select(
            ChannelMessage.channel, ChannelMessage.purpose, ChannelMessage.sent_at, ChannelMessage.not_before
        ).where(
            ChannelMessage.profile_id == profile_id,
            ChannelMessage.id != besides,
            ChannelMessage.status.in_(COUNTED),
            or_(ChannelMessage.sent_at > since, ChannelMessage.not_before > since),
        )
    ).all()
    return [Sent(channel, purpose, sent_at or not_before) for channel, purpose, sent_at, not_before in rows]


def claim_due(
    session: Session, *, now: datetime, limit: int, ids: Sequence[int] | None = None
) -> Sequence[ChannelMessage]:
    """Mark up to limit due queued messages as claimed, oldest first, and return them.

    On PostgreSQL the rows are locked with SKIP LOCKED, so several workers each claim different messages;
    SQLite has one writer at a time, and the status check in the UPDATE keeps a row from being claimed
    twice there too.
    """
    query = (
        select(ChannelMessage.id)
        .where(ChannelMessage.status == "queued", ChannelMessage.not_before <= now)
        .order_by(ChannelMessage.not_before, ChannelMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(ChannelMessage.id.in_(ids))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    # One statement, one round trip: the UPDATE takes its rows from the locking subquery.
    claimed = session.scalars(
        update(ChannelMessage)
        .where(ChannelMessage.id.in_(query), ChannelMessage.status == "queued")
        .values(status="claimed", claimed_at=now, updated_at=now, attempts=ChannelMessage.attempts + 1)
        .returning(ChannelMessage)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed, key=lambda row: (row.not_before, row.id))


def hand_over(session: Session, claimed: Sequence[ChannelMessage]) -> set[int]:
    """Mark claimed messages as sending, just before their provider is called; the ids still ours.

    A claim is ours while its status is "claimed" with the attempt number we claimed it under: reconcile
    may have given a stalled worker's claims back to the queue, and another worker may hold them now.
    """
    if not claimed:
        return set()
    ours = or_(*(and_(ChannelMessage.id == m.id, ChannelMessage.attempts == m.attempts) for m in claimed))
    return set(
        session.scalars(
            update(ChannelMessage)
            .where(ChannelMessage.status == "claimed", ours)
            .values(status="sending")
            .returning(ChannelMessage.id)
            .execution_options(synchronize_session=False)
        )
    )


def lock_messages(session: Session, ids: Sequence[int]) -> Sequence[ChannelMessage]:
    """The messages of ids, locked on PostgreSQL until the transaction ends, in id order so that two
    transactions locking overlapping batches cannot deadlock."""
    query = select(ChannelMessage).where(ChannelMessage.id.in_(ids)).order_by(ChannelMessage.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).all()


def in_flight(session: Session, *, claimed_before: datetime, limit: int) -> Sequence[ChannelMessage]:
    """Messages claimed before a moment and never recorded: their worker stopped before or mid-send."""
    query = (
        select(ChannelMessage)
        .where(ChannelMessage.status.in_(("claimed", "sending")), ChannelMessage.claimed_at <= claimed_before)
        .order_by(ChannelMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


def subscriptions_of(session: Session, profile_id: int) -> Sequence[PushSubscription]:
    return session.scalars(
        select(PushSubscription)
        .where(PushSubscription.profile_id == profile_id, PushSubscription.revoked_at.is_(None))
        .order_by(PushSubscription.id)
    ).all()


def subscription_by_endpoint(session: Session, endpoint: str) -> PushSubscription | None:
    return session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))


def inbox_of(session: Session, profile_id: int, *, limit: int) -> Sequence[InboxMessage]:
    return session.scalars(
        select(InboxMessage)
        .where(InboxMessage.profile_id == profile_id)
        .order_by(InboxMessage.id.desc())
        .limit(limit)
    ).all()
