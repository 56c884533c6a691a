"""A segment definition: the JSON a marketer saves, read into typed conditions with every rule checked.

The JSON is a tree. Groups: {"all": [...]}, {"any": [...]}, {"not": {...}}. Conditions:
  {"trait": "city", "op": "eq", "value": "台北市"}
  {"computed_trait": "orders_90d", "op": "gte", "value": 2}
  {"tag": "vip-list"}
  {"event": "Product Viewed", "min_times": 3, "within_days": 7,
   "where": [{"property": "category", "op": "eq", "value": "鞋"}]}  ("performed": false for never)
  {"orders": "count" | "revenue" | "last_days" | "channels" | "revenue_top_percent", "op": "gte", "value": 2,
   "within_days": 365, "channel": "pos", "store": "TPE-XINYI", "category": "鞋"}
  {"rfm": {"r": [4, 5], "f": [4, 5], "m": [1, 5]}, "within_days": 365}
  {"consent": "email", "purpose": "marketing", "status": "granted" | "denied" | "unknown"}
  {"reachable": "email" | "sms" | "whatsapp" | "line" | "push"}
  {"segment": "cart_abandoners"}
A rule broken anywhere is reported with the JSON path of the offending condition ($.all[1].where[0].op).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from omni.segments.errors import DefinitionInvalid

OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")
NUMERIC_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
ORDER_METRICS = ("count", "revenue", "last_days", "channels", "revenue_top_percent")
CONSENT_CHANNELS = ("email", "sms", "whatsapp", "line", "push", "in_app")
REACHABLE_CHANNELS = ("email", "sms", "whatsapp", "line", "push")
CONSENT_STATUSES = ("granted", "denied", "unknown")
MAX_WINDOW_DAYS = 3650
MAX_DEPTH = 4
MAX_CONDITIONS = 100
MAX_TIMES = 1_000_000
Scalar = str | int | float | bool
PROPERTY_PATH = re.compile(r"^[\w\- ]+(\.[\w\- ]+)*$")


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison of a value with a constant; value is a tuple for "in", None for "exists"."""

    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class All:
    conditions: tuple[Node, ...]
    path: str


@dataclass(frozen=True, slots=True)
class Any_:
    conditions: tuple[Node, ...]
    path: str


@dataclass(frozen=True, slots=True)
class Not:
    condition: Node
    path: str


@dataclass(frozen=True, slots=True)
class Trait:
    name: str
    compare: Compare
    path: str


@dataclass(frozen=True, slots=True)
class ComputedTrait:
    name: str
    compare: Compare
    path: str


@dataclass(frozen=True, slots=True)
class Tag:
    tag: str
    path: str


@dataclass(frozen=True, slots=True)
class PropertyFilter:
    property: str
    compare: Compare


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    performed: bool
    min_times: int
    max_times: int | None
    within_days: int | None
    channel: str | None
    where: tuple[PropertyFilter, ...]
    path: str


@dataclass(frozen=True, slots=True)
class Orders:
    metric: str
    compare: Compare
    within_days: int | None
    channel: str | None
    store: str | None
    category: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Rfm:
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]
    within_days: int | None
    path: str


@dataclass(frozen=True, slots=True)
class Consent:
    channel: str
    purpose: str
    status: str
    path: str


@dataclass(frozen=True, slots=True)
class Reachable:
    channel: str
    path: str


@dataclass(frozen=True, slots=True)
class InSegment:
    key: str
    path: str


Node = All | Any_ | Not | Trait | ComputedTrait | Tag | Event | Orders | Rfm | Consent | Reachable | InSegment
LEAVES = (Trait, ComputedTrait, Tag, Event, Orders, Rfm, Consent, Reachable, InSegment)


@dataclass(frozen=True)
class Vocabulary:
    """What a definition may name: traits, events, computed traits and segments known to the store."""

    traits: Collection[str]
    events: Collection[str]
    computed_traits: Collection[str]
    segments: Collection[str]
    # The segments each known segment's current definition refers to, for finding cycles.
    segment_refs: Mapping[str, Collection[str]] = field(default_factory=dict)


def _fail(path: str, rule: str) -> DefinitionInvalid:
    return DefinitionInvalid(f"{path}: {rule}", details=[{"field": path, "rule": rule}])


def _text(raw: Mapping[str, Any], key: str, path: str, *, limit: int = 200) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _fail(f"{path}.{key}", f"a non-empty text of at most {limit} characters")
    return value.strip()


def _optional_text(raw: Mapping[str, Any], key: str, path: str) -> str | None:
    return _text(raw, key, path) if raw.get(key) is not None else None


def _count(raw: Mapping[str, Any], key: str, path: str, *, low: int, high: int) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{path}.{key}", f"a whole number from {low} to {high}")
    return value


