"""The Segment tracking spec: validate a message as SDKs send it and turn it into a log record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from omni.kit.errors import ValidationFailed
from omni.kit.time import as_utc

MessageType = Literal["identify", "track", "page", "screen", "group", "alias"]
ID_MAX = 200

ALIAS_NEEDS_IDS = "alias needs both userId and previousId"
IDENTITY_REQUIRED = "userId or anonymousId is required"
TRACK_NEEDS_EVENT = "track needs an event name"
GROUP_NEEDS_ID = "group needs a groupId"
# A rule across fields fails on the whole message; name the field a sender has to fix.
_RULE_FIELDS = {
    ALIAS_NEEDS_IDS: "previousId",
    IDENTITY_REQUIRED: "userId",
    TRACK_NEEDS_EVENT: "event",
    GROUP_NEEDS_ID: "groupId",
}


class SpecMessage(BaseModel):
    """One message of the Segment HTTP Tracking API; unknown top-level fields are kept out of the log."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    type: MessageType
    message_id: str | None = Field(None, alias="messageId", min_length=1, max_length=ID_MAX)
    user_id: str | int | None = Field(None, alias="userId")
    anonymous_id: str | int | None = Field(None, alias="anonymousId")
    event: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=200)
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
                raise ValueError(ALIAS_NEEDS_IDS)
        elif not (self.user_id or self.anonymous_id):
            raise ValueError(IDENTITY_REQUIRED)
        if self.type == "track" and not self.event:
            raise ValueError(TRACK_NEEDS_EVENT)
        if self.type == "group" and not self.group_id:
            raise ValueError(GROUP_NEEDS_ID)
        # Traits sent inside context (analytics.js does this on track) count as the message's traits.
        if not self.traits and isinstance(self.context.get("traits"), dict):
            self.traits = dict(self.context["traits"])
        return self


# Validating a whole batch in one call saves a round trip between Python and pydantic-core per message.
MESSAGES: TypeAdapter[list[SpecMessage]] = TypeAdapter(list[SpecMessage])


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
        raise ValidationFailed(
            f"{field} is longer than {ID_MAX} characters",
            details=[{"field": field, "rule": f"at most {ID_MAX} characters"}],
        )
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


_IDENTIFIER_FIELDS = frozenset({"userId", "anonymousId", "groupId", "previousId"})


def _problem(error: Any) -> dict[str, str]:
    loc = tuple(error["loc"])
    if not loc:
        return {
            "field": _RULE_FIELDS.get(str((error.get("ctx") or {}).get("error", "")), "message"),
            "rule": error["msg"],
        }
    if loc[0] in _IDENTIFIER_FIELDS and len(loc) > 1:
        # pydantic reports each member of the str | int union; the sender needs one sentence.
        return {"field": str(loc[0]), "rule": "must be a string or a number"}
    return {"field": ".".join(str(part) for part in loc), "rule": error["msg"]}


def _event_time(*, original: datetime | None, sent_at: datetime | None, received_at: datetime) -> datetime:
    try:
        return as_utc(corrected_timestamp(original=original, sent_at=sent_at, received_at=received_at))
    except OverflowError:
        # Absurd clocks (year 1 against year 9999) would push the corrected time off the calendar.
        raise ValidationFailed(
            "timestamp and sentAt are too far apart to correct the clock",
            details=[{"field": "timestamp", "rule": "must be within the calendar after clock correction"}],
        ) from None


def _with_category(message: SpecMessage) -> dict[str, Any]:
    # The Python SDK sends a page's or screen's category beside its name; analytics.js puts it among the
    # properties. Keeping it in the properties makes both look the same in the log.
    if message.category and "category" not in message.properties:
        return {**message.properties, "category": message.category}
    return message.properties


def validate_message(payload: Any) -> SpecMessage:
    """Validate one Segment message, naming each broken field and rule."""
    try:
        return SpecMessage.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            "the message does not follow the tracking spec",
            details=list(
                {
                    (problem["field"], problem["rule"]): problem
                    for problem in map(_problem, exc.errors(include_url=False, include_input=False))
                }.values()
            ),
        ) from None


def record_from(
    message: SpecMessage,
    *,
    source: str,
    received_at: datetime,
    default_channel: str,
    message_id: str | None = None,
) -> EventRecord:
    """The log record of a validated message; without a messageId it gets message_id or a new one."""
    original = message.original_timestamp or message.timestamp
    received = received_at if received_at.tzinfo is UTC else as_utc(received_at)
    channel = message.channel or str(message.context.get("channel") or default_channel)
    return EventRecord(
        message_id=message.message_id or message_id or f"omni-{uuid.uuid4()}",
        type=message.type,
        event=message.event if message.type == "track" else None,
        name=message.name,
        user_id=_identifier(message.user_id, "userId"),
        anonymous_id=_identifier(message.anonymous_id, "anonymousId"),
        group_id=_identifier(message.group_id, "groupId"),
        previous_id=_identifier(message.previous_id, "previousId"),
        channel=channel[:32],
        source=source,
        properties=_with_category(message),
        traits=message.traits,
        context=message.context,
        timestamp=_event_time(original=original, sent_at=message.sent_at, received_at=received),
        original_timestamp=as_utc(original) if original else None,
        sent_at=as_utc(message.sent_at) if message.sent_at else None,
        received_at=received,
    )


def to_record(
    payload: dict[str, Any],
    *,
    source: str,
    received_at: datetime,
    default_channel: str,
    message_id: str | None = None,
) -> EventRecord:
    """Validate one Segment message and build its log record; message_id is used when it has none."""
    return record_from(
        validate_message(payload),
        source=source,
        received_at=received_at,
        default_channel=default_channel,
        message_id=message_id,
    )
