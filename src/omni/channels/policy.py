"""Whether, and when, a message may go to a person: consent per channel and purpose, frequency caps across
channels, quiet hours in the person's own time zone, and how fast each provider may be called.

The rules are pure functions; the one query they need (what a person was recently sent) is in the
repository. A transactional message (a receipt, a pickup notice) is never capped nor held for quiet hours;
it only stops where the person refused transactional messages on that channel.
"""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Marketing on these channels needs a yes first (SMS and WhatsApp carriers and laws expect it); on the others
# it may go until the person says no (an unsubscribe link, a STOP, unfollowing, revoking a subscription).
OPT_IN_CHANNELS = frozenset({"sms", "whatsapp"})
# The retailer's own systems: no person's consent is involved.
NO_CONSENT_CHANNELS = frozenset({"webhook"})


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most limit messages of purpose within window, on one channel or (channel None) on all."""

    limit: int
    window: timedelta
    channel: str | None = None
    purpose: str = "marketing"

    def describe(self) -> str:
        where = f"{self.channel} " if self.channel else ""
        return f"at most {self.limit} {self.purpose} {where}message(s) in {self.window}"


@dataclass(frozen=True, slots=True)
class Policy:
    caps: tuple[FrequencyCap, ...] = (
        FrequencyCap(limit=3, window=timedelta(days=7)),
        FrequencyCap(limit=1, window=timedelta(days=1), channel="sms"),
        FrequencyCap(limit=1, window=timedelta(days=1), channel="whatsapp"),
    )
    quiet_start: time = time(21, 0)
    quiet_end: time = time(9, 0)
    default_timezone: str = "Asia/Taipei"


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Sent:
    """A message counted against frequency caps: its channel, purpose and when it went (or will go)."""

    channel: str
    purpose: str
    at: datetime


def consent_refusal(consent: Mapping[tuple[str, str], str], channel: str, purpose: str) -> str | None:
    """Why consent stops this message, or None; consent maps (channel, purpose) to granted/denied/unknown."""
    if channel in NO_CONSENT_CHANNELS:
        return None
    status = consent.get((channel, purpose), "unknown")
    if status == "denied":
        return f"the person refused {purpose} messages on {channel}"
    if purpose == "marketing" and channel in OPT_IN_CHANNELS and status != "granted":
        return f"{channel} marketing needs the person's opt-in"
    return None


def cap_reached(
    caps: Iterable[FrequencyCap], sent: Sequence[Sent], *, channel: str, purpose: str, now: datetime
) -> FrequencyCap | None:
    """The first cap one more message of channel and purpose would break, or None."""
    for cap in caps:
        if cap.purpose != purpose or (cap.channel is not None and cap.channel != channel):
            continue
        since = now - cap.window
        counted = sum(
            1
            for message in sent
            if message.purpose == cap.purpose
            and (cap.channel is None or message.channel == cap.channel)
            and message.at > since
        )
        if counted >= cap.limit:
            return cap
    return None


def longest_window(caps: Iterable[FrequencyCap]) -> timedelta:
    return max((cap.window for cap in caps), default=timedelta(0))


def zone(name: str | None, default: str) -> ZoneInfo:
    """The person's time zone, the shop's when they have none or an unknown one."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(now: datetime, tz: ZoneInfo, *, start: time, end: time) -> datetime:
    """now when it is outside quiet hours in tz, else the moment quiet hours end there (UTC-aware)."""
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time(), start, end):
        return now
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    # fold=0 and a round trip through UTC give the first valid moment even on a DST transition day.
    opens = datetime.combine(day, end, tzinfo=tz)
    return max(now, opens.astimezone(now.tzinfo))


@dataclass
class RateLimiter:
    """Token buckets per provider, so a burst never exceeds what the provider accepts (per process)."""

    rates: Mapping[str, float]
    now: Callable[[], float] = clock.monotonic
    sleep: Callable[[float], None] = clock.sleep
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def delay(self, provider: str) -> float:
        """Take one token for provider; the seconds to wait before using it (0 when free)."""
        rate = self.rates.get(provider)
        if not rate or rate <= 0:
            return 0.0
        with self._lock:
            at = self.now()
            tokens, last = self._buckets.get(provider, (max(rate, 1.0), at))
            tokens = min(max(rate, 1.0), tokens + (at - last) * rate) - 1.0
            self._buckets[provider] = (tokens, at)
            return 0.0 if tokens >= 0 else -tokens / rate

    def wait(self, provider: str) -> None:
        pause = self.delay(provider)
        if pause > 0:
            self.sleep(pause)
