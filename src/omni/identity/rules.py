"""Stitching rules (priority, limits, where identifiers sit in a message) and identifier extraction."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from omni.identity.normalize import blocked_values, normalize_identifier

# user_id and anonymous_id come from the message's own fields; every other kind from the paths below.
MESSAGE_KINDS = ("user_id", "anonymous_id")
DEFAULT_PRIORITY = ("user_id", "member_id", "email", "phone", "device_id", "anonymous_id")
# A family shares an email, a till types the store's phone: limits keep such values from fusing strangers.
DEFAULT_LIMITS: Mapping[str, int] = {
    "user_id": 1,
    "member_id": 1,
    "email": 5,
    "phone": 5,
    "device_id": 10,
    "anonymous_id": 20,
}
DEFAULT_PATHS: Mapping[str, tuple[str, ...]] = {
    "member_id": ("traits.member_id", "traits.memberId", "properties.member_id"),
    "email": ("traits.email", "properties.email"),
    "phone": ("traits.phone", "properties.phone"),
    "device_id": ("context.device.id",),
}
PATH_ROOTS = ("traits", "properties", "context")
RULE_CO_OCCURRENCE = "same_event"
RULE_ALIAS = "alias"


@dataclass(frozen=True)
class StitchRules:
    """How identifiers link: higher priority wins a conflict; limits cap each kind on one profile."""

    priority: tuple[str, ...] = DEFAULT_PRIORITY
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    paths: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    extra_blocked: tuple[str, ...] = ()
    region: str = "TW"
    # A till sends its member number as userId: a userId matching a kind's pattern is of that kind.
    user_id_patterns: Mapping[str, str] = field(default_factory=dict)
    _user_id_kinds: tuple[tuple[str, re.Pattern[str]], ...] = field(init=False, repr=False, compare=False)
    _ranks: dict[str, int] = field(init=False, repr=False, compare=False)
    _paths: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(init=False, repr=False, compare=False)
    blocked: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Computed once: extraction needs them for every identifier of every event.
        object.__setattr__(self, "_ranks", {kind: i for i, kind in enumerate(self.priority)})
        object.__setattr__(
            self, "_user_id_kinds", tuple((kind, re.compile(p)) for kind, p in self.user_id_patterns.items())
        )
        object.__setattr__(self, "blocked", blocked_values(self.extra_blocked))
        by_root: dict[str, list[tuple[str, tuple[str, ...]]]] = {root: [] for root in PATH_ROOTS}
        for kind, paths in self.paths.items():
            for path in paths:
                root, *parts = path.split(".")
                by_root[root].append((kind, tuple(parts)))
        object.__setattr__(self, "_paths", {root: tuple(paths) for root, paths in by_root.items()})

    def paths_under(self, root: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(kind, keys) of every path in the traits, properties or context document."""
        return self._paths[root]

    def user_id_kind(self, user_id: str) -> str:
        """The kind a userId is: user_id unless it matches another kind's pattern."""
        return next((kind for kind, pattern in self._user_id_kinds if pattern.fullmatch(user_id)), "user_id")

    def rank(self, kind: str) -> int:
        """Position of kind in the priority order, 0 first; unlisted kinds come last."""
        return self._ranks.get(kind, len(self._ranks))

    def limit(self, kind: str) -> int | None:
        """How many identifiers of kind one profile may hold, None for no limit."""
        return self.limits.get(kind)


class Extracted(NamedTuple):
    """The normalised identifiers of one message, highest priority first, and an alias's previousId."""

    identifiers: tuple[tuple[str, str], ...]
    previous_id: str | None = None


def _at(document: Any, parts: tuple[str, ...]) -> Any:
    value = document
    for part in parts:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def extract(
    rules: StitchRules,
    *,
    user_id: str | None,
    anonymous_id: str | None,
    previous_id: str | None,
    traits: Mapping[str, Any],
    properties: Mapping[str, Any],
    context: Mapping[str, Any],
) -> Extracted:
    """The identifiers a message carries, normalised, junk dropped, one of each (kind, value)."""
    found: dict[tuple[str, str], None] = {}
    blocked, region = rules.blocked, rules.region
    user_kind = rules.user_id_kind(user_id) if user_id is not None else "user_id"
    for kind, raw in ((user_kind, user_id), ("anonymous_id", anonymous_id)):
        if raw is not None:
            normalized = normalize_identifier(kind, raw, region=region, blocked=blocked).value
            if normalized is not None:
                found[(kind, normalized)] = None
    # Most events carry no traits or properties: only the documents that have something are searched.
    for root, document in (("traits", traits), ("properties", properties), ("context", context)):
        if not document:
            continue
        for kind, parts in rules.paths_under(root):
            raw = _at(document, parts)
            if raw is not None:
                normalized = normalize_identifier(kind, raw, region=region, blocked=blocked).value
                if normalized is not None:
                    found[(kind, normalized)] = None
    previous = None
    if previous_id is not None:
        previous = normalize_identifier("anonymous_id", previous_id, blocked=blocked).value
    if len(found) < 2:
        return Extracted(identifiers=tuple(found), previous_id=previous)
    return Extracted(
        identifiers=tuple(sorted(found, key=lambda pair: rules.rank(pair[0]))), previous_id=previous
    )
