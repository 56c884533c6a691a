"""Use cases of journeys: save versioned definitions, activate and pause, let people in, step due runs.

Entering, stepping and waking all happen in the caller's transaction; services never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omni.channels import service as channels_service
from omni.events import service as events_service
from omni.journeys import definitions as d
from omni.journeys import repository, runtime
from omni.journeys.errors import (
    EntryRefused,
    JourneyExists,
    JourneyInvalid,
    JourneyNotActive,
    JourneyNotFound,
)
from omni.journeys.models import Journey, JourneyRun, JourneyStep, JourneyVersion
from omni.journeys.schemas import EntryCreate, JourneyCounts, JourneyCreate, JourneyRead, JourneyUpdate
from omni.journeys.triggers import match_key
from omni.journeys.world import DatabaseWorld
from omni.kit.errors import OmniError
from omni.kit.time import utc_now
from omni.profiles import service as profiles_service
from omni.segments import service as segments_service
from omni.settings import Settings

log = logging.getLogger(__name__)


class Definitions:
    """Parsed definitions by (journey, version), read once per unit of work; versions never change."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._parsed: dict[tuple[int, int], d.Definition] = {}

    def get(self, journey_id: int, version: int) -> d.Definition:
        key = (journey_id, version)
        if key not in self._parsed:
            row = self.session.get(JourneyVersion, key)
            if row is None:
                raise JourneyNotFound(f"journey {journey_id} has no version {version}")
            self._parsed[key] = d.Definition.model_validate(row.definition)
        return self._parsed[key]


def check(session: Session, raw: Any) -> d.Definition:
    """Parse a definition and check what it names exists: message templates and variants, segments."""
    definition = d.parse(raw)
    problems: list[dict[str, Any]] = []
    for node_id, node in definition.nodes.items():
        if isinstance(node, d.SendNode | d.WebhookNode):
            problems.extend(_message_problems(session, node_id, node))
        if isinstance(node, d.ConditionNode):
            problems.extend(_segment_problems(session, f"nodes.{node_id}.if", node.if_))
    if isinstance(definition.trigger, d.SegmentTrigger):
        problems.extend(_segment_exists(session, "trigger.segment_id", definition.trigger.segment_id))
    if problems:
        raise JourneyInvalid(f"the journey has {len(problems)} problem(s)", details=problems)
    return definition


def _message_problems(
    session: Session, node_id: str, node: d.SendNode | d.WebhookNode
) -> list[dict[str, Any]]:
    path = f"nodes.{node_id}.message"
    try:
        variants = channels_service.variants_of(session, node.message)
    except OmniError as exc:
        return [{**detail, "field": f"{path}.{detail.get('field', '')}"} for detail in exc.details] or [
            {"field": path, "rule": exc.message}
        ]
    if isinstance(node, d.WebhookNode):
        needed = ["webhook"]
    else:
        needed = list(node.channels) if node.channel == "best" else [node.channel]
    return [
        {"field": f"{path}.variants", "rule": f"needs a {channel} variant for node {node_id}"}
        for channel in needed
        if channel not in variants
    ]


def _segment_exists(session: Session, path: str, segment_id: int) -> list[dict[str, Any]]:
    try:
        segments_service.get(session, segment_id)
    except OmniError:
        return [{"field": path, "rule": f"unknown segment {segment_id}"}]
    return []


def _segment_problems(session: Session, path: str, condition: d.Condition) -> list[dict[str, Any]]:
    if isinstance(condition, d.SegmentCondition):
        return _segment_exists(session, f"{path}.in_segment", condition.in_segment)
    parts: list[tuple[str, d.Condition]] = []
    if isinstance(condition, d.AllCondition):
        parts = [(f"{path}.all.{i}", c) for i, c in enumerate(condition.all)]
    elif isinstance(condition, d.AnyCondition):
        parts = [(f"{path}.any.{i}", c) for i, c in enumerate(condition.any)]
    elif isinstance(condition, d.NotCondition):
        parts = [(f"{path}.not", condition.not_)]
    return [problem for where, part in parts for problem in _segment_problems(session, where, part)]


def get(session: Session, journey_id: int) -> Journey:
    journey = session.get(Journey, journey_id)
    if journey is None:
        raise JourneyNotFound(
            f"no journey {journey_id}", details=[{"field": "journey_id", "rule": "unknown"}]
        )
    return journey


def _stored(definition: d.Definition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_none=True)


