"""Computed traits: which events count towards a definition, and how their values aggregate.

Numbers are summed as decimals (revenue arrives as 1290.5, never trust float addition with money) and
answered as an int when whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Aggregation = Literal[
    "count", "sum", "avg", "min", "max", "most_frequent", "first", "last", "unique", "unique_count"
]
AGGREGATIONS: tuple[str, ...] = (
    "count", "sum", "avg", "min", "max", "most_frequent", "first", "last", "unique", "unique_count",
)  # fmt: skip
NUMERIC = frozenset({"sum", "avg", "min", "max"})
FilterOp = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"]
MAX_UNIQUE = 100
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Filter:
    property: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Definition:
    id: int
    aggregation: str
    event: str
    property: str | None
    window_days: int | None
    filters: tuple[Filter, ...] = ()

    def cutoff(self, now: datetime) -> datetime | None:
        """Events before this instant fall outside the window; None for all time."""
        return window_start(now, self.window_days)


def window_start(now: datetime, window_days: int | None) -> datetime | None:
    """The first instant of a window of window_days that ends now; None for all time."""
    return now - timedelta(days=window_days) if window_days else None


@dataclass(frozen=True, slots=True)
class Input:
    """What one event contributes to one definition."""

    position: int
    occurred_at: datetime
    value: Any


def property_at(properties: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (a.b.c) of a property document, _MISSING where there is none."""
    value: Any = properties
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def as_number(value: Any) -> Decimal | None:
    """A property value as a decimal number; booleans and text that is not a number are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "in":
        return isinstance(expected, list) and actual in expected
    left, right = as_number(actual), as_number(expected)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def matches(definition: Definition, event: str | None, properties: Mapping[str, Any]) -> bool:
    """Whether an event counts towards definition: its name, then every property filter."""
    if event != definition.event:
        return False
    for rule in definition.filters:
        actual = property_at(properties, rule.property)
        if rule.op == "exists":
            if (actual is not _MISSING) != bool(rule.value if rule.value is not None else True):
                return False
        elif actual is _MISSING or not _compare(actual, rule.op, rule.value):
            return False
    return True


def contribution(definition: Definition, properties: Mapping[str, Any]) -> tuple[bool, Any]:
    """(counts, value): the value an event contributes; a numeric aggregation skips non-numbers."""
    if definition.property is None:
        return True, None
    value = property_at(properties, definition.property)
    if value is _MISSING or value is None:
        return False, None
    if definition.aggregation in NUMERIC:
        return as_number(value) is not None, value
    if isinstance(value, dict | list):
        # Lists and objects are not comparable values to count or list.
        return False, None
    return True, value


def _plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def aggregate(aggregation: str, inputs: Sequence[Input]) -> Any:
    """The computed value of inputs; None where there is nothing to aggregate (count gives 0)."""
    if aggregation == "count":
        return len(inputs)
    if not inputs:
        return [] if aggregation == "unique" else 0 if aggregation == "unique_count" else None
    ordered = sorted(inputs, key=lambda item: (item.occurred_at, item.position))
    if aggregation == "first":
        return ordered[0].value
    if aggregation == "last":
        return ordered[-1].value
    if aggregation in NUMERIC:
        numbers = [n for n in (as_number(item.value) for item in inputs) if n is not None]
        if not numbers:
            return None
        if aggregation == "sum":
            return _plain(sum(numbers, Decimal(0)))
        if aggregation == "avg":
            return _plain(sum(numbers, Decimal(0)) / len(numbers))
        return _plain(min(numbers) if aggregation == "min" else max(numbers))
    if aggregation == "most_frequent":
        counts = Counter(item.value for item in ordered)
        # Ties go to the value seen most recently: a person's current habit rather than an old one.
        last_seen = {item.value: index for index, item in enumerate(ordered)}
        return max(counts, key=lambda value: (counts[value], last_seen[value]))
    distinct = _distinct(item.value for item in ordered)
    if aggregation == "unique_count":
        return len(distinct)
    return distinct[:MAX_UNIQUE]


def _distinct(values: Iterable[Any]) -> list[Any]:
    seen: dict[tuple[str, Any], None] = {}
    for value in values:
        # 1 and True are equal in Python, not to a retailer.
        seen.setdefault((type(value).__name__, value), None)
    return [value for _, value in seen]
