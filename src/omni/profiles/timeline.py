"""The timeline: a profile's events newest first, paged by a cursor of (time, log position).

Events are ordered by when they happened, not by when they reached the log: a till that was offline sends
the morning's sales in the afternoon, and they belong in the morning. The log position breaks ties.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.kit.errors import ValidationFailed
from omni.kit.time import parse_iso

# Properties worth a glance on a timeline line, in the order they are shown.
SUMMARY_KEYS = (
    "order_id", "total", "revenue", "currency", "name", "title", "path", "url", "query", "store_code",
    "campaign_name", "email_subject", "channel", "purpose", "points", "reason",
)  # fmt: skip
MAX_SUMMARY_TEXT = 120
_CURSOR = re.compile(r"^(?P<micros>-?\d{1,20})\.(?P<position>\d{1,20})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Only events strictly before (occurred_at, position) come next."""

    occurred_at: datetime
    position: int | None


def encode_cursor(occurred_at: datetime, position: int) -> str:
    """An opaque, URL-safe cursor that resumes after the event at (occurred_at, position)."""
    delta = occurred_at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{position}"


def decode_cursor(raw: str) -> Cursor:
    """A cursor from next_before, or an ISO time meaning "before this instant"."""
    match = _CURSOR.match(raw.strip())
    try:
        if match:
            micros = int(match["micros"])
            occurred_at = datetime.fromtimestamp(micros // 1_000_000, tz=UTC).replace(
                microsecond=micros % 1_000_000
            )
            return Cursor(occurred_at=occurred_at, position=int(match["position"]))
        return Cursor(occurred_at=parse_iso(raw), position=None)
    except (ValueError, OverflowError, OSError):
        raise ValidationFailed(
            f"before={raw!r} is neither a cursor nor a time",
            details=[{"field": "before", "rule": "a next_before cursor or an ISO-8601 time"}],
        ) from None


def summary(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The few properties a timeline line shows; long text is cut, nested values left out."""
    shown: dict[str, Any] = {}
    for key in SUMMARY_KEYS:
        value = properties.get(key)
        if value is None or isinstance(value, dict | list):
            continue
        shown[key] = value[:MAX_SUMMARY_TEXT] if isinstance(value, str) else value
    products = properties.get("products")
    if isinstance(products, list) and products:
        shown["products"] = len(products)
    return shown
