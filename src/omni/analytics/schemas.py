"""API shapes of the analyses: the filters every analysis takes and the table behind every chart."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Cell = str | int | float | None
Breakdown = Literal["channel", "store", "segment"]
RetentionBy = Literal["month", "channel"]
TopBy = Literal["product", "category"]


class AnalyticsFilters(BaseModel):
    """What every analysis can be narrowed to; dates are the store's local days, both ends included."""

    model_config = ConfigDict(frozen=True)

    since: date | None = None
    until: date | None = None
    channel: str | None = Field(None, max_length=32)
    store: str | None = Field(None, max_length=64)
    # A segment's key or id: only its current members are counted.
    segment: str | None = Field(None, min_length=1, max_length=64)


class AnalysisRead(BaseModel):
    """One analysis: the table its chart is drawn from (and its CSV download), empty when nothing counts."""

    analysis: str
    filters: AnalyticsFilters
    empty: bool
    columns: list[str]
    rows: list[list[Cell]]
    currency: str | None = None
    notes: list[str] = Field(default_factory=list)


class FunnelStepRead(BaseModel):
    index: int
    event: str
    optional: bool
    people: int
    conversion: float
    dropped: int
    median_seconds_from_start: float | None


class FunnelRead(AnalysisRead):
    """Per breakdown group and step: how many reached it, their share of step 1, and who dropped before it."""

    repeat: bool
    breakdown: Breakdown | None
    steps: list[FunnelStepRead]


class DroppedRead(BaseModel):
    """The people whose best attempt did the step before `step` but not `step` itself."""

    step: int
    event: str
    profile_ids: list[int]


class DroppedSegmentCreate(BaseModel):
    """The segment to make of the people who dropped: its key (also the tag put on them) and name."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="e.g. dropped_at_checkout")
    name: str = Field(min_length=1, max_length=200)


class DroppedSegmentRead(BaseModel):
    segment_id: int
    key: str
    size: int
    profile_ids: list[int]


class SankeyNode(BaseModel):
    name: str


class SankeyLink(BaseModel):
    source: str
    target: str
    value: int


class PathsRead(AnalysisRead):
    nodes: list[SankeyNode]
    links: list[SankeyLink]
