"""Message frequency against engagement: in each person's week, how many messages reached them and
whether they opened or clicked any, so fatigue shows as engagement falling with frequency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from omni.analytics.repository import PersonEvent

SENT_EVENTS = frozenset(
    {"Email Sent", "Message Sent", "SMS Sent", "Push Notification Sent", "WhatsApp Sent", "LINE Sent"}
)
# Some senders report only deliveries; a message reported both ways counts once (see by_frequency).
DELIVERED_EVENTS = frozenset(
    {"Email Delivered", "Message Delivered", "SMS Delivered", "Push Notification Delivered"}
)
MESSAGE_EVENTS = SENT_EVENTS | DELIVERED_EVENTS
ENGAGEMENT_EVENTS = frozenset(
    {
        "Email Opened",
        "Email Link Clicked",
        "Message Opened",
        "Message Clicked",
        "SMS Link Clicked",
        "Push Notification Opened",
        "Push Notification Tapped",
        "WhatsApp Read",
        "LINE Clicked",
    }
)
TOP_BUCKET = 7
COLUMNS = ["messages_per_week", "person_weeks", "engaged_weeks", "engagement_rate"]


def week_of(event: PersonEvent, zone: ZoneInfo) -> date:
    """The Monday of the local week the event happened in."""
    day = event.at.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def by_frequency(events: Iterable[PersonEvent], zone: ZoneInfo) -> list[list[str | int | float]]:
    """Rows per number of messages in a person's week (7 and more together): person-weeks, those with an
    open or click, and the share engaged. Weeks without a message are not counted.

    Messages on a channel in a week are its sent events, or its delivered events when more were reported
    delivered than sent, so a sender reporting both is not counted twice.
    """
    sent: dict[tuple[int, date], dict[str, list[int]]] = {}
    engaged_weeks: set[tuple[int, date]] = set()
    for event in events:
        key = (event.person, week_of(event, zone))
        if event.event in MESSAGE_EVENTS:
            counts = sent.setdefault(key, {}).setdefault(event.channel, [0, 0])
            counts[event.event in DELIVERED_EVENTS] += 1
        elif event.event in ENGAGEMENT_EVENTS:
            engaged_weeks.add(key)
    buckets: dict[int, list[int]] = {}
    for key, channels in sent.items():
        messages = sum(max(counts) for counts in channels.values())
        bucket = buckets.setdefault(min(messages, TOP_BUCKET), [0, 0])
        bucket[0] += 1
        bucket[1] += key in engaged_weeks
    return [
        [f"{n}+" if n == TOP_BUCKET else str(n), weeks, engaged, round(engaged / weeks, 4)]
        for n, (weeks, engaged) in sorted(buckets.items())
    ]
