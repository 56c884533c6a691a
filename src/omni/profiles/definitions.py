"""Use cases of computed-trait definitions: define one (and gather its past), list, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.kit.time import utc_now
from omni.profiles import computed, repository
from omni.profiles.errors import ComputedTraitExists, ComputedTraitInvalid, ComputedTraitNotFound
from omni.profiles.indexing import definition_of, input_row
from omni.profiles.models import ComputedTrait, ComputedTraitInput
from omni.profiles.schemas import ComputedTraitCreate, ComputedTraitRead


def _check(body: ComputedTraitCreate) -> None:
    if body.aggregation != "count" and not body.property:
        raise ComputedTraitInvalid(
            f"{body.aggregation} needs the property to aggregate",
            details=[{"field": "property", "rule": f"required for {body.aggregation}"}],
        )
    if body.aggregation == "count" and body.property:
        raise ComputedTraitInvalid(
            "count counts events and takes no property",
            details=[{"field": "property", "rule": "must be empty for count"}],
        )
    for index, rule in enumerate(body.filters):
        if rule.op == "in" and not isinstance(rule.value, list):
            raise ComputedTraitInvalid(
                "an in filter compares with a list",
                details=[{"field": f"filters.{index}.value", "rule": "a list for op in"}],
            )
        if rule.op in {"gt", "gte", "lt", "lte"} and computed.as_number(rule.value) is None:
            raise ComputedTraitInvalid(
                f"a {rule.op} filter compares with a number",
                details=[{"field": f"filters.{index}.value", "rule": f"a number for op {rule.op}"}],
            )


def create(session: Session, body: ComputedTraitCreate) -> ComputedTraitRead:
    """Define a computed trait and gather its inputs from every event recorded so far.

    The profiles lock keeps the indexing consumer out meanwhile: each event is then either already
    recorded (gathered here) or recorded after this commits (gathered by the consumer), never neither.
    """
    _check(body)
    repository.lock_profiles(session)
    if session.scalar(select(ComputedTrait.id).where(ComputedTrait.name == body.name)) is not None:
        raise ComputedTraitExists(
            f"a computed trait named {body.name} exists", details=[{"field": "name", "rule": "unique"}]
        )
    row = ComputedTrait(
        name=body.name,
        aggregation=body.aggregation,
        event=body.event,
        property=body.property,
        window_days=body.window_days,
        filters=[rule.model_dump() for rule in body.filters],
        created_at=utc_now(),
    )
    session.add(row)
    session.flush()
    definition = definition_of(row)
    pending: list[dict[str, Any]] = []
    for event in repository.activity_of_event(session, body.event):
        found = input_row(
            definition,
            position=event.position,
            track_event=event.event if event.type == "track" else None,
            properties=event.properties,
            occurred_at=event.occurred_at,
        )
        if found is not None:
            pending.append(found)
        if len(pending) >= repository.WRITE_CHUNK:
            repository.insert_new(session, ComputedTraitInput, pending, ["trait_id", "position"])
            pending = []
    repository.insert_new(session, ComputedTraitInput, pending, ["trait_id", "position"])
    return ComputedTraitRead.model_validate(row)


def list_all(session: Session) -> list[ComputedTraitRead]:
    """Every computed trait definition, oldest first."""
    return [ComputedTraitRead.model_validate(row) for row in repository.definitions(session)]


def delete(session: Session, trait_id: int) -> None:
    """Delete a computed trait and what it gathered."""
    row = session.get(ComputedTrait, trait_id)
    if row is None:
        raise ComputedTraitNotFound(f"no computed trait {trait_id}")
    repository.delete_inputs(session, trait_id)
    session.delete(row)
    session.flush()
