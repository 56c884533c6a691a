"""The retail calendar of the simulation: seasonality of each kind of activity, campaigns, and clock times."""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Literal

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
# Lunar New Year's day (春節); the calendar falls back to 1 February for years not listed.
LUNAR_NEW_YEAR = {
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
}
# Relative traffic by local hour: online peaks in the evening, with a lunch break bump.
ONLINE_HOURS = (
    3,
    2,
    1,
    0.5,
    0.3,
    0.3,
    0.8,
    1.5,
    2,
    2.5,
    3,
    3.5,
    5,
    4.5,
    3.5,
    3.5,
    3.5,
    4,
    4.5,
    6,
    8,
    9.5,
    9,
    6,
)

Activity = Literal["browse", "online_order", "marketplace_order", "store_order"]
ACTIVITIES: tuple[Activity, ...] = ("browse", "online_order", "marketplace_order", "store_order")
MessageChannel = Literal["email", "sms", "push"]


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    channel: MessageChannel
    day: int
    minute: int
    url: str
    sale: bool


def _boost(day: date) -> tuple[float, float, float, float]:
    """Multipliers of (browsing, online orders, marketplace orders, store orders) for one day."""
    year = day.year
    new_year = LUNAR_NEW_YEAR.get(year, date(year, 2, 1))
    to_new_year = (day - new_year).days
    month_day = (day.month, day.day)
    boosts: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    if month_day == (11, 11):
        boosts = (3.0, 14.0, 16.0, 2.0)
    elif month_day == (11, 10):
        boosts = (1.8, 2.2, 2.5, 1.2)
    elif month_day == (11, 12):
        boosts = (1.3, 2.0, 2.0, 1.1)
    elif month_day == (12, 12):
        boosts = (1.8, 3.5, 4.0, 1.2)
    elif month_day == (6, 18):
        boosts = (1.6, 3.0, 3.5, 1.1)
    elif -21 <= to_new_year <= -2:
        boosts = (1.3, 1.5, 1.2, 1.7)
    elif to_new_year == -1:
        boosts = (0.6, 0.4, 0.4, 0.3)
    elif 0 <= to_new_year <= 3:
        boosts = (0.9, 0.7, 0.6, 1.3)
    elif day.month == 7 and day.day <= 14:
        boosts = (1.3, 1.7, 1.3, 1.5)
    elif (10, 20) <= month_day <= (11, 5):
        boosts = (1.2, 1.3, 1.0, 1.6)
    elif day.month == 12 and 20 <= day.day <= 25:
        boosts = (1.2, 1.3, 1.1, 1.4)
    weekday = day.weekday()
    if weekday >= 5:
        return (boosts[0] * 1.15, boosts[1] * 1.1, boosts[2] * 1.05, boosts[3] * 1.8)
    if weekday == 4:
        return (boosts[0], boosts[1], boosts[2], boosts[3] * 1.2)
    return boosts


def _sale(day: date) -> tuple[str, int] | None:
    """The coupon code and percentage off on a sale day."""
    month_day = (day.month, day.day)
    to_new_year = (day - LUNAR_NEW_YEAR.get(day.year, date(day.year, 2, 1))).days
    if month_day == (11, 11):
        return ("DOUBLE11", 11)
    if month_day == (12, 12):
        return ("DOUBLE12", 12)
    if month_day == (6, 18):
        return ("MID618", 10)
    if day.month == 7 and day.day <= 14:
        return ("SUMMER", 20)
    if (10, 20) <= month_day <= (11, 5):
        return ("ANNIVERSARY", 10)
    if -21 <= to_new_year <= -2:
        return ("LNY", 8)
    return None


