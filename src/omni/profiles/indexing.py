"""Indexing the log for profiles: what each event says (traits, consent decisions, computed-trait inputs,
its timeline line) stored keyed by log position, so views resolve over identity's attribution when read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from omni.profiles import computed, consent, repository, traits
from omni.profiles.models import (
    ComputedTrait,
    ComputedTraitInput,
    ConsentDecision,
    ProfileActivity,
    TraitObservation,
)

MAX_TEXT = 200


class LoggedEvent(Protocol):
    """What indexing reads of a logged event."""

    @property
    def position(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def event(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def traits(self) -> Mapping[str, Any]: ...
    @property
    def properties(self) -> Mapping[str, Any]: ...


def definition_of(row: ComputedTrait) -> computed.Definition:
    """The pure definition of a stored computed trait."""
    return computed.Definition(
        id=row.id,
        aggregation=row.aggregation,
        event=row.event,
        property=row.property,
        window_days=row.window_days,
        filters=tuple(computed.Filter(f["property"], f.get("op", "eq"), f.get("value")) for f in row.filters),
    )


def input_row(
    definition: computed.Definition,
    *,
    position: int,
    track_event: str | None,
    properties: Mapping[str, Any],
    occurred_at: datetime,
) -> dict[str, Any] | None:
    """The computed-trait input a track event gives definition, as a row; None when it does not count."""
    if not computed.matches(definition, track_event, properties):
        return None
    counts, value = computed.contribution(definition, properties)
    if not counts:
        return None
    return {"trait_id": definition.id, "position": position, "occurred_at": occurred_at, "value": value}


def index_events(session: Session, batch: Sequence[LoggedEvent]) -> None:
    """Record what each event of a batch says about its person; processing a batch again changes nothing."""
    repository.lock_profiles(session)
    definitions = [definition_of(row) for row in repository.definitions(session)]
    activity: list[dict[str, Any]] = []
    observed: list[dict[str, Any]] = []
    decided: list[dict[str, Any]] = []
    gathered: list[dict[str, Any]] = []
    for event in batch:
        activity.append(
            {
                "position": event.position,
                "occurred_at": event.timestamp,
                "type": event.type,
                "event": event.event if event.type == "track" else event.name,
                "channel": event.channel,
                "source": event.source,
                "properties": dict(event.properties),
            }
        )
        stated = traits.observations_of(
            position=event.position, traits=event.traits, source=event.source, observed_at=event.timestamp
        )
        observed.extend(
            {
                "position": seen.position,
                "trait": seen.trait,
                "value": seen.value,
                "text": seen.value.strip().lower()[:MAX_TEXT] if isinstance(seen.value, str) else None,
                "source": seen.source,
                "observed_at": seen.observed_at,
            }
            for seen in stated
        )
        found = consent.stated_by(event)
        decided.extend(_decision_row(decision) for decision in _one_per_key(found))
        track_event = event.event if event.type == "track" else None
        for definition in definitions:
            row = input_row(
                definition,
                position=event.position,
                track_event=track_event,
                properties=event.properties,
                occurred_at=event.timestamp,
            )
            if row is not None:
                gathered.append(row)
    repository.insert_new(session, ProfileActivity, activity, ["position"])
    repository.insert_new(session, TraitObservation, observed, ["position", "trait"])
    repository.insert_new(session, ConsentDecision, decided, ["position", "channel", "purpose"])
    repository.insert_new(session, ComputedTraitInput, gathered, ["trait_id", "position"])


def _one_per_key(found: list[consent.Decision]) -> list[consent.Decision]:
    # An event may say the same thing twice (a trait and its name); its last word stands.
    return list({(d.channel, d.purpose): d for d in found}.values())


def _decision_row(decision: consent.Decision) -> dict[str, Any]:
    return {
        "position": decision.position,
        "channel": decision.channel,
        "purpose": decision.purpose,
        "granted": decision.granted,
        "decided_at": decision.decided_at,
        "source": decision.source,
        "evidence": decision.evidence[:200],
    }
