"""API shapes of the unified profile: traits, computed traits, consent, the timeline."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omni.identity.schemas import IdentifierRead
from omni.profiles.computed import Aggregation, FilterOp
from omni.profiles.consent import Channel, Purpose
from omni.profiles.traits import DEFAULT_SOURCE_PRIORITY

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
PROPERTY_PATTERN = r"^[A-Za-z0-9_$][A-Za-z0-9_$ -]{0,63}(\.[A-Za-z0-9_$][A-Za-z0-9_$ -]{0,63}){0,4}$"
SOURCE_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
LOOKUP_KINDS = ("email", "phone", "member_id", "user_id", "anonymous_id")


class TraitRead(BaseModel):
    """A trait's winning value, which source stated it, and when."""

    value: Any
    source: str
    observed_at: datetime


class ComputedTraitFilter(BaseModel):
    """Only events whose property compares so with value count (exists takes true or false)."""

    model_config = ConfigDict(extra="forbid")

    property: str = Field(pattern=PROPERTY_PATTERN)
    op: FilterOp = "eq"
    value: Any = None


class ComputedTraitCreate(BaseModel):
    """A computed trait: aggregation of property over events named event, in the last window_days."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=NAME_PATTERN, description="snake_case, e.g. revenue_90d")
    aggregation: Aggregation
    event: str = Field(min_length=1, max_length=200, description="The track event, e.g. Order Completed")
    property: str | None = Field(None, pattern=PROPERTY_PATTERN, description="Required except for count")
    window_days: int | None = Field(None, gt=0, le=3650, description="None means all time")
    filters: list[ComputedTraitFilter] = Field(default_factory=list, max_length=10)


class ComputedTraitRead(ComputedTraitCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


class ComputedValueRead(BaseModel):
    """A computed trait's value for one profile now, and how many events it was computed from."""

    name: str
    aggregation: str
    event: str
    property: str | None
    window_days: int | None
    value: Any
    events: int


class ConsentRead(BaseModel):
    """Where a person stands on one channel for one purpose; unknown when no decision was recorded."""

    channel: str
    purpose: str
    status: Literal["granted", "denied", "unknown"]
    decided_at: datetime | None
    source: str | None
    evidence: str | None


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    purpose: Purpose = "marketing"
    granted: bool
    reason: str | None = Field(None, max_length=200)


class ConsentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[ConsentChange] = Field(min_length=1, max_length=12)


class MatchedIdentifier(BaseModel):
    kind: str
    value: str


class ProfileRead(BaseModel):
    """The 360° view: who (identities), what they told us (traits), what they did (computed), consent."""

    profile_id: int
    requested_id: int
    merged_away: bool = Field(description="True when requested_id was merged into profile_id")
    matched: MatchedIdentifier | None = None
    identities: list[IdentifierRead]
    traits: dict[str, TraitRead]
    computed_traits: list[ComputedValueRead]
    consent: list[ConsentRead]


class TimelineItem(BaseModel):
    position: int
    occurred_at: datetime
    type: str
    event: str | None
    channel: str
    source: str
    summary: dict[str, Any]


class TimelinePage(BaseModel):
    profile_id: int
    items: list[TimelineItem]
    next_before: str | None = Field(description="Pass as before= for the next, older page; None at the end")


class TraitSourcePriority(BaseModel):
    """Source kinds from most to least trusted; kinds not listed rank below all listed ones."""

    model_config = ConfigDict(extra="forbid")

    priority: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SOURCE_PRIORITY), min_length=1, max_length=32
    )

    @field_validator("priority")
    @classmethod
    def _source_kinds(cls, priority: list[str]) -> list[str]:
        for kind in priority:
            if not SOURCE_KIND.match(kind):
                raise ValueError(f"source kind {kind!r} must match {SOURCE_KIND.pattern}")
        if len(set(priority)) != len(priority):
            raise ValueError("each source kind may appear once")
        return priority
