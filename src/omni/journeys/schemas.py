"""API shapes of the journeys domain: definitions and versions, entries, runs and the journey's numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JourneyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=1000)
    definition: dict[str, Any]


class JourneyUpdate(BaseModel):
    """A new version of the definition; people in flight stay on theirs."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    definition: dict[str, Any]


class JourneyCounts(BaseModel):
    entered: int = 0
    active: int = 0
    converted: int = 0


class JourneyRead(BaseModel):
    id: int
    name: str
    description: str
    status: str
    current_version: int
    definition: dict[str, Any]
    counts: JourneyCounts
    created_at: datetime
    updated_at: datetime


class JourneyVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    definition: dict[str, Any]
    created_at: datetime
    created_by: str


class EntryCreate(BaseModel):
    """Put one person into a journey whose trigger is an API call."""

    model_config = ConfigDict(extra="forbid")

    profile_id: int = Field(gt=0)
    keys: dict[str, Any] = Field(default_factory=dict, description="values of the trigger's keys")
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=200, description="the same key again is the same entry"
    )


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    journey_id: int
    version: int
    profile_id: int
    state: str
    node: str
    wake_at: datetime | None
    keys: dict[str, Any]
    cohort: str | None
    entered_at: datetime
    converted_at: datetime | None
    finished_at: datetime | None
    error: str | None


class NodeStats(BaseModel):
    node: str
    type: str
    reached: int = Field(description="people who ever reached the node")
    here: int = Field(description="people at the node now")
    next: list[str] = Field(default_factory=list)


class CohortStats(BaseModel):
    people: int
    converted: int
    rate: float | None


class HoldoutComparison(BaseModel):
    treatment: CohortStats
    holdout: CohortStats
    lift: float | None = Field(description="treatment rate minus holdout rate")
    z: float | None
    p_value: float | None = Field(description="two-sided, two-proportion z-test")


class JourneyStats(BaseModel):
    journey_id: int
    entered: int
    active: int
    completed: int
    exited: int
    failed: int
    converted: int
    nodes: list[NodeStats]
    holdout: HoldoutComparison | None


class RunDueRead(BaseModel):
    runs: int
    steps: int
