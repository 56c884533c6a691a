"""Consent and subscriptions: decisions read from events, the latest per channel and purpose winning.

Decisions come from traits (email_opt_in, opted_in_sms, push_subscribed, whatsapp_opt_out ...) and from
track events (Subscribed / Unsubscribed / Opted In / Opted Out, named with a channel such as
"Email Unsubscribed" or "SMS Opted Out", or carrying a channel property). A decision without a purpose is
about marketing: transactional messages (receipts, pickup notices) are not opted out of by a newsletter's
unsubscribe link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

CHANNELS = ("email", "sms", "whatsapp", "line", "push", "in_app")
PURPOSES = ("marketing", "transactional")
Channel = Literal["email", "sms", "whatsapp", "line", "push", "in_app"]
Purpose = Literal["marketing", "transactional"]
SUBSCRIBED = "Subscribed"
UNSUBSCRIBED = "Unsubscribed"

# How senders spell a channel, lower-cased with spaces, dashes and underscores removed.
_CHANNEL_SPELLINGS = {
    "email": "email",
    "sms": "sms",
    "text": "sms",
    "whatsapp": "whatsapp",
    "line": "line",
    "push": "push",
    "inapp": "in_app",
}
_GRANTS = {
    "subscribed": True,
    "optedin": True,
    "optin": True,
    "unsubscribed": False,
    "optedout": False,
    "optout": False,
}
_EVENT = re.compile(
    r"^\s*(?:(?P<channel>[A-Za-z][A-Za-z_ -]*?)\s+)?"
    r"(?P<verb>Subscribed|Unsubscribed|Opted\s*In|Opted\s*Out)\s*$",
    re.I,
)
_TRAIT_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"^(?P<channel>[a-z_]+?)_(?P<verb>opt_in|opted_in|opt_out|opted_out|subscribed|unsubscribed)$",
        r"^(?P<verb>opted_in|opted_out|subscribed|unsubscribed|opt_in|opt_out)_(?P<channel>[a-z_]+)$",
    )
)
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


@dataclass(frozen=True, slots=True)
class Decision:
    position: int
    channel: str
    purpose: str
    granted: bool
    decided_at: datetime
    source: str
    evidence: str


@dataclass(frozen=True, slots=True)
class ConsentState:
    """Where a person stands on one channel for one purpose; granted is None when nobody asked."""

    channel: str
    purpose: str
    granted: bool | None
    decided_at: datetime | None
    source: str | None
    evidence: str | None


def channel_named(raw: Any) -> str | None:
    """The consent channel a sender means by raw (Email, SMS, in-app, LINE ...), None if not one."""
    if not isinstance(raw, str):
        return None
    return _CHANNEL_SPELLINGS.get(re.sub(r"[\s_-]", "", raw).lower())


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        return True if text in _TRUE else False if text in _FALSE else None
    return None


def _purpose(raw: Any) -> str:
    return raw if raw in PURPOSES else "marketing"


class StatingEvent(Protocol):
    """What an event must carry for its consent decisions to be read."""

    @property
    def type(self) -> str: ...
    @property
    def event(self) -> str | None: ...
    @property
    def traits(self) -> Mapping[str, Any]: ...
    @property
    def properties(self) -> Mapping[str, Any]: ...
    @property
    def position(self) -> int: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def source(self) -> str: ...


def stated_by(event: StatingEvent) -> list[Decision]:
    """Every decision an event states: by its traits and, for a track event, by its name."""
    found = from_traits(
        event.traits, position=event.position, decided_at=event.timestamp, source=event.source
    )
    if event.type == "track" and event.event:
        found += from_track(
            event.event,
            event.properties,
            position=event.position,
            decided_at=event.timestamp,
            source=event.source,
        )
    return found


def from_traits(
    traits: Mapping[str, Any], *, position: int, decided_at: datetime, source: str
) -> list[Decision]:
    """Decisions stated by traits such as email_opt_in: true or opted_out_sms: "yes"."""
    found = []
    for name, value in traits.items():
        flag = _flag(value)
        if flag is None:
            continue
        for pattern in _TRAIT_PATTERNS:
            match = pattern.match(name.lower())
            if match is None:
                continue
            channel = channel_named(match["channel"])
            if channel is not None:
                granted = flag if _GRANTS[match["verb"].replace("_", "")] else not flag
                found.append(
                    Decision(position, channel, "marketing", granted, decided_at, source, f"trait {name}")
                )
            break
    return found


def from_track(
    event: str, properties: Mapping[str, Any], *, position: int, decided_at: datetime, source: str
) -> list[Decision]:
    """Decisions stated by a track event such as Unsubscribed {channel: sms} or Email Unsubscribed."""
    match = _EVENT.match(event)
    if match is None:
        return []
    named = match["channel"]
    channel = channel_named(named) if named else channel_named(properties.get("channel"))
    if channel is None:
        return []
    granted = _GRANTS[re.sub(r"\s", "", match["verb"]).lower()]
    purpose = _purpose(properties.get("purpose"))
    return [Decision(position, channel, purpose, granted, decided_at, source, f"event {event}")]


def state(decisions: Iterable[Decision]) -> list[ConsentState]:
    """Every channel and purpose, each at its latest decision (a later log position breaks a tie in time)."""
    latest: dict[tuple[str, str], Decision] = {}
    for decision in decisions:
        key = (decision.channel, decision.purpose)
        held = latest.get(key)
        if held is None or (decision.decided_at, decision.position) > (held.decided_at, held.position):
            latest[key] = decision
    result = []
    for channel in CHANNELS:
        for purpose in PURPOSES:
            found = latest.get((channel, purpose))
            result.append(
                ConsentState(
                    channel=channel,
                    purpose=purpose,
                    granted=found.granted if found else None,
                    decided_at=found.decided_at if found else None,
                    source=found.source if found else None,
                    evidence=found.evidence if found else None,
                )
            )
    return result
