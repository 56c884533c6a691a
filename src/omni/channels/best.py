"""Best channel and best send time for one person, from how they engaged with earlier messages.

The rules are pure functions over engagement facts (an open, a click, a tap): a channel's score is the
sum of its recent engagements, each weighted by kind and halved every HALF_LIFE, so last week's clicks
outweigh last spring's opens; the best hour is the local hour of day the person most often opened or
clicked in, smoothed with its neighbours so one stray late-night open does not decide. The queries that
feed them read the event log through the person's attributed positions, so merges are followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.identity import service as identity_service

WINDOW = timedelta(days=90)
HALF_LIFE = timedelta(days=30)
# How far back the best hour looks: habits of a year ago (a different job, a different commute) fade.
HOUR_HISTORY = timedelta(days=365)
DEFAULT_HOUR = 10
OPEN, CLICK = 1.0, 2.0

# Engagement events and (channel, weight). Channels' own facts on SMS, WhatsApp and LINE are "Message ...",
# their channel in properties; the CRM's SMS campaigns (the demo's) log "SMS Link Clicked".
ENGAGEMENT_EVENTS: Mapping[str, tuple[str | None, float]] = {
    "Email Opened": ("email", OPEN),
    "Email Link Clicked": ("email", CLICK),
    "Push Notification Opened": ("push", OPEN),
    "Push Notification Tapped": ("push", CLICK),
    "SMS Link Clicked": ("sms", CLICK),
    "Message Opened": (None, OPEN),
    "Message Link Clicked": (None, CLICK),
}


@dataclass(frozen=True, slots=True)
class Engagement:
    """The person opened or clicked a message on channel at a moment."""

    channel: str
    at: datetime
    weight: float


def engagement_of(event: str | None, properties: Mapping[str, Any], at: datetime) -> Engagement | None:
    """The engagement an event on the log stands for, None when it is none."""
    known = ENGAGEMENT_EVENTS.get(event or "")
    if known is None:
        return None
    channel, weight = known
    channel = channel or properties.get("channel")
    return Engagement(channel, at, weight) if isinstance(channel, str) and channel else None


def channel_scores(
    engagements: Iterable[Engagement],
    *,
    now: datetime,
    window: timedelta = WINDOW,
    half_life: timedelta = HALF_LIFE,
) -> dict[str, float]:
    """Each channel's recent engagement: weights halved every half_life of age, nothing older than window."""
    scores: dict[str, float] = {}
    for engagement in engagements:
        age = now - engagement.at
        if age > window:
            continue
        decay = 0.5 ** (max(age, timedelta(0)) / half_life)
        scores[engagement.channel] = scores.get(engagement.channel, 0.0) + engagement.weight * decay
    return scores


def choose_channel(scores: Mapping[str, float], reachable: Sequence[str]) -> str | None:
    """The reachable channel with the highest score; ties (no history at all too) go to the earliest in
    reachable, the order the journey lists its channels in."""
    best: str | None = None
    for channel in reachable:
        if best is None or scores.get(channel, 0.0) > scores.get(best, 0.0):
            best = channel
    return best


def best_hour(local_hours: Iterable[int], *, default: int = DEFAULT_HOUR) -> int:
    """The hour of day (0-23) with the most engagements after smoothing each hour with its neighbours
    (weights 1-2-1, round midnight); default when there is no history; ties go to the earliest hour."""
    counts = [0] * 24
    for hour in local_hours:
        counts[hour % 24] += 1
    if not any(counts):
        return default
    smoothed = [counts[(h - 1) % 24] + 2 * counts[h] + counts[(h + 1) % 24] for h in range(24)]
    return max(range(24), key=lambda h: (smoothed[h], -h))


def _engagement_rows(session: Session, profile_id: int, *, since: datetime) -> list[Engagement]:
    positions = identity_service.attributed_positions(session, profile_id)
    rows = events_service.events_among(session, positions, names=list(ENGAGEMENT_EVENTS), since=since)
    found = (engagement_of(row.event, row.properties, row.timestamp) for row in rows)
    return [engagement for engagement in found if engagement is not None]


def recent_engagements(session: Session, profile_id: int, *, now: datetime) -> list[Engagement]:
    """The person's engagements within WINDOW before now."""
    return _engagement_rows(session, profile_id, since=now - WINDOW)


def engaged_hours(session: Session, profile_id: int, zone: ZoneInfo, *, now: datetime) -> list[int]:
    """The local hours (in zone) of the person's engagements within HOUR_HISTORY before now."""
    found = _engagement_rows(session, profile_id, since=now - HOUR_HISTORY)
    return [engagement.at.astimezone(zone).hour for engagement in found]
