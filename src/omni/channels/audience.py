"""Where a person is reached beyond the addresses in their profile: push subscriptions, the in-app inbox."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.channels import outcomes, repository
from omni.channels.errors import MessageNotFound, NoAddress
from omni.channels.models import InboxMessage, PushSubscription
from omni.channels.schemas import PushSubscriptionCreate
from omni.identity import service as identity_service
from omni.kit.time import utc_now
from omni.profiles import service as profiles_service


def subscribe(session: Session, data: PushSubscriptionCreate) -> PushSubscription:
    """Keep a push subscription for the person the ids name; a known endpoint moves to them."""
    profile_id = None
    for kind, value in (("user_id", data.user_id), ("anonymous_id", data.anonymous_id)):
        if value and profile_id is None:
            profile_id = identity_service.profile_for_identifier(session, kind, value)
    if profile_id is None:
        raise NoAddress(
            "no profile has this userId or anonymousId yet; track or identify the shopper first",
            details=[{"field": "userId", "rule": "known to Omni"}],
        )
    # The schema requires the endpoint of a web subscription and the token of an app's.
    endpoint = (data.endpoint if data.kind == "web" else data.token) or ""
    live = profiles_service.live_profile(session, profile_id)
    row = repository.subscription_by_endpoint(session, endpoint)
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=utc_now(), profile_id=live, kind=data.kind)
        session.add(row)
    row.profile_id, row.kind, row.revoked_at = live, data.kind, None
    row.p256dh = data.keys.p256dh if data.keys else None
    row.auth = data.keys.auth if data.keys else None
    session.flush()
    return row


def inbox(session: Session, profile_id: int, *, limit: int = 50) -> Sequence[InboxMessage]:
    """The person's in-app messages, newest first."""
    return repository.inbox_of(session, profiles_service.live_profile(session, profile_id), limit=limit)


def mark_read(session: Session, profile_id: int, item_id: int) -> InboxMessage:
    """Mark an inbox message read, which is the message's open."""
    live = profiles_service.live_profile(session, profile_id)
    item = session.scalar(
        select(InboxMessage).where(InboxMessage.id == item_id, InboxMessage.profile_id == live)
    )
    if item is None:
        raise MessageNotFound(
            f"no inbox message {item_id} for profile {live}",
            details=[{"field": "item_id", "rule": "unknown"}],
        )
    if item.read_at is None:
        item.read_at = utc_now()
        outcomes.record_open(session, item.message_id)
    return item
