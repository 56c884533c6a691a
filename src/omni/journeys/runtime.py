"""Stepping one person through a journey's nodes: from the node they are at, as far as the journey goes
before it has to wait (a delay, an event) or ends.

The rules here decide; what they need from the rest of Omni (a person's traits, sending a message) comes
through the World protocol, which the service implements over the database. A step's effects and the
run's new position are written in the same transaction, so a step either happened wholly or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from omni.journeys.definitions import (
    AllCondition,
    AnyCondition,
    Condition,
    ConditionNode,
    Definition,
    DelayNode,
    EventCondition,
    ExitNode,
    GoalNode,
    NotCondition,
    RandomSplitNode,
    SegmentCondition,
    SendNode,
    TraitCondition,
    UpdateProfileNode,
    WaitEventNode,
    WebhookNode,
)
from omni.journeys.models import JourneyRun
from omni.journeys.triggers import compare, match_key

# Validation forbids loops without a wait, so a wake-up takes at most as many steps as there are nodes;
# the bound only guards against a definition that slipped past validation.
MAX_STEPS_PER_WAKE = 250
ACTIVE, WAITING, COMPLETED, EXITED, FAILED = "active", "waiting", "completed", "exited", "failed"
IN_FLIGHT = (ACTIVE, WAITING)


class World(Protocol):
    """What a step needs to know about a person and do for them."""

    @property
    def now(self) -> datetime: ...

    def trait(self, profile_id: int, name: str) -> Any: ...

    def in_segment(self, profile_id: int, segment_id: int) -> bool: ...

    def event_count(self, profile_id: int, condition: EventCondition) -> int: ...

    def timezone(self, profile_id: int) -> ZoneInfo: ...

    def already_happened(self, run: JourneyRun, node: WaitEventNode) -> bool: ...

    def send(
        self, run: JourneyRun, node_id: str, node: SendNode | WebhookNode, *, channel: str, purpose: str
    ) -> str: ...

    def best_channel(self, profile_id: int, candidates: list[str], purpose: str) -> str | None: ...

    def best_send_hour(self, profile_id: int) -> int: ...

    def update_profile(self, run: JourneyRun, node_id: str, node: UpdateProfileNode) -> str: ...


@dataclass(frozen=True)
class Step:
    """A node a person reached and what it did."""

    node: str
    outcome: str


def bucket(run_id: int, node_id: str, *, seed: str = "") -> float:
    """A stable point in [0, 100) for a run at a split: the same run always takes the same branch."""
    digest = hashlib.sha256(f"{seed}:{run_id}:{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def choose_branch(node: RandomSplitNode, point: float) -> int:
    """The index of the branch whose share of [0, 100) holds point."""
    upper = 0.0
    for index, branch in enumerate(node.branches):
        upper += branch.percent
        if point < upper:
            return index
    return len(node.branches) - 1


def next_time_of_day(now: datetime, at: str, zone: ZoneInfo) -> datetime:
    """The first moment after now when the clock in zone shows at (HH:MM), as UTC."""
    hour, minute = (int(part) for part in at.split(":"))
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tzinfo=zone)
    return candidate.astimezone(now.tzinfo)


def evaluate(condition: Condition, profile_id: int, world: World) -> bool:
    """Whether the person meets condition now."""
    if isinstance(condition, AllCondition):
        return all(evaluate(part, profile_id, world) for part in condition.all)
    if isinstance(condition, AnyCondition):
        return any(evaluate(part, profile_id, world) for part in condition.any)
    if isinstance(condition, NotCondition):
        return not evaluate(condition.not_, profile_id, world)
    if isinstance(condition, TraitCondition):
        return compare(condition.op, world.trait(profile_id, condition.trait), condition.value)
    if isinstance(condition, SegmentCondition):
        return world.in_segment(profile_id, condition.in_segment)
    return world.event_count(profile_id, condition) >= condition.at_least


def move(run: JourneyRun, node_id: str, *, at: datetime) -> None:
    """Put the run at node_id, due now."""
    run.node, run.state, run.wake_at, run.wait_key, run.updated_at = node_id, ACTIVE, at, None, at


def finish(run: JourneyRun, state: str, *, at: datetime, error: str | None = None) -> None:
    run.state, run.finished_at, run.wake_at, run.wait_key, run.updated_at = state, at, None, None, at
    run.error = error


def wake_on_event(run: JourneyRun, definition: Definition, *, at: datetime) -> Step:
    """The awaited event came: the run leaves its wait by the event's branch, due now."""
    node = definition.nodes[run.node]
    assert isinstance(node, WaitEventNode)
    waited = run.node
    move(run, node.next, at=at)
    return Step(waited, f"{node.event} arrived")


