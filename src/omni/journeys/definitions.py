"""The JSON journey model and its validation: a trigger, nodes keyed by id, a goal, re-entry and a cap.

Validation happens at save time and names the JSON path of every problem ("nodes.email.next"), so a
marketer sees which box of the journey is wrong: unknown node ids, nodes no path reaches, loops a
person could go round without ever waiting, splits whose percentages do not sum to 100.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from omni.channels.schemas import Channel, MessageContent, Purpose
from omni.journeys.errors import JourneyInvalid

NODE_ID = r"^[A-Za-z0-9_\-]{1,100}$"
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
BEST_CHANNEL_ORDER: tuple[Channel, ...] = ("email", "sms", "line")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(_Strict):
    days: int = Field(0, ge=0, le=3650)
    hours: int = Field(0, ge=0, le=100_000)
    minutes: int = Field(0, ge=0, le=1_000_000)
    seconds: int = Field(0, ge=0, le=10_000_000)

    @model_validator(mode="after")
    def _positive(self) -> Duration:
        if self.delta <= timedelta(0):
            raise ValueError("a duration must be longer than zero")
        return self

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds)


Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "exists", "contains"]


class PropertyFilter(_Strict):
    property: str = Field(min_length=1, max_length=200)
    op: Operator = "eq"
    value: Any = None


class EventTrigger(_Strict):
    type: Literal["event"]
    event: str = Field(min_length=1, max_length=200)
    where: list[PropertyFilter] = Field(default_factory=list)
    # Properties of the trigger event that later waits and the goal are keyed to (e.g. cart_id).
    keys: list[str] = Field(default_factory=list, max_length=5)
    # Older events do not let anyone in: an import of last year's checkouts must send no cart reminders.
    max_age: Duration = Duration(days=1)


class SegmentTrigger(_Strict):
    type: Literal["segment_entered"]
    segment_id: int = Field(gt=0)
    max_age: Duration = Duration(days=1)


class DateTrigger(_Strict):
    """People whose date trait, moved by offset_days, is today: a birthday (annual), 7 days after signup."""

    type: Literal["date_trait"]
    trait: str = Field(min_length=1, max_length=200)
    offset_days: int = Field(0, ge=-3650, le=3650)
    annual: bool = False


class ApiTrigger(_Strict):
    type: Literal["api"]
    keys: list[str] = Field(default_factory=list, max_length=5)


Trigger = Annotated[EventTrigger | SegmentTrigger | DateTrigger | ApiTrigger, Field(discriminator="type")]


class TraitCondition(_Strict):
    trait: str = Field(min_length=1, max_length=200)
    op: Operator = "eq"
    value: Any = None


class SegmentCondition(_Strict):
    in_segment: int = Field(gt=0)


class EventCondition(_Strict):
    did_event: str = Field(min_length=1, max_length=200)
    within: Duration | None = None
    where: list[PropertyFilter] = Field(default_factory=list)
    at_least: int = Field(1, ge=1)


class AllCondition(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyCondition(_Strict):
    any: list[Condition] = Field(min_length=1)


class NotCondition(_Strict):
    not_: Condition = Field(alias="not")


Condition = TraitCondition | SegmentCondition | EventCondition | AllCondition | AnyCondition | NotCondition
for _combined in (AllCondition, AnyCondition, NotCondition):
    _combined.model_rebuild()


class DelayNode(_Strict):
    """Wait a duration, or until the next time of day (HH:MM) in the person's time zone."""

    type: Literal["delay"]
    duration: Duration | None = None
    until: str | None = None
    next: str

    @model_validator(mode="after")
    def _one_way(self) -> DelayNode:
        if (self.duration is None) == (self.until is None):
            raise ValueError("give either duration or until")
        if self.until is not None and not _TIME_OF_DAY.match(self.until):
            raise ValueError("until is a time of day, HH:MM")
        return self


