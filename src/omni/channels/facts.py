"""What happens to a message, as Segment events on the log keyed to the person it was for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from omni.channels import tracking
from omni.channels.models import ChannelMessage
from omni.events import service as events_service


def append(session: Session, *payloads: dict[str, Any]) -> None:
    """Log message facts (Message Sent, Opened ...) in the caller's transaction."""
    records = events_service.build_records(list(payloads), source=tracking.SOURCE, default_channel="omni")
    events_service.append_events(session, records)


def fact(
    message: ChannelMessage, fact: str, *, at: datetime, detail: str | None = None, **extra: Any
) -> dict[str, Any]:
    properties = {
        "provider": message.provider,
        "idempotency_key": message.idempotency_key,
        **{k: v for k, v in message.context.items() if k != "person"},
        **extra,
    }
    return tracking.fact_payload(
        address=message.context["person"],
        message_id=message.id,
        channel=message.channel,
        purpose=message.purpose,
        fact=fact,
        properties=properties,
        timestamp=at.isoformat(),
        detail=detail,
    )