def _window(raw: Mapping[str, Any], path: str) -> int | None:
    return _count(raw, "within_days", path, low=1, high=MAX_WINDOW_DAYS)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and not (isinstance(value, str) and len(value) > 500)


def _compare(raw: Mapping[str, Any], path: str, *, numeric: bool = False) -> Compare:
    op = raw.get("op", "eq")
    allowed = NUMERIC_OPS if numeric else OPS
    if op not in allowed:
        raise _fail(f"{path}.op", f"one of {', '.join(allowed)}")
    value = raw.get("value")
    if op == "exists":
        return Compare(op, None)
    if op == "in":
        if not isinstance(value, list) or not value or not all(_scalar(item) for item in value):
            raise _fail(f"{path}.value", "a non-empty list of texts, numbers or booleans for op in")
        return Compare(op, tuple(value))
    if numeric or op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(f"{path}.value", f"a number for op {op}")
        return Compare(op, value)
    if not _scalar(value):
        raise _fail(f"{path}.value", "a text, number or boolean")
    return Compare(op, value)


def _known(name: str, known: Collection[str], path: str, what: str) -> str:
    if name not in known:
        raise _fail(path, f"a known {what}; {name[:60]!r} is not one")
    return name


def _range(raw: Any, path: str) -> tuple[int, int]:
    if raw is None:
        return (1, 5)
    valid = isinstance(raw, list) and len(raw) == 2 and all(type(v) is int and 1 <= v <= 5 for v in raw)
    if not valid or raw[0] > raw[1]:
        raise _fail(path, "a score range [low, high] within 1..5, low not above high")
    return (raw[0], raw[1])


