"""How journeys react to the log: trigger events let people in, awaited events wake waiting runs, goal
events count conversions; and the daily pass over date traits (birthdays, days after signup).

Waits and goals are found by their match key through an index: an arriving event computes the keys it
could satisfy from the (event, key fields) pairs the journeys' versions wait for, and only rows holding
one of those keys are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.events.models import LoggedEvent
from omni.identity import service as identity_service
from omni.journeys import definitions as d
from omni.journeys import repository, runtime
from omni.journeys.models import Journey, JourneyVersion
from omni.journeys.service import Definitions, enter, record_steps
from omni.journeys.triggers import date_due, key_values, match_key, matches
from omni.kit.errors import OmniError
from omni.kit.time import utc_now
from omni.profiles import service as profiles_service

SEGMENT_ENTERED = "Segment Entered"


@dataclass
class Listening:
    """What the journeys listen for on the log right now."""

    active: list[tuple[Journey, d.Definition]] = field(default_factory=list)
    # event name -> key field tuples waited for (any version in flight may still wait)
    waits: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)
    goals: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)

    def names(self) -> set[str]:
        triggers = {
            t.event for _, definition in self.active if isinstance(t := definition.trigger, d.EventTrigger)
        }
        if any(isinstance(definition.trigger, d.SegmentTrigger) for _, definition in self.active):
            triggers.add(SEGMENT_ENTERED)
        return triggers | set(self.waits) | set(self.goals)


def listening(session: Session, definitions: Definitions) -> Listening:
    found = Listening()
    journeys = {j.id: j for j in session.scalars(select(Journey).where(Journey.status != "draft")).all()}
    for journey_id, version in session.execute(
        select(JourneyVersion.journey_id, JourneyVersion.version)
    ).all():
        if journey_id not in journeys:
            continue
        definition = definitions.get(journey_id, version)
        for node in definition.nodes.values():
            if isinstance(node, d.WaitEventNode):
                found.waits.setdefault(node.event, set()).add(tuple(sorted(node.keys)))
        if definition.goal is not None:
            found.goals.setdefault(definition.goal.event, set()).add(tuple(sorted(definition.goal.keys)))
    for journey in journeys.values():
        if journey.status == "active":
            found.active.append((journey, definitions.get(journey.id, journey.current_version)))
    return found


def _candidate_keys(
    event: LoggedEvent, fields_sets: set[tuple[str, ...]], profile_id: int | None
) -> list[str]:
    name = event.event or ""
    keys = []
    for fields in fields_sets:
        if not fields:
            if profile_id is not None:
                keys.append(match_key(name, (), {}, profile_id=profile_id))
            continue
        values = key_values(fields, event.properties)
        if values is not None:
            keys.append(match_key(name, fields, values, profile_id=0))
    return keys


def handle_events(session: Session, batch: Sequence[LoggedEvent], *, now: datetime | None = None) -> None:
    """React to a batch of the log: entries first, then conversions and wake-ups, in log order."""
    definitions = Definitions(session)
    heard = listening(session, definitions)
    names = heard.names()
    relevant = [event for event in batch if event.type == "track" and event.event in names]
    if not relevant:
        return
    at = now or utc_now()
    people = identity_service.profiles_of_positions(session, [event.position for event in relevant])
    for event in relevant:
        if event.position not in people and (found := _known_person(session, event)) is not None:
            people[event.position] = found
    for event in relevant:
        _enter_on(session, event, people.get(event.position), heard, definitions, now=at)
    # The goals first: a run an event converts ends there, rather than going on from its wait.
    goal_events = [
        (e, people.get(e.position), heard.goals[e.event or ""]) for e in relevant if e.event in heard.goals
    ]
    _convert(session, _by_key(goal_events), definitions)
    wait_events = [
        (e, people.get(e.position), heard.waits[e.event or ""]) for e in relevant if e.event in heard.waits
    ]
    _wake(session, _by_key(wait_events), definitions, at=at)


def _known_person(session: Session, event: LoggedEvent) -> int | None:
    """The person of an event identity has not attributed yet (logged later in the same pass of the
    workers, like Segment Entered), found by its userId or anonymousId."""
    for kind, value in (("user_id", event.user_id), ("anonymous_id", event.anonymous_id)):
        if not value:
            continue
        try:
            found = identity_service.find_profile(session, kind, value)
        except OmniError:
            continue  # a blocked or unusable identifier: identity will not attribute it either
        if found is not None:
            return found
    return None


def _by_key(
    events: list[tuple[LoggedEvent, int | None, set[tuple[str, ...]]]],
) -> dict[str, list[LoggedEvent]]:
    """The match keys the events could satisfy, each with its events in log order."""
    found: dict[str, list[LoggedEvent]] = {}
    for event, profile_id, fields_sets in events:
        for key in _candidate_keys(event, fields_sets, profile_id):
            found.setdefault(key, []).append(event)
    return found


def _enter_on(
    session: Session,
    event: LoggedEvent,
    profile_id: int | None,
    heard: Listening,
    definitions: Definitions,
    *,
    now: datetime,
) -> None:
    if profile_id is None:
        return  # nobody to send to: an event identity could not attribute
    for journey, definition in heard.active:
        trigger = definition.trigger
        if (
            isinstance(trigger, d.EventTrigger | d.SegmentTrigger)
            and event.timestamp < now - trigger.max_age.delta
        ):
            continue
        if isinstance(trigger, d.EventTrigger):
            if event.event != trigger.event or not matches(trigger.where, event.properties):
                continue
            keys = key_values(trigger.keys, event.properties)
            if keys is None:
                continue  # a keyed journey cannot follow an event without its keys
        elif isinstance(trigger, d.SegmentTrigger):
            if event.event != SEGMENT_ENTERED or event.properties.get("segment_id") != trigger.segment_id:
                continue
            keys = {}
        else:
            continue
        enter(
            session,
            journey,
            definitions,
            profile_id=profile_id,
            entry_key=f"event:{event.message_id}",
            keys=keys,
            at=event.timestamp,
            position=event.position,
        )


def _wake(
    session: Session, events: dict[str, list[LoggedEvent]], definitions: Definitions, *, at: datetime
) -> None:
    """End the waits the events satisfy: one indexed lookup for the whole batch's keys."""
    if not events:
        return
    for run in repository.waiting_for(session, list(events)):
        # An event from before the person entered does not end this wait.
        if run.wait_key is None or not any(e.position > run.entered_position for e in events[run.wait_key]):
            continue
        step = runtime.wake_on_event(run, definitions.get(run.journey_id, run.version), at=at)
        record_steps(session, run, [step], at=at)
    session.flush()


