"""Funnels: ordered steps a person takes within a conversion window, walked over each person's events.

A person's attempt starts at an event of step 1. Each later step is an event after the step before it
(by time, then log position), within the window from step 1 and within the step's own time limit from
the last step done. An optional step may be skipped. Of all the ways a person's events can be matched,
the attempt that gets furthest counts (most required steps, then most optional ones). Without repeat
conversions each person counts once, with their best attempt; with them, every attempt counts, each
new one starting after the last event of the one before.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from omni.kit.errors import ValidationFailed

MAX_STEPS = 10
MAX_WINDOW_HOURS = 366 * 24
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains")


@dataclass(frozen=True)
class PropertyFilter:
    property: str
    op: str
    value: Any


@dataclass(frozen=True)
class Step:
    event: str
    where: tuple[PropertyFilter, ...] = ()
    optional: bool = False
    within: timedelta | None = None


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Step, ...]
    window: timedelta = timedelta(days=7)
    repeat: bool = False


@dataclass(frozen=True)
class Touch:
    """An event of one person that matches at least one step; group is its breakdown value."""

    at: datetime
    event: str | None
    properties: Mapping[str, Any]
    group: str | None = None


@dataclass(frozen=True)
class Attempt:
    person: int
    group: str
    done: tuple[datetime | None, ...]


@dataclass
class GroupCounts:
    people: list[int]
    dropped: list[int]
    seconds: list[list[float]] = field(default_factory=list)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _holds(rule: PropertyFilter, properties: Mapping[str, Any]) -> bool:
    actual = properties.get(rule.property)
    if rule.op in ("eq", "ne"):
        same = actual == rule.value or (actual is not None and str(actual) == str(rule.value))
        return same if rule.op == "eq" else not same
    if rule.op == "in":
        return any(actual == item or str(actual) == str(item) for item in rule.value)
    if rule.op == "contains":
        if isinstance(actual, list):
            return rule.value in actual
        return isinstance(actual, str) and str(rule.value) in actual
    left, right = _number(actual), _number(rule.value)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[rule.op]


def step_matches(step: Step, event: str | None, properties: Mapping[str, Any]) -> bool:
    """Whether an event is an occurrence of step."""
    return event == step.event and all(_holds(rule, properties) for rule in step.where)


def _best_from(funnel: Funnel, touches: Sequence[Touch], start: int) -> tuple[int | None, ...]:
    """The furthest-reaching match of the steps after step 1, which is touches[start]; indexes per step."""
    steps = funnel.steps
    limit_after = [any(s.within is not None for s in steps[k + 1 :]) for k in range(len(steps))]
    began = touches[start].at

    @cache
    def best(k: int, last: int) -> tuple[tuple[int, int], tuple[int | None, ...]]:
        if k == len(steps):
            return (0, 0), ()
        step = steps[k]
        found: list[tuple[tuple[int, int], tuple[int | None, ...]]] = []
        for j in range(last + 1, len(touches)):
            touch = touches[j]
            if touch.at - began > funnel.window:
                break
            if step.within is not None and touch.at - touches[last].at > step.within:
                break
            if not step_matches(step, touch.event, touch.properties):
                continue
            (required, optional), rest = best(k + 1, j)
            found.append(((required + (not step.optional), optional + step.optional), (j, *rest)))
            # A later occurrence can only help when a later step's time limit is counted from it.
            if not limit_after[k]:
                break
        if step.optional:
            skipped_score, skipped = best(k + 1, last)
            found.append((skipped_score, (None, *skipped)))
        if not found:
            return (0, 0), (None,) * (len(steps) - k)
        return max(found, key=lambda option: option[0])

    return (start, *best(1, start)[1])


def attempts_of(funnel: Funnel, person: int, touches: Sequence[Touch]) -> list[Attempt]:
    """The attempts one person's time-ordered touches make: the best one, or every one with repeat."""
    first = funnel.steps[0]
    starts = [i for i, t in enumerate(touches) if step_matches(first, t.event, t.properties)]
    found: list[Attempt] = []
    best: tuple[tuple[int, int], Attempt] | None = None
    after = -1
    for start in starts:
        if start <= after:
            continue
        indexes = _best_from(funnel, touches, start)
        done = tuple(touches[i].at if i is not None else None for i in indexes)
        attempt = Attempt(person, touches[start].group or "", done)
        if funnel.repeat:
            found.append(attempt)
            after = max(i for i in indexes if i is not None)
            continue
        score = _score(funnel, done)
        if best is None or score > best[0]:
            best = (score, attempt)
        if all(d is not None for d in done):
            break
    if best is not None:
        found.append(best[1])
    return found


