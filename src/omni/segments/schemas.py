"""API shapes of the segments domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
TAG_PATTERN = r"^[^\s,][^,]{0,63}$"


class SegmentCreate(BaseModel):
    key: str = Field(pattern=KEY_PATTERN, description="A stable handle, e.g. shoe_browsers")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=1000)
    definition: dict[str, Any] = Field(description="The condition tree (see docs/segments.md)")


class SegmentUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    definition: dict[str, Any] | None = Field(None, description="A new definition saves a new version")


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    description: str
    predefined: bool
    current_version: int
    computed_version: int | None
    computed_at: datetime | None
    size: int
    definition: dict[str, Any]


class SegmentVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    definition: dict[str, Any]
    created_at: datetime
    created_by: str


class EstimateRequest(BaseModel):
    definition: dict[str, Any]
    key: str | None = Field(None, description="The segment being edited, so that cycles back to it are found")


class EstimateRead(BaseModel):
    size: int
    population: int


class RecomputeRead(BaseModel):
    segment_id: int
    version: int
    size: int
    entered: int
    exited: int


class RecomputeFailure(BaseModel):
    segment_id: int
    key: str
    error: str


class RecomputeAllRead(BaseModel):
    recomputed: list[RecomputeRead]
    failed: list[RecomputeFailure]


class MemberRead(BaseModel):
    profile_id: int
    version: int
    entered_at: datetime


class MembersPage(BaseModel):
    items: list[MemberRead]
    next_after: int | None


class EvidenceEvent(BaseModel):
    position: int
    occurred_at: datetime | str
    event: str | None
    channel: str


class ConditionWhy(BaseModel):
    """One condition of the tree and whether it held for the person, with what made it hold."""

    path: str
    kind: str
    condition: dict[str, Any] | None = None
    held: bool
    detail: str | None = None
    events: list[EvidenceEvent] = []
    conditions: list[ConditionWhy] = []


class WhyRead(BaseModel):
    segment_id: int
    profile_id: int
    version: int
    member: bool
    held: bool
    why: ConditionWhy


class TagChange(BaseModel):
    tag: str = Field(pattern=TAG_PATTERN, description="A manual tag, e.g. vip-list or 團購主")


class TagsRead(BaseModel):
    profile_id: int
    tags: list[str]


class WebhookExport(BaseModel):
    url: HttpUrl


class ExportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    segment_id: int
    kind: str
    url: str
    members: int
    status: Literal["pending", "delivered", "failed"] | str
    response_status: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
