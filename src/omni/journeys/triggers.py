"""What starts a journey and what a wait listens for, as pure rules over event properties and dates.

A keyed wait or goal is found by a match key, "<event>|<key>=<value>&...", computed the same way from
the trigger's key values when a person starts waiting and from an arriving event's properties: the
consumer then looks up exactly the rows holding that key through an index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from omni.journeys.definitions import DateTrigger, PropertyFilter

MAX_KEY_LENGTH = 300


def compare(op: str, actual: Any, expected: Any) -> bool:
    """Whether actual stands in relation op to expected; values of different kinds never order."""
    if op == "exists":
        return actual is not None and actual != ""
    if actual is None:
        return op == "ne" and expected is not None
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "contains":
        return isinstance(actual, str | list) and expected in actual
    try:
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        if op == "lt":
            return bool(actual < expected)
        if op == "lte":
            return bool(actual <= expected)
    except TypeError:
        return False  # "10" > 5: values of different kinds never satisfy an ordering
    raise ValueError(f"unknown operator {op}")


def matches(filters: Sequence[PropertyFilter], properties: Mapping[str, Any]) -> bool:
    """Whether properties pass every filter."""
    return all(compare(f.op, properties.get(f.property), f.value) for f in filters)


def key_values(fields: Sequence[str], properties: Mapping[str, Any]) -> dict[str, Any] | None:
    """The values of fields in properties; None when one is missing (such an event cannot be keyed)."""
    values = {field: properties.get(field) for field in fields}
    if any(value is None or value == "" for value in values.values()):
        return None
    return values


def match_key(event: str, fields: Sequence[str], values: Mapping[str, Any], *, profile_id: int) -> str:
    """The index key of a wait or goal: the event and its key values, or the person when unkeyed."""
    if fields:
        body = "&".join(f"{field}={json.dumps(values[field], sort_keys=True)}" for field in sorted(fields))
    else:
        body = f"profile={profile_id}"
    key = f"{event}|{body}"
    if len(key) > MAX_KEY_LENGTH:
        # Long keys are hashed, so the column and its index stay bounded; equal inputs stay equal.
        return f"{event[:200]}|sha256:{hashlib.sha256(body.encode()).hexdigest()}"
    return key


def parse_date(value: Any) -> date | None:
    """A trait's date (2026-06-01, or an ISO timestamp), None when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def date_due(trigger: DateTrigger, value: Any, today: date) -> bool:
    """Whether a person with this trait value enters today: trait date + offset_days is today.

    An annual trigger (birthdays) compares month and day only; someone born on 29 February is
    celebrated on 28 February in years without one.
    """
    found = parse_date(value)
    if found is None:
        return False
    if not trigger.annual:
        return (found.toordinal() + trigger.offset_days) == today.toordinal()
    shifted = date.fromordinal(today.toordinal() - trigger.offset_days)
    if (found.month, found.day) == (shifted.month, shifted.day):
        return True
    leap_day = (found.month, found.day) == (2, 29)
    return leap_day and (shifted.month, shifted.day) == (2, 28) and not _is_leap(shifted.year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