def _score(funnel: Funnel, done: tuple[datetime | None, ...]) -> tuple[int, int]:
    required = sum(1 for s, d in zip(funnel.steps, done, strict=True) if d is not None and not s.optional)
    return required, sum(1 for s, d in zip(funnel.steps, done, strict=True) if d is not None and s.optional)


def reached_before(funnel: Funnel, done: tuple[datetime | None, ...], k: int) -> bool:
    """Whether the attempt did the last required step before step k (step 1 for k = 1)."""
    for previous in range(k - 1, -1, -1):
        if not funnel.steps[previous].optional or previous == 0:
            return done[previous] is not None
    return False


def count(funnel: Funnel, attempts: Iterable[Attempt]) -> dict[str, GroupCounts]:
    """Per breakdown group: attempts reaching each step, dropped before each step, seconds from step 1."""
    size = len(funnel.steps)
    groups: dict[str, GroupCounts] = {}
    for attempt in attempts:
        counts = groups.setdefault(
            attempt.group, GroupCounts([0] * size, [0] * size, [[] for _ in range(size)])
        )
        start = attempt.done[0]
        for k, at in enumerate(attempt.done):
            if at is not None and start is not None:
                counts.people[k] += 1
                counts.seconds[k].append((at - start).total_seconds())
            elif k > 0 and reached_before(funnel, attempt.done, k):
                counts.dropped[k] += 1
    return groups


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fail(path: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{path}: {rule}", details=[{"field": path, "rule": rule}])


def _hours(raw: Any, path: str, *, maximum: float) -> timedelta:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= maximum:
        raise _fail(path, f"must be a number of hours above 0 and at most {maximum:g}")
    return timedelta(hours=raw)


def _filters(raw: Any, path: str) -> tuple[PropertyFilter, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(path, "must be an object of property: value or property: {op: value}")
    found = []
    for name, condition in raw.items():
        if isinstance(condition, dict):
            if len(condition) != 1 or next(iter(condition)) not in OPERATORS:
                raise _fail(f"{path}.{name}", f"must name one operator of {', '.join(OPERATORS)}")
            op, value = next(iter(condition.items()))
            if op == "in" and not isinstance(value, list):
                raise _fail(f"{path}.{name}.in", "must be a list")
        else:
            op, value = "eq", condition
        found.append(PropertyFilter(str(name), op, value))
    return tuple(found)


def parse_steps(text: str, *, window_hours: float) -> tuple[Step, ...]:
    """Steps from the API: event names separated by commas, or a JSON list of step objects.

    A step object is {"event": name, "where": {property: value or {op: value}}, "optional": bool,
    "within_hours": limit from the step before}.
    """
    raw: Any
    if text.lstrip().startswith("["):
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise _fail("steps", f"is not valid JSON ({exc})") from exc
    else:
        raw = [{"event": name.strip()} for name in text.split(",")]
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_STEPS:
        raise _fail("steps", f"must list 2 to {MAX_STEPS} steps")
    steps = []
    for index, item in enumerate(raw):
        path = f"steps[{index}]"
        if isinstance(item, str):
            item = {"event": item}
        if not isinstance(item, dict):
            raise _fail(path, "must be an event name or a step object")
        unknown = set(item) - {"event", "where", "optional", "within_hours"}
        if unknown:
            raise _fail(f"{path}.{sorted(unknown)[0]}", "is not a step field")
        event = item.get("event")
        if not isinstance(event, str) or not event.strip() or len(event) > 200:
            raise _fail(f"{path}.event", "must be an event name of 1 to 200 characters")
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            raise _fail(f"{path}.optional", "must be true or false")
        if optional and index in (0, len(raw) - 1):
            raise _fail(f"{path}.optional", "the first and the last step cannot be optional")
        within = item.get("within_hours")
        if within is not None and index == 0:
            raise _fail(f"{path}.within_hours", "the first step has no step before it")
        steps.append(
            Step(
                event=event.strip(),
                where=_filters(item.get("where"), f"{path}.where"),
                optional=optional,
                within=None
                if within is None
                else _hours(within, f"{path}.within_hours", maximum=window_hours),
            )
        )
    return tuple(steps)


def window_of(hours: float) -> timedelta:
    """The conversion window, checked."""
    return _hours(hours, "window_hours", maximum=MAX_WINDOW_HOURS)