class WaitEventNode(_Strict):
    """Wait for an event with the same values of keys as the trigger's event, or the timeout."""

    type: Literal["wait_event"]
    event: str = Field(min_length=1, max_length=200)
    keys: list[str] = Field(default_factory=list, max_length=5)
    timeout: Duration | None = None
    next: str
    timeout_next: str | None = None

    @model_validator(mode="after")
    def _timeout_pairs(self) -> WaitEventNode:
        if (self.timeout is None) != (self.timeout_next is None):
            raise ValueError("timeout and timeout_next go together")
        return self


class ConditionNode(_Strict):
    type: Literal["condition"]
    if_: Condition = Field(alias="if")
    then: str
    else_: str = Field(alias="else")


class Branch(_Strict):
    percent: float = Field(gt=0, le=100)
    next: str
    # The control group: people sent here are only observed, so conversion can be compared.
    holdout: bool = False


class RandomSplitNode(_Strict):
    type: Literal["random_split"]
    branches: list[Branch] = Field(min_length=2, max_length=10)


class SendNode(_Strict):
    """Send a message on a channel, or on "best": of channels the person can be reached on, the one they
    engaged with most lately (ties to the first). at_best_hour holds the message until the person's
    historically best local hour."""

    type: Literal["send"]
    channel: Literal["email", "sms", "whatsapp", "line", "push", "in_app", "webhook", "best"]
    channels: list[Channel] = Field(default_factory=lambda: list(BEST_CHANNEL_ORDER))
    purpose: Purpose = "marketing"
    message: MessageContent
    at_best_hour: bool = False
    next: str


class UpdateProfileNode(_Strict):
    type: Literal["update_profile"]
    traits: dict[str, Any] = Field(default_factory=dict)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list)
    next: str

    @model_validator(mode="after")
    def _something(self) -> UpdateProfileNode:
        if not self.traits and not self.tags:
            raise ValueError("give traits or tags to set")
        return self


class WebhookNode(_Strict):
    """Call the shop's webhook with the message's webhook variant (through the channels' webhook provider)."""

    type: Literal["webhook"]
    message: MessageContent
    next: str


class GoalNode(_Strict):
    type: Literal["goal"]


class ExitNode(_Strict):
    type: Literal["exit"]


Node = Annotated[
    DelayNode
    | WaitEventNode
    | ConditionNode
    | RandomSplitNode
    | SendNode
    | UpdateProfileNode
    | WebhookNode
    | GoalNode
    | ExitNode,
    Field(discriminator="type"),
]


class Goal(_Strict):
    """The conversion: an event (keyed to the trigger like a wait) within a window after entry."""

    event: str = Field(min_length=1, max_length=200)
    keys: list[str] = Field(default_factory=list, max_length=5)
    within: Duration = Duration(days=7)


class Reentry(_Strict):
    policy: Literal["once", "once_per", "always"] = "once"
    days: int | None = Field(None, ge=1, le=3650)

    @model_validator(mode="after")
    def _days_for_once_per(self) -> Reentry:
        if (self.policy == "once_per") != (self.days is not None):
            raise ValueError("days goes with the once_per policy, and only with it")
        return self


class Definition(_Strict):
    trigger: Trigger
    start: str
    nodes: dict[Annotated[str, Field(pattern=NODE_ID)], Node] = Field(min_length=1, max_length=200)
    goal: Goal | None = None
    reentry: Reentry = Reentry()
    entry_cap: int | None = Field(None, ge=1)


WAITING_NODES = (DelayNode, WaitEventNode)


def successors(node: Any) -> list[tuple[str, str]]:
    """(JSON path below the node, node id) of every node this node can lead to."""
    if isinstance(node, RandomSplitNode):
        return [(f"branches.{i}.next", branch.next) for i, branch in enumerate(node.branches)]
    if isinstance(node, ConditionNode):
        return [("then", node.then), ("else", node.else_)]
    found = []
    if hasattr(node, "next"):
        found.append(("next", node.next))
    if isinstance(node, WaitEventNode) and node.timeout_next is not None:
        found.append(("timeout_next", node.timeout_next))
    return found