class Calendar:
    """The simulated months: which day each kind of activity falls on, and how local time maps to UTC."""

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.end = end
        self.days = (end - start).days
        self.dates = [start + timedelta(days=i) for i in range(self.days)]
        boosts = [_boost(day) for day in self.dates]
        self._cumulative = {
            activity: list(accumulate(boost[position] for boost in boosts))
            for position, activity in enumerate(ACTIVITIES)
        }
        self.epoch_ms = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
        self._prefix: dict[int, str] = {}
        self.double_eleven = {(d - start).days for d in self.dates if (d.month, d.day) == (11, 11)}
        self._hours = list(accumulate(ONLINE_HOURS))
        rush = [w * (8 if hour == 0 else 1) for hour, w in enumerate(ONLINE_HOURS)]
        self._rush_hours = list(accumulate(rush))
        self.sales = {i: sale for i, day in enumerate(self.dates) if (sale := _sale(day))}
        self.campaigns = tuple(sorted(_campaigns(start, end), key=lambda c: (c.day, c.minute)))

    def day_index(self, day: date) -> int:
        """Days since the first simulated day."""
        return (day - self.start).days

    def pick_day(self, rng: random.Random, activity: Activity, first: int, last: int) -> int:
        """A day in [first, last) for the activity, following its seasonality."""
        cumulative = self._cumulative[activity]
        low = cumulative[first - 1] if first else 0.0
        point = low + rng.random() * (cumulative[last - 1] - low)
        return min(bisect(cumulative, point, first, last), last - 1)

    def online_time(self, rng: random.Random, day: int, *, rush: bool = False) -> int:
        """A local time on the day (ms since the window's first local midnight) when people shop online."""
        hours = self._rush_hours if rush and day in self.double_eleven else self._hours
        hour = bisect(hours, rng.random() * hours[-1])
        return day * DAY_MS + hour * HOUR_MS + rng.randrange(HOUR_MS)

    def utc_ms(self, local_ms: int, offset_hours: int) -> int:
        """UTC milliseconds since the epoch of a local time in a zone offset_hours ahead of UTC."""
        return self.epoch_ms + local_ms - offset_hours * HOUR_MS

    def iso(self, utc_ms: int) -> str:
        """ISO-8601 UTC with milliseconds and a Z, as SDKs send timestamps."""
        day, rest = divmod(utc_ms, DAY_MS)
        prefix = self._prefix.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
            self._prefix[day] = prefix
        hours, rest = divmod(rest, HOUR_MS)
        minutes, rest = divmod(rest, MINUTE_MS)
        seconds, millis = divmod(rest, 1000)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


SALES = (
    # (month, day, zh-TW name, slug, sms, email and push days before the sale day)
    (11, 11, "雙11 全館 89 折", "double-11", 1, (2, 0)),
    (12, 12, "雙12 年終回饋", "double-12", 1, (2,)),
    (6, 18, "618 年中慶", "mid-year-618", 1, (2,)),
    (7, 1, "夏季特賣開跑", "summer-sale", 0, (0,)),
    (10, 20, "週年慶 會員加碼", "anniversary", 0, (0,)),
)
NEWSLETTERS = ("新品上市", "本週精選穿搭", "會員限定好康", "居家生活提案", "美妝新品試用", "週末限定優惠")
SHOP = "https://shop.omni.demo"


def _campaigns(start: date, end: date) -> list[Campaign]:
    campaigns: list[Campaign] = []

    def add(day: date, minute: int, name: str, slug: str, channel: MessageChannel, sale: bool) -> None:
        if start <= day < end:
            campaign_id = f"cmp-{day:%Y%m%d}-{channel}-{len(campaigns)}"
            url = (
                f"{SHOP}/campaign/{slug}?utm_source={channel}&utm_medium={channel}&utm_campaign={campaign_id}"
            )
            campaigns.append(Campaign(campaign_id, name, channel, (day - start).days, minute, url, sale))

    for year in range(start.year, end.year + 1):
        for month, day_of_month, name, slug, sms_before, email_before in SALES:
            sale_day = date(year, month, day_of_month)
            for before in email_before:
                add(
                    sale_day - timedelta(days=before),
                    9 * 60 if before == 0 else 12 * 60,
                    name,
                    slug,
                    "email",
                    True,
                )
            add(sale_day - timedelta(days=sms_before), 10 * 60, name, slug, "sms", True)
            add(sale_day, 5 if (month, day_of_month) == (11, 11) else 20 * 60, name, slug, "push", True)
        new_year = LUNAR_NEW_YEAR.get(year, date(year, 2, 1))
        new_year_sends: tuple[tuple[MessageChannel, int], ...] = (
            ("email", 720),
            ("sms", 600),
            ("push", 1200),
        )
        for channel, minute in new_year_sends:
            add(new_year - timedelta(days=20), minute, "新春開運福袋", "lunar-new-year", channel, True)
    first_thursday = start + timedelta(days=(3 - start.weekday()) % 7)
    for number, day_offset in enumerate(range(0, (end - first_thursday).days, 14)):
        day = first_thursday + timedelta(days=day_offset)
        name = NEWSLETTERS[number % len(NEWSLETTERS)]
        add(day, 12 * 60, name, f"newsletter-{number + 1}", "email", False)
        add(day + timedelta(days=1), 20 * 60, name, f"newsletter-{number + 1}", "push", False)
    return campaigns
