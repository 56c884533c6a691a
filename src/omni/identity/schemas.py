"""API shapes of the identity graph: rules, identifiers, merges with evidence, conflicts, attributions."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from omni.identity.rules import DEFAULT_LIMITS, DEFAULT_PATHS, DEFAULT_PRIORITY, MESSAGE_KINDS, PATH_ROOTS

KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
_PATH = re.compile(r"^(" + "|".join(PATH_ROOTS) + r")(\.[A-Za-z0-9_]{1,64}){1,4}$")
MAX_LIMIT = 10_000


class IdentityRules(BaseModel):
    """The stitching rules: priority order of kinds, per-profile limits, message paths, junk values."""

    priority: list[str] = Field(default_factory=lambda: list(DEFAULT_PRIORITY), min_length=2, max_length=32)
    limits: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_LIMITS))
    paths: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_PATHS.items()}
    )
    blocked_values: list[str] = Field(default_factory=list, max_length=1000)
    user_id_patterns: dict[str, str] = Field(
        default_factory=dict, description="kind -> regular expression: a userId that matches is of that kind"
    )

    @field_validator("user_id_patterns")
    @classmethod
    def _valid_patterns(cls, patterns: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        priority = info.data.get("priority", [])
        for kind, pattern in patterns.items():
            if kind not in priority or kind in MESSAGE_KINDS:
                raise ValueError(f"{kind} must be a kind in priority other than user_id and anonymous_id")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"the pattern of {kind} is not a regular expression: {exc}") from None
        return patterns

    @field_validator("priority")
    @classmethod
    def _known_kinds(cls, priority: list[str]) -> list[str]:
        for kind in priority:
            if not re.match(KIND_PATTERN, kind):
                raise ValueError(f"kind {kind!r} must match {KIND_PATTERN}")
        if len(set(priority)) != len(priority):
            raise ValueError("each kind may appear once")
        missing = [kind for kind in MESSAGE_KINDS if kind not in priority]
        if missing:
            raise ValueError(f"must include {', '.join(missing)}")
        return priority

    @field_validator("limits")
    @classmethod
    def _limits_of_listed_kinds(cls, limits: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        priority = info.data.get("priority", [])
        for kind, limit in limits.items():
            if kind not in priority:
                raise ValueError(f"{kind} is not in priority")
            if not 1 <= limit <= MAX_LIMIT:
                raise ValueError(f"the limit of {kind} must be between 1 and {MAX_LIMIT}")
        return limits

    @field_validator("paths")
    @classmethod
    def _paths_of_listed_kinds(
        cls, paths: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        priority = info.data.get("priority", [])
        for kind, kind_paths in paths.items():
            if kind not in priority:
                raise ValueError(f"{kind} is not in priority")
            if kind in MESSAGE_KINDS:
                raise ValueError(f"{kind} is read from the message itself, not from a path")
            if not 1 <= len(kind_paths) <= 10:
                raise ValueError(f"{kind} needs 1 to 10 paths")
            for path in kind_paths:
                if not _PATH.match(path):
                    raise ValueError(f"path {path!r} must look like traits.email or context.device.id")
        return paths

    @field_validator("blocked_values")
    @classmethod
    def _short_values(cls, values: list[str]) -> list[str]:
        if any(len(value) > 254 for value in values):
            raise ValueError("each blocked value has at most 254 characters")
        return values


class IdentifierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    first_seen_at: datetime
    last_seen_at: datetime
    source: str
    first_message_id: str


class MergeRead(BaseModel):
    """One merge and its evidence: which identifier, in which event, by which rule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    survivor_id: int
    absorbed_id: int
    kind: str
    value: str
    rule: str
    message_id: str
    event_position: int
    source: str
    occurred_at: datetime
    recorded_at: datetime
    undone_at: datetime | None
    undone_into_id: int | None
    undone_by: str | None
    evidence: dict[str, Any] | None = None


class ConflictRead(BaseModel):
    """An identifier kept out of a merge by a per-profile limit."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    value: str
    reason: str
    other_profile_id: int | None
    message_id: str
    source: str
    occurred_at: datetime


class ProfileIdentityRead(BaseModel):
    """Why a profile is who it is: its identifiers, the merges that built it, the links it refused."""

    profile_id: int
    requested_id: int
    merged_profile_ids: list[int]
    identifiers: list[IdentifierRead]
    merges: list[MergeRead]
    conflicts: list[ConflictRead]


class UnmergeRequest(BaseModel):
    merge_id: int = Field(gt=0, le=2**63 - 1)


class UnmergeRead(BaseModel):
    merge_id: int
    profile_id: int
    new_profile_id: int
    moved: list[IdentifierRead]


class AttributedEventRead(BaseModel):
    """An event of the log (by position) attributed to a profile, and the identifier it came through."""

    position: int
    kind: str
    value: str


class LookupRead(BaseModel):
    profile_id: int
    kind: str
    value: str


class MatchCandidateRead(BaseModel):
    """A pair the matcher found possibly one person: its score, the fields compared and the decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    profile_a: int
    profile_b: int
    match_probability: float
    match_weight: float
    evidence: dict[str, Any]
    status: Literal["pending", "confirmed", "rejected"]
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
