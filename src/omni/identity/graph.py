"""Deterministic stitching in memory: a batch of sightings against the known graph, as a plan of writes.

Profiles are union-find nodes. A node is a stored profile id or, for a profile born in this batch, a
temporary id above every stored one, so "the oldest profile survives" is simply the smallest id. Each
sighting's identifiers are taken highest priority first; one joins the event's profile only if the union
stays within every per-kind limit, otherwise it is left where it is and the conflict recorded. The plan is
the same whatever the batch size, as every profile a batch creates and every merge it makes is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from omni.identity.rules import StitchRules

TEMP_BASE = 1 << 62
Key = tuple[str, str]


class Sighting(NamedTuple):
    """One event's normalised identifiers, highest priority first."""

    position: int
    message_id: str
    source: str
    occurred_at: datetime
    identifiers: tuple[Key, ...]
    rule: str


@dataclass(frozen=True, slots=True)
class PlannedMerge:
    survivor: int
    absorbed: int
    key: Key
    sighting: Sighting


@dataclass(frozen=True, slots=True)
class PlannedConflict:
    profile: int
    other: int | None
    key: Key
    reason: str
    sighting: Sighting


@dataclass(slots=True)
class NewIdentifier:
    born: int
    sighting: Sighting


@dataclass
class Plan:
    """What a batch changes; nodes at or above TEMP_BASE are profiles still to create."""

    new_profiles: list[int] = field(default_factory=list)
    new_identifiers: dict[Key, NewIdentifier] = field(default_factory=dict)
    merges: list[PlannedMerge] = field(default_factory=list)
    conflicts: list[PlannedConflict] = field(default_factory=list)
    attributions: list[tuple[int, Key]] = field(default_factory=list)
    seen: dict[Key, list[datetime]] = field(default_factory=dict)


class Graph:
    """The part of the identity graph a batch touches, and the plan of its changes."""

    def __init__(self, rules: StitchRules, known: dict[Key, int], counts: dict[int, dict[str, int]]) -> None:
        # known maps each stored identifier to its profile; counts holds each such profile's kinds.
        self.rules = rules
        self._node_of = dict(known)
        self._counts = counts
        self._parent: dict[int, int] = {}
        self._next_temp = TEMP_BASE
        self.plan = Plan()

    def root(self, node: int) -> int:
        """The live profile node reaches through merges (with path halving)."""
        parent = self._parent
        while node in parent:
            grand = parent.get(parent[node], parent[node])
            parent[node] = grand
            node = grand
        return node

    def profile_of(self, key: Key) -> int | None:
        """The live profile node of an identifier, None when it is unknown."""
        node = self._node_of.get(key)
        return None if node is None else self.root(node)

    def _exceeded(self, have: dict[str, int], adding: dict[str, int]) -> str | None:
        for kind, extra in adding.items():
            limit = self.rules.limit(kind)
            total = have.get(kind, 0) + extra
            if limit is not None and total > limit:
                return f"would give the profile {total} {kind} identifiers; the limit is {limit}"
        return None

    def observe(self, sighting: Sighting) -> None:
        """Link sighting's identifiers into one profile, highest priority first, within the limits."""
        accepted: list[Key] = []
        roots: dict[int, Key] = {}
        fresh: list[Key] = []
        have: dict[str, int] = {}
        dropped: list[tuple[Key, int | None, str]] = []
        for key in sighting.identifiers:
            node = self._node_of.get(key)
            root = None if node is None else self.root(node)
            if root is not None and root in roots:
                accepted.append(key)
                continue
            adding = {key[0]: 1} if root is None else self._counts.get(root, {})
            reason = self._exceeded(have, adding) if accepted else None
            if reason is not None:
                dropped.append((key, root, reason))
                continue
            accepted.append(key)
            for kind, n in adding.items():
                have[kind] = have.get(kind, 0) + n
            if root is None:
                fresh.append(key)
            else:
                roots[root] = key
        if not accepted:
            return
        target = min(roots) if roots else self._new_profile()
        for root, key in roots.items():
            if root != target:
                self._union(target, root, key, sighting)
        counts = self._counts.setdefault(target, {})
        for key in fresh:
            self._node_of[key] = target
            self.plan.new_identifiers[key] = NewIdentifier(born=target, sighting=sighting)
            counts[key[0]] = counts.get(key[0], 0) + 1
        when = sighting.occurred_at
        seen = self.plan.seen
        for key in accepted:
            span = seen.get(key)
            if span is None:
                seen[key] = [when, when]
            elif when < span[0]:
                span[0] = when
            elif when > span[1]:
                span[1] = when
        self.plan.attributions.append((sighting.position, accepted[0]))
        self.plan.conflicts.extend(
            PlannedConflict(profile=target, other=other, key=key, reason=reason, sighting=sighting)
            for key, other, reason in dropped
        )

    def _new_profile(self) -> int:
        node = self._next_temp
        self._next_temp += 1
        self.plan.new_profiles.append(node)
        return node

    def _union(self, survivor: int, absorbed: int, key: Key, sighting: Sighting) -> None:
        self._parent[absorbed] = survivor
        counts = self._counts.setdefault(survivor, {})
        for kind, n in self._counts.pop(absorbed, {}).items():
            counts[kind] = counts.get(kind, 0) + n
        self.plan.merges.append(
            PlannedMerge(survivor=survivor, absorbed=absorbed, key=key, sighting=sighting)
        )