class _Reader:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.count = 0
        self.segments: list[tuple[str, str]] = []

    def node(self, raw: Any, path: str, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise _fail(path, f"at most {MAX_CONDITIONS} conditions in one definition")
        if depth > MAX_DEPTH:
            raise _fail(path, f"groups nested at most {MAX_DEPTH} deep")
        if not isinstance(raw, dict):
            raise _fail(path, "a JSON object")
        for key, read in self._readers().items():
            if key in raw:
                return read(raw, path, depth)
        raise _fail(path, f"a condition with one of: {', '.join(self._readers())}")

    def _readers(self) -> dict[str, Callable[[dict[str, Any], str, int], Node]]:
        return {
            "all": self._group,
            "any": self._group,
            "not": self._not,
            "trait": self._trait,
            "computed_trait": self._computed,
            "tag": self._tag,
            "event": self._event,
            "orders": self._orders,
            "rfm": self._rfm,
            "consent": self._consent,
            "reachable": self._reachable,
            "segment": self._segment,
        }

    def _group(self, raw: dict[str, Any], path: str, depth: int) -> Node:
        key = "all" if "all" in raw else "any"
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise _fail(f"{path}.{key}", "a non-empty list of conditions")
        nodes = tuple(self.node(item, f"{path}.{key}[{i}]", depth + 1) for i, item in enumerate(items))
        return All(nodes, path) if key == "all" else Any_(nodes, path)

    def _not(self, raw: dict[str, Any], path: str, depth: int) -> Node:
        return Not(self.node(raw["not"], f"{path}.not", depth + 1), path)

    def _trait(self, raw: dict[str, Any], path: str, _: int) -> Node:
        name = _known(_text(raw, "trait", path, limit=100), self.vocabulary.traits, f"{path}.trait", "trait")
        return Trait(name, _compare(raw, path), path)

    def _computed(self, raw: dict[str, Any], path: str, _: int) -> Node:
        name = _text(raw, "computed_trait", path, limit=64)
        _known(name, self.vocabulary.computed_traits, f"{path}.computed_trait", "computed trait")
        return ComputedTrait(name, _compare(raw, path, numeric=True), path)

    def _tag(self, raw: dict[str, Any], path: str, _: int) -> Node:
        return Tag(_text(raw, "tag", path, limit=64), path)

    def _event(self, raw: dict[str, Any], path: str, _: int) -> Node:
        name = _known(_text(raw, "event", path), self.vocabulary.events, f"{path}.event", "event")
        performed = raw.get("performed", True)
        if not isinstance(performed, bool):
            raise _fail(f"{path}.performed", "true or false")
        low = _count(raw, "min_times", path, low=1, high=MAX_TIMES) or 1
        high = _count(raw, "max_times", path, low=0, high=MAX_TIMES)
        if high is not None and high < low:
            raise _fail(f"{path}.max_times", f"not below min_times ({low})")
        where_raw = raw.get("where", [])
        if not isinstance(where_raw, list):
            raise _fail(f"{path}.where", "a list of property filters")
        where = []
        for i, item in enumerate(where_raw):
            at = f"{path}.where[{i}]"
            if not isinstance(item, dict):
                raise _fail(at, "a JSON object")
            prop = _text(item, "property", at)
            if not PROPERTY_PATH.match(prop):
                raise _fail(f"{at}.property", "a property name or dotted path (letters, digits, _ - space)")
            where.append(PropertyFilter(prop, _compare(item, at)))
        return Event(
            event=name,
            performed=performed,
            min_times=low,
            max_times=high,
            within_days=_window(raw, path),
            channel=_optional_text(raw, "channel", path),
            where=tuple(where),
            path=path,
        )

    def _orders(self, raw: dict[str, Any], path: str, _: int) -> Node:
        metric = raw["orders"]
        if metric not in ORDER_METRICS:
            raise _fail(f"{path}.orders", f"one of {', '.join(ORDER_METRICS)}")
        compare = _compare(raw, path, numeric=True)
        if metric == "revenue_top_percent" and not (compare.op == "lte" and 0 < compare.value <= 100):
            raise _fail(f"{path}.value", "op lte and a percentage above 0 and at most 100")
        within = _window(raw, path)
        if metric == "last_days" and within is not None:
            raise _fail(f"{path}.within_days", "no window: last_days already counts days back")
        if metric == "last_days" and compare.value > MAX_WINDOW_DAYS:
            raise _fail(f"{path}.value", f"at most {MAX_WINDOW_DAYS} days")
        return Orders(
            metric=metric,
            compare=compare,
            within_days=within,
            channel=_optional_text(raw, "channel", path),
            store=_optional_text(raw, "store", path),
            category=_optional_text(raw, "category", path),
            path=path,
        )

    def _rfm(self, raw: dict[str, Any], path: str, _: int) -> Node:
        scores = raw["rfm"]
        if not isinstance(scores, dict) or not set(scores) <= {"r", "f", "m"}:
            raise _fail(f"{path}.rfm", "an object of score ranges r, f, m")
        return Rfm(
            r=_range(scores.get("r"), f"{path}.rfm.r"),
            f=_range(scores.get("f"), f"{path}.rfm.f"),
            m=_range(scores.get("m"), f"{path}.rfm.m"),
            within_days=_window(raw, path),
            path=path,
        )

    def _consent(self, raw: dict[str, Any], path: str, _: int) -> Node:
        channel = raw["consent"]
        if channel not in CONSENT_CHANNELS:
            raise _fail(f"{path}.consent", f"one of {', '.join(CONSENT_CHANNELS)}")
        purpose = raw.get("purpose", "marketing")
        if purpose not in ("marketing", "transactional"):
            raise _fail(f"{path}.purpose", "marketing or transactional")
        status = raw.get("status", "granted")
        if status not in CONSENT_STATUSES:
            raise _fail(f"{path}.status", f"one of {', '.join(CONSENT_STATUSES)}")
        return Consent(channel, purpose, status, path)

    def _reachable(self, raw: dict[str, Any], path: str, _: int) -> Node:
        channel = raw["reachable"]
        if channel not in REACHABLE_CHANNELS:
            raise _fail(f"{path}.reachable", f"one of {', '.join(REACHABLE_CHANNELS)}")
        return Reachable(channel, path)

    def _segment(self, raw: dict[str, Any], path: str, _: int) -> Node:
        key = _known(
            _text(raw, "segment", path, limit=64), self.vocabulary.segments, f"{path}.segment", "segment"
        )
        self.segments.append((key, f"{path}.segment"))
        return InSegment(key, path)


def parse(raw: Any, vocabulary: Vocabulary, *, own_key: str | None = None) -> Node:
    """The typed tree of a definition; DefinitionInvalid (422) names the path and rule of the first problem.

    own_key is the key of the segment being saved: a definition that leads back to it through segment
    conditions would make membership depend on itself, and is refused.
    """
    reader = _Reader(vocabulary)
    tree = reader.node(raw, "$", 0)
    if own_key is not None:
        for key, path in reader.segments:
            cycle = _path_to(key, own_key, vocabulary.segment_refs, [own_key, key])
            if cycle:
                raise _fail(path, f"no cycle between segments; {' -> '.join(cycle)} leads back")
    return tree


def _path_to(start: str, goal: str, refs: Mapping[str, Collection[str]], trail: list[str]) -> list[str]:
    if start == goal:
        return trail
    for nxt in sorted(refs.get(start, ())):
        if nxt not in trail[1:]:
            found = _path_to(nxt, goal, refs, [*trail, nxt])
            if found:
                return found
    return []


def referenced_segments(tree: Node) -> set[str]:
    """Keys of the segments a definition's conditions refer to."""
    found: set[str] = set()
    for node in leaves(tree):
        if isinstance(node, InSegment):
            found.add(node.key)
    return found


def leaves(tree: Node) -> list[Node]:
    """The conditions of a tree, depth first."""
    if isinstance(tree, All | Any_):
        return [leaf for child in tree.conditions for leaf in leaves(child)]
    if isinstance(tree, Not):
        return leaves(tree.condition)
    return [tree]