def _read(session: Session, journey: Journey, counts: dict[str, int] | None = None) -> JourneyRead:
    if counts is None:
        counts = repository.counts_by_state(session, [journey.id])[journey.id]
    version = session.get(JourneyVersion, (journey.id, journey.current_version))
    assert version is not None
    return JourneyRead(
        id=journey.id,
        name=journey.name,
        description=journey.description,
        status=journey.status,
        current_version=journey.current_version,
        definition=version.definition,
        counts=JourneyCounts(
            entered=sum(n for state, n in counts.items() if state != "converted"),
            active=counts.get("active", 0) + counts.get("waiting", 0),
            converted=counts.get("converted", 0),
        ),
        created_at=journey.created_at,
        updated_at=journey.updated_at,
    )


def _name_free(session: Session, name: str, *, besides: int | None = None) -> None:
    found = session.scalar(select(Journey.id).where(Journey.name == name))
    if found is not None and found != besides:
        raise JourneyExists(f"a journey named {name} exists", details=[{"field": "name", "rule": "unique"}])


def create(session: Session, body: JourneyCreate, *, by: str) -> JourneyRead:
    """Save a new journey as a draft at version 1."""
    definition = check(session, body.definition)
    _name_free(session, body.name)
    now = utc_now()
    journey = Journey(
        name=body.name,
        description=body.description,
        status="draft",
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(journey)
    session.flush()
    session.add(
        JourneyVersion(
            journey_id=journey.id, version=1, definition=_stored(definition), created_at=now, created_by=by
        )
    )
    session.flush()
    return _read(session, journey)


def update(session: Session, journey_id: int, body: JourneyUpdate, *, by: str) -> JourneyRead:
    """Save a new version; people already in the journey finish on the version they entered."""
    journey = get(session, journey_id)
    definition = check(session, body.definition)
    if body.name is not None:
        _name_free(session, body.name, besides=journey.id)
        journey.name = body.name
    if body.description is not None:
        journey.description = body.description
    now = utc_now()
    journey.current_version += 1
    journey.updated_at = now
    session.add(
        JourneyVersion(
            journey_id=journey.id,
            version=journey.current_version,
            definition=_stored(definition),
            created_at=now,
            created_by=by,
        )
    )
    session.flush()
    return _read(session, journey)


def set_status(session: Session, journey_id: int, status: str) -> JourneyRead:
    """Activate (people enter and move) or pause (nobody enters or moves; timers fire on resuming)."""
    journey = get(session, journey_id)
    journey.status, journey.updated_at = status, utc_now()
    session.flush()
    return _read(session, journey)


def read(session: Session, journey_id: int) -> JourneyRead:
    return _read(session, get(session, journey_id))


def list_all(session: Session) -> list[JourneyRead]:
    """Every journey with its counts, by name."""
    journeys = session.scalars(select(Journey).order_by(Journey.name)).all()
    counts = repository.counts_by_state(session, [j.id for j in journeys])
    return [_read(session, journey, counts[journey.id]) for journey in journeys]


def versions(session: Session, journey_id: int) -> list[JourneyVersion]:
    get(session, journey_id)
    return list(
        session.scalars(
            select(JourneyVersion)
            .where(JourneyVersion.journey_id == journey_id)
            .order_by(JourneyVersion.version)
        ).all()
    )


def refusal(
    session: Session, journey: Journey, definition: d.Definition, profile_id: int, *, at: datetime
) -> str | None:
    """Why the person may not enter now (re-entry policy, entry cap), None when they may."""
    reentry = definition.reentry
    if reentry.policy != "always":
        last = repository.last_entry(session, journey.id, profile_id)
        if last is not None and (reentry.policy == "once" or last > at - timedelta(days=reentry.days or 0)):
            return f"already entered on {last.isoformat()} (re-entry: {reentry.policy})"
    if definition.entry_cap is not None and repository.entries(session, journey.id) >= definition.entry_cap:
        return f"the journey's entry cap of {definition.entry_cap} is reached"
    return None


def enter(
    session: Session,
    journey: Journey,
    definitions: Definitions,
    *,
    profile_id: int,
    entry_key: str,
    keys: dict[str, Any],
    at: datetime,
    position: int,
) -> JourneyRun | str:
    """Let a person into the journey's current version, due now; or say why not."""
    if journey.status != "active":
        return f"the journey is {journey.status}"
    repository.lock_journey(session, journey.id)
    if repository.run_by_entry(session, journey.id, entry_key) is not None:
        return f"entry {entry_key} is already in"
    definition = definitions.get(journey.id, journey.current_version)
    live = profiles_service.live_profile(session, profile_id)
    reason = refusal(session, journey, definition, live, at=at)
    if reason:
        return reason
    goal = definition.goal
    run = JourneyRun(
        journey_id=journey.id,
        version=journey.current_version,
        profile_id=live,
        entry_key=entry_key,
        entered_at=at,
        entered_position=position,
        keys=keys,
        state=runtime.ACTIVE,
        node=definition.start,
        wake_at=at,
        goal_key=match_key(goal.event, goal.keys, keys, profile_id=live) if goal else None,
        updated_at=at,
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return f"entry {entry_key} is already in"
    return run


def enter_by_api(
    session: Session, journey_id: int, body: EntryCreate, *, at: datetime | None = None
) -> JourneyRun:
    """Put a person into a journey triggered by API calls."""
    journey = get(session, journey_id)
    definitions = Definitions(session)
    definition = definitions.get(journey.id, journey.current_version)
    if not isinstance(definition.trigger, d.ApiTrigger):
        raise JourneyNotActive(
            f"journey {journey_id} starts on {definition.trigger.type}, not on API calls",
            details=[{"field": "trigger.type", "rule": "api"}],
        )
    missing = [key for key in definition.trigger.keys if body.keys.get(key) in (None, "")]
    if missing:
        raise JourneyInvalid(
            "values for the trigger's keys are missing",
            details=[{"field": f"keys.{key}", "rule": "required by the trigger"} for key in missing],
        )
    if journey.status != "active":
        raise JourneyNotActive(
            f"journey {journey_id} is {journey.status}", details=[{"field": "status", "rule": "active"}]
        )
    now = at or utc_now()
    entry_key = (
        f"api:{body.idempotency_key}" if body.idempotency_key else f"api:{body.profile_id}:{now.isoformat()}"
    )
    keys = {key: body.keys[key] for key in definition.trigger.keys}
    entered = enter(
        session,
        journey,
        definitions,
        profile_id=body.profile_id,
        entry_key=entry_key,
        keys=keys,
        at=now,
        position=events_service.head_position(session),
    )
    if isinstance(entered, str):
        held = repository.run_by_entry(session, journey.id, entry_key)
        if held is not None:
            return held  # the same idempotency key again: the same entry
        raise EntryRefused(entered, details=[{"field": "profile_id", "rule": entered}])
    return entered


def record_steps(session: Session, run: JourneyRun, steps: Iterable[runtime.Step], *, at: datetime) -> int:
    rows = [
        JourneyStep(run_id=run.id, journey_id=run.journey_id, node=s.node, outcome=s.outcome, at=at)
        for s in steps
    ]
    session.add_all(rows)
    return len(rows)


def step_due(
    session: Session, settings: Settings, *, now: datetime | None = None, limit: int = 100
) -> tuple[int, int]:
    """Claim up to limit due runs and step each as far as it goes; return (runs, steps).

    The batch steps in one savepoint and one flush. Should a step raise, the batch is rolled back and
    stepped again one run per savepoint, so a broken run is marked failed with the reason and the others
    still move. A message step's send intent commits with the run's new position or not at all.
    """
    at = now or utc_now()
    definitions = Definitions(session)
    claimed = repository.claim_due(session, now=at, limit=limit)
    try:
        with session.begin_nested(), session.no_autoflush:
            world = DatabaseWorld(session, settings, now=at)
            steps = sum(_step(session, run, definitions, world, at=at) for run in claimed)
            session.flush()
        return len(claimed), steps
    except Exception:
        log.warning("a journey batch failed; stepping its runs one by one", exc_info=True)
    steps = 0
    for run in claimed:
        session.refresh(run)
        try:
            with session.begin_nested():
                steps += _step(session, run, definitions, DatabaseWorld(session, settings, now=at), at=at)
                session.flush()
        except Exception as exc:
            # A run that cannot step is parked as failed with the reason, rather than retried for ever.
            session.refresh(run)
            reason = exc.message if isinstance(exc, OmniError) else f"{type(exc).__name__}: {exc}"
            runtime.finish(run, runtime.FAILED, at=at, error=f"at {run.node}: {reason}"[:1000])
            log.exception("journey run %s failed at %s", run.id, run.node)
    session.flush()
    return len(claimed), steps


def _step(
    session: Session, run: JourneyRun, definitions: Definitions, world: DatabaseWorld, *, at: datetime
) -> int:
    taken = runtime.advance(run, definitions.get(run.journey_id, run.version), world)
    return record_steps(session, run, taken, at=at)
