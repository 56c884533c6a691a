"""Traits: what events state about a person, and which statement wins.

Per trait, the value from the highest-priority source wins; among sources of equal priority the newest
statement wins, and a later log position breaks a tie in time. A lower-priority source never overwrites
a higher one's value however recent it is: a shopper's typo on the web does not replace what the CRM holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_SOURCE_PRIORITY = ("crm", "pos", "app", "web", "marketplace")
MAX_TRAIT_NAME = 100


@dataclass(frozen=True, slots=True)
class Observation:
    """One trait value stated by one event."""

    position: int
    trait: str
    value: Any
    source: str
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class ResolvedTrait:
    value: Any
    source: str
    observed_at: datetime


def source_kind(source: str) -> str:
    """The kind of a source key (pos:TPE-XINYI is a pos), which priority is configured by."""
    return source.split(":", 1)[0]


def source_rank(priority: Sequence[str], source: str) -> int:
    """0 for the most trusted; a source kind not listed ranks below every listed one."""
    kind = source_kind(source)
    return priority.index(kind) if kind in priority else len(priority)


def observations_of(
    *, position: int, traits: Mapping[str, Any], source: str, observed_at: datetime
) -> list[Observation]:
    """The trait statements of one event; a null states nothing, and overlong names are not traits."""
    return [
        Observation(position, name, value, source, observed_at)
        for name, value in traits.items()
        if value is not None and 0 < len(name) <= MAX_TRAIT_NAME
    ]


def resolve(observations: Iterable[Observation], priority: Sequence[str]) -> dict[str, ResolvedTrait]:
    """The winning value of every trait, by source priority, then time, then log position."""
    best: dict[str, tuple[tuple[int, datetime, int], Observation]] = {}
    for seen in observations:
        key = (-source_rank(priority, seen.source), seen.observed_at, seen.position)
        held = best.get(seen.trait)
        if held is None or key > held[0]:
            best[seen.trait] = (key, seen)
    return {
        name: ResolvedTrait(value=seen.value, source=seen.source, observed_at=seen.observed_at)
        for name, (_, seen) in sorted(best.items())
    }