def _convert(session: Session, events: dict[str, list[LoggedEvent]], definitions: Definitions) -> None:
    """Count the conversions the events make, and end the journeys of converted people still in them."""
    if not events:
        return
    for run in repository.converting(session, list(events)):
        goal = definitions.get(run.journey_id, run.version).goal
        if goal is None or run.goal_key is None:
            continue
        deadline = run.entered_at + goal.within.delta
        event = next(
            (
                e
                for e in events[run.goal_key]
                if run.entered_position < e.position and e.timestamp <= deadline
            ),
            None,
        )
        if event is None:
            continue
        run.converted_at = event.timestamp
        if run.state in runtime.IN_FLIGHT:
            # Reaching the goal ends the journey: nobody is reminded of a cart they already bought.
            left = runtime.Step(run.node, f"left: converted by {goal.event}")
            record_steps(session, run, [left], at=event.timestamp)
            runtime.finish(run, runtime.COMPLETED, at=event.timestamp)
    session.flush()


def enter_by_dates(session: Session, *, today: date, now: datetime | None = None) -> int:
    """The daily pass: let in everyone whose date trait makes today their day; return how many entered.

    Reads each person's traits once; the entry key (journey, day, person) makes a second pass on the
    same day enter nobody twice.
    """
    at = now or utc_now()
    definitions = Definitions(session)
    dated = [
        (journey, definition)
        for journey in session.scalars(select(Journey).where(Journey.status == "active")).all()
        if isinstance(
            (definition := definitions.get(journey.id, journey.current_version)).trigger, d.DateTrigger
        )
    ]
    if not dated:
        return 0
    position = events_service.head_position(session)
    entered = 0
    for profile_id in identity_service.live_profile_ids(session):
        traits: dict[str, Any] | None = None
        for journey, definition in dated:
            trigger = definition.trigger
            assert isinstance(trigger, d.DateTrigger)
            if traits is None:
                traits = {n: t.value for n, t in profiles_service.traits_of(session, profile_id).items()}
            if not date_due(trigger, traits.get(trigger.trait), today):
                continue
            run = enter(
                session,
                journey,
                definitions,
                profile_id=profile_id,
                entry_key=f"date:{trigger.trait}:{today.isoformat()}:{profile_id}",
                keys={},
                at=at,
                position=position,
            )
            entered += not isinstance(run, str)
    return entered