def _path(loc: tuple[int | str, ...], raw: Any) -> str:
    # A discriminated union puts the tag into the location (nodes.email.send.next): leave it out.
    parts = [str(part) for part in loc]
    if len(parts) >= 3 and parts[0] == "nodes" and isinstance(raw, dict):
        node = raw.get("nodes", {}).get(parts[1]) if isinstance(raw.get("nodes"), dict) else None
        if isinstance(node, dict) and parts[2] == node.get("type"):
            del parts[2]
    if len(parts) >= 2 and parts[0] == "trigger" and isinstance(raw, dict):
        trigger = raw.get("trigger")
        if isinstance(trigger, dict) and parts[1] == trigger.get("type"):
            del parts[1]
    return ".".join(parts)


def parse(raw: Any) -> Definition:
    """Parse and check a journey definition; JourneyInvalid names every problem's JSON path."""
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as exc:
        details = [{"field": _path(e["loc"], raw), "rule": e["msg"]} for e in exc.errors()]
        raise JourneyInvalid(f"the journey has {len(details)} problem(s)", details=details) from None
    problems = graph_problems(definition)
    if problems:
        raise JourneyInvalid(f"the journey has {len(problems)} problem(s)", details=problems)
    return definition


def graph_problems(definition: Definition) -> list[dict[str, str]]:
    """What makes the node graph unrunnable, each with its JSON path."""
    nodes = definition.nodes
    problems: list[dict[str, str]] = []
    if definition.start not in nodes:
        problems.append({"field": "start", "rule": f"unknown node {definition.start}"})
    for node_id, node in nodes.items():
        for where, target in successors(node):
            if target not in nodes:
                problems.append({"field": f"nodes.{node_id}.{where}", "rule": f"unknown node {target}"})
        if isinstance(node, RandomSplitNode):
            total = sum(branch.percent for branch in node.branches)
            if abs(total - 100) > 1e-9:
                problems.append(
                    {"field": f"nodes.{node_id}.branches", "rule": f"percentages sum to {total:g}, not 100"}
                )
            if sum(branch.holdout for branch in node.branches) > 1:
                problems.append({"field": f"nodes.{node_id}.branches", "rule": "at most one holdout branch"})
    problems.extend(_key_problems(definition))
    if problems:
        return problems
    reachable = _reachable(definition)
    problems.extend(
        {"field": f"nodes.{node_id}", "rule": "unreachable: no path from start leads here"}
        for node_id in nodes
        if node_id not in reachable
    )
    loop = _loop_without_wait(definition)
    if loop:
        problems.append(
            {"field": f"nodes.{loop[0]}", "rule": f"loop without a wait: {' -> '.join([*loop, loop[0]])}"}
        )
    return problems


def trigger_keys(definition: Definition) -> list[str]:
    trigger = definition.trigger
    return list(trigger.keys) if isinstance(trigger, EventTrigger | ApiTrigger) else []


def _key_problems(definition: Definition) -> list[dict[str, str]]:
    known = set(trigger_keys(definition))
    keyed: list[tuple[str, list[str]]] = [
        (f"nodes.{node_id}.keys", node.keys)
        for node_id, node in definition.nodes.items()
        if isinstance(node, WaitEventNode)
    ]
    if definition.goal is not None:
        keyed.append(("goal.keys", definition.goal.keys))
    return [
        {
            "field": path,
            "rule": f"{key} is not a key of the trigger (keys: {', '.join(sorted(known)) or 'none'})",
        }
        for path, keys in keyed
        for key in keys
        if key not in known
    ]


def _reachable(definition: Definition) -> set[str]:
    seen = {definition.start}
    todo = [definition.start]
    while todo:
        for _, target in successors(definition.nodes[todo.pop()]):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _loop_without_wait(definition: Definition) -> list[str] | None:
    """A cycle through nodes that never wait, which a worker would step round for ever."""
    moving = {node_id for node_id, node in definition.nodes.items() if not isinstance(node, WAITING_NODES)}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node_id: str) -> list[str] | None:
        state[node_id] = 1
        path.append(node_id)
        for _, target in successors(definition.nodes[node_id]):
            if target not in moving:
                continue
            if state.get(target) == 1:
                return path[path.index(target) :]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node_id] = 2
        return None

    for node_id in sorted(moving):
        if node_id not in state and (found := visit(node_id)):
            return found
    return None
