"""The Segment tracking spec: validate a message as SDKs send it and turn it into a log record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from omni.kit.errors import ValidationFailed
from omni.kit.time import as_utc

MessageType = Literal["identify", "track", "page", "screen", "group", "alias"]
ID_MAX = 200


class SpecMessage(BaseModel):
    """One message of the Segment HTTP Tracking API; unknown top-level fields are kept out of the log."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    type: MessageType
    message_id: str | None = Field(None, alias="messageId", min_length=1, max_length=ID_MAX)
    user_id: str | int | None = Field(None, alias="userId")
    anonymous_id: str | int | None = Field(None, alias="anonymousId")
    event: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, max_length=200)
    group_id: str | int | None = Field(None, alias="groupId")
    previous_id: str | int | None = Field(None, alias="previousId")
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    channel: str | None = Field(None, max_length=32)
    timestamp: AwareDatetime | None = None
    original_timestamp: AwareDatetime | None = Field(None, alias="originalTimestamp")
    sent_at: AwareDatetime | None = Field(None, alias="sentAt")

    @model_validator(mode="after")
    def _required_by_type(self) -> SpecMessage:
        if self.type == "alias":
            if not (self.user_id and self.previous_id):
                raise ValueError("alias needs both userId and previousId")
        elif not (self.user_id or self.anonymous_id):
            raise ValueError("userId or anonymousId is required")
        if self.type == "track" and not self.event:
            raise ValueError("track needs an event name")
        if self.type == "group" and not self.group_id:
            raise ValueError("group needs a groupId")
        # Traits sent inside context (analytics.js does this on track) count as the message's traits.
        if not self.traits and isinstance(self.context.get("traits"), dict):
            self.traits = dict(self.context["traits"])
        return self


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A validated message, ready to append to the log."""

    message_id: str
    type: str
    event: str | None
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    group_id: str | None
    previous_id: str | None
    channel: str
    source: str
    properties: dict[str, Any]
    traits: dict[str, Any]
    context: dict[str, Any]
    timestamp: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None
    received_at: datetime


def _identifier(value: str | int | None, field: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > ID_MAX:
        raise ValidationFailed(f"{field} is longer than {ID_MAX} characters", details=[{"field": field}])
    return text or None


def corrected_timestamp(
    *, original: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """When the event happened, correcting the device clock's skew as Segment does.

    The device's clock may be wrong, but the time between calling and sending is right on any clock:
    timestamp = receivedAt - (sentAt - originalTimestamp).
    """
    if original is None:
        return received_at
    if sent_at is None:
        return original
    return received_at - (sent_at - original)


def to_record(
    payload: dict[str, Any], *, source: str, received_at: datetime, default_channel: str, message_id: str
) -> EventRecord:
    """Validate one Segment message and build its log record; message_id is used when it has none."""
    try:
        message = SpecMessage.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            "the message does not follow the tracking spec",
            details=[
                {"field": ".".join(str(part) for part in error["loc"]) or "message", "rule": error["msg"]}
                for error in exc.errors(include_url=False, include_input=False)
            ],
        ) from None
    original = message.original_timestamp or message.timestamp
    received = as_utc(received_at)
    channel = message.channel or str(message.context.get("channel") or default_channel)
    return EventRecord(
        message_id=message.message_id or message_id,
        type=message.type,
        event=message.event if message.type == "track" else None,
        name=message.name,
        user_id=_identifier(message.user_id, "userId"),
        anonymous_id=_identifier(message.anonymous_id, "anonymousId"),
        group_id=_identifier(message.group_id, "groupId"),
        previous_id=_identifier(message.previous_id, "previousId"),
        channel=channel[:32],
        source=source,
        properties=message.properties,
        traits=message.traits,
        context=message.context,
        timestamp=as_utc(
            corrected_timestamp(original=original, sent_at=message.sent_at, received_at=received)
        ),
        original_timestamp=as_utc(original) if original else None,
        sent_at=as_utc(message.sent_at) if message.sent_at else None,
        received_at=received,
    )