def advance(run: JourneyRun, definition: Definition, world: World) -> list[Step]:
    """Step the run from where it is until it waits or ends; return the steps taken."""
    now = world.now
    steps: list[Step] = []
    if run.state == WAITING:
        if run.wake_at is None or run.wake_at > now:
            return steps
        node = definition.nodes[run.node]
        if isinstance(node, WaitEventNode) and node.timeout_next is not None:
            # Look once more before taking the timeout branch: an event logged while this run was being
            # put to wait can reach the consumer before the wait was committed, and be missed there.
            if world.already_happened(run, node):
                steps.append(Step(run.node, f"{node.event} arrived"))
                move(run, node.next, at=now)
            else:
                steps.append(Step(run.node, f"no {node.event} in time"))
                move(run, node.timeout_next, at=now)
        elif isinstance(node, DelayNode):
            steps.append(Step(run.node, "waited"))
            move(run, node.next, at=now)
        elif isinstance(node, SendNode):
            # The best hour came: send now, even if the worker woke a little after the hour began.
            steps.append(Step(run.node, _send(run, run.node, node, world)))
    while run.state == ACTIVE:
        if len(steps) >= MAX_STEPS_PER_WAKE:
            finish(run, FAILED, at=now, error=f"more than {MAX_STEPS_PER_WAKE} steps without a wait")
            break
        node_id = run.node
        steps.append(Step(node_id, _execute(run, node_id, definition, world)))
    return steps


def _execute(run: JourneyRun, node_id: str, definition: Definition, world: World) -> str:
    node = definition.nodes[node_id]
    now = world.now
    if isinstance(node, DelayNode):
        if node.duration is not None:
            until = now + node.duration.delta
        else:
            until = next_time_of_day(now, node.until or "00:00", world.timezone(run.profile_id))
        run.state, run.wake_at, run.updated_at = WAITING, until, now
        return f"waiting until {until.isoformat()}"
    if isinstance(node, WaitEventNode):
        if world.already_happened(run, node):
            move(run, node.next, at=now)
            return f"{node.event} had already happened"
        run.state, run.updated_at = WAITING, now
        run.wait_key = match_key(node.event, node.keys, run.keys, profile_id=run.profile_id)
        run.wake_at = now + node.timeout.delta if node.timeout is not None else None
        return f"waiting for {node.event}"
    if isinstance(node, ConditionNode):
        met = evaluate(node.if_, run.profile_id, world)
        move(run, node.then if met else node.else_, at=now)
        return "condition met" if met else "condition not met"
    if isinstance(node, RandomSplitNode):
        index = choose_branch(node, bucket(run.id, node_id, seed=str(run.journey_id)))
        branch = node.branches[index]
        if branch.holdout:
            run.cohort = "holdout"
        elif run.cohort is None and any(b.holdout for b in node.branches):
            run.cohort = "treatment"
        move(run, branch.next, at=now)
        return f"branch {index + 1}" + (" (holdout)" if branch.holdout else "")
    if isinstance(node, SendNode):
        if node.at_best_hour:
            zone = world.timezone(run.profile_id)
            hour = world.best_send_hour(run.profile_id)
            if now.astimezone(zone).hour != hour:
                until = next_time_of_day(now, f"{hour:02d}:00", zone)
                run.state, run.wake_at, run.updated_at = WAITING, until, now
                return f"waiting for the best hour, until {until.isoformat()}"
        return _send(run, node_id, node, world)
    if isinstance(node, WebhookNode):
        outcome = world.send(run, node_id, node, channel="webhook", purpose="transactional")
        move(run, node.next, at=now)
        return outcome
    if isinstance(node, UpdateProfileNode):
        outcome = world.update_profile(run, node_id, node)
        move(run, node.next, at=now)
        return outcome
    if isinstance(node, GoalNode):
        run.converted_at = run.converted_at or now
        finish(run, COMPLETED, at=now)
        return "converted"
    assert isinstance(node, ExitNode)
    finish(run, EXITED, at=now)
    return "exited"


def _send(run: JourneyRun, node_id: str, node: SendNode, world: World) -> str:
    """Send the node's message on its channel (or the person's best) and move on."""
    channel: str | None = node.channel
    if channel == "best":
        channel = world.best_channel(run.profile_id, list(node.channels), node.purpose)
    outcome = (
        world.send(run, node_id, node, channel=channel, purpose=node.purpose)
        if channel
        else f"not sent: no reachable channel among {', '.join(node.channels)}"
    )
    move(run, node.next, at=world.now)
    return outcome
