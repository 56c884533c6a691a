"""What became of a message and what the person did with it: sent, failed or retried with backoff,
delivered, opened, clicked, unsubscribed; each recorded on the message and logged as an event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.channels import facts, repository, tracking
from omni.channels.errors import MessageNotFound
from omni.channels.models import ChannelMessage
from omni.channels.providers.base import ProviderError
from omni.kit.time import utc_now

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    """How long to wait before attempt number attempts + 1: 30 s, 1 min, 2 min, 4 min ..."""
    return FIRST_RETRY * int(2 ** max(attempts - 1, 0))


def get_message(session: Session, message_id: int, *, lock: bool = False) -> ChannelMessage:
    query = select(ChannelMessage).where(ChannelMessage.id == message_id)
    found = session.scalar(
        query.with_for_update() if lock and session.get_bind().dialect.name == "postgresql" else query
    )
    if found is None:
        raise MessageNotFound(
            f"no message {message_id}", details=[{"field": "message_id", "rule": "unknown"}]
        )
    return found


def _mark_sent(message: ChannelMessage, provider_message_id: str, at: datetime) -> dict[str, Any] | None:
    if message.status == "sent":
        return None
    message.status, message.sent_at, message.updated_at = "sent", at, at
    message.provider_message_id, message.error = provider_message_id[:200], None
    return facts.fact(message, "sent", at=at, provider_message_id=message.provider_message_id)


def _mark_failed(message: ChannelMessage, error: ProviderError, at: datetime) -> dict[str, Any] | None:
    message.error, message.updated_at = error.reason, at
    if error.outcome == "retry" and message.attempts < MAX_ATTEMPTS:
        message.status, message.not_before = "queued", at + backoff(message.attempts)
        return None
    if error.outcome == "unknown":
        message.status = "unknown"
        return None
    message.status = "failed"
    # A mailbox the server refused for good is a bounce; retries running out is a failure to send.
    bounced = message.channel == "email" and error.outcome == "failed"
    return facts.fact(message, "bounced" if bounced else "failed", at=at, reason=error.reason)


def record_sent(
    session: Session, message_id: int, provider_message_id: str, *, now: datetime | None = None
) -> ChannelMessage:
    """The provider took the message: mark it sent and log the Sent event."""
    message = get_message(session, message_id, lock=True)
    fact = _mark_sent(message, provider_message_id, now or utc_now())
    if fact:
        facts.append(session, fact)
    return message


def record_failure(
    session: Session, message_id: int, error: ProviderError, *, now: datetime | None = None
) -> ChannelMessage:
    """The provider refused or the call broke: retry later, fail with the reason, or mark unknown."""
    message = get_message(session, message_id, lock=True)
    fact = _mark_failed(message, error, now or utc_now())
    if fact:
        facts.append(session, fact)
    return message


def record_outcomes(
    session: Session, outcomes: Sequence[tuple[int, str | ProviderError]], *, now: datetime | None = None
) -> list[ChannelMessage]:
    """Record a delivered batch as record_sent and record_failure would, one message at a time.

    The messages are locked with one query and their events appended with one insert, so a batch costs a
    few round trips rather than a few per message.
    """
    at = now or utc_now()
    held = {message.id: message for message in repository.lock_messages(session, [i for i, _ in outcomes])}
    missing = [message_id for message_id, _ in outcomes if message_id not in held]
    if missing:
        raise MessageNotFound(
            f"no message {missing[0]}", details=[{"field": "message_id", "rule": "unknown"}]
        )
    logged = []
    for message_id, outcome in outcomes:
        message = held[message_id]
        fact = (
            _mark_failed(message, outcome, at)
            if isinstance(outcome, ProviderError)
            else _mark_sent(message, outcome, at)
        )
        if fact:
            logged.append(fact)
    if logged:
        facts.append(session, *logged)
    return [held[message_id] for message_id, _ in outcomes]


def record_delivery(
    session: Session, provider_message_id: str, status: str, *, reason: str | None = None
) -> ChannelMessage | None:
    """A provider's delivery report (Twilio's status callback): delivered, or failed after all."""
    message = session.scalar(
        select(ChannelMessage).where(ChannelMessage.provider_message_id == provider_message_id)
    )
    if message is None:
        return None
    at = utc_now()
    if status == "delivered":
        facts.append(session, facts.fact(message, "delivered", at=at))
    elif status in ("failed", "undelivered"):
        message.status, message.error, message.updated_at = "failed", (reason or status)[:1000], at
        facts.append(session, facts.fact(message, "failed", at=at, reason=message.error))
    return message


def record_open(session: Session, message_id: int) -> None:
    """The person opened the message (the pixel loaded, the app showed it); the first open is logged."""
    message = get_message(session, message_id)
    facts.append(session, facts.fact(message, "opened", at=utc_now()))


def record_click(session: Session, message_id: int, url: str) -> None:
    """The person followed a link; each link's first click is logged."""
    message = get_message(session, message_id)
    detail = hashlib.sha256(url.encode()).hexdigest()[:16]
    facts.append(session, facts.fact(message, "clicked", at=utc_now(), detail=detail, url=url[:1000]))


def unsubscribe(session: Session, message_id: int, *, via: str) -> ChannelMessage:
    """The person stopped marketing on the message's channel: an Unsubscribed event, which the profiles
    domain reads as their consent decision."""
    message = get_message(session, message_id)
    facts.append(
        session,
        tracking.unsubscribe_payload(
            address=message.context["person"],
            message_id=message.id,
            channel=message.channel,
            purpose="marketing",
            via=via,
            timestamp=utc_now().isoformat(),
        ),
    )
    return message
