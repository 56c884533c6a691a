"""Best channel and best send hour against random choice, on the demo's simulated engagement.

The demo's simulator delivers the retailer's email and SMS campaigns to its people, who open and click
them (or not); its events are read straight from the simulator, person by person. History is split in
time: the first 9 months train (`omni.channels.best` picks each person's channel and hour as it would
on the split day), the last 3 months judge.

- channel: for each person reached on both email and SMS in the last 3 months, the engagement rate
  (messages opened or clicked / messages delivered) on the chosen channel, against the expected rate of a
  channel picked at random among those two. Both are averaged over the same people.
- hour: among last-3-months email deliveries, the open rate of those delivered within an hour of the
  person's best local hour (Asia/Taipei, the retailer's zone), against those within an hour of a random
  hour drawn per person with a fixed seed. The simulator's people open regardless of the hour a campaign
  goes out (their opens trail deliveries by hours), so expect this ratio near 1: there is little to learn.

Run: `.venv/bin/python -m bench.best_channel` (options: --customers, --seed).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from omni.channels import best
from omni.demo.simulate import SimulatedEvent, simulate, window

CHANNELS = ("email", "sms")
ZONE = ZoneInfo("Asia/Taipei")
END = date(2026, 11, 1)


@dataclass
class Person:
    engagements: list[best.Engagement] = field(default_factory=list)
    # (channel, delivered at, message key) and the keys that were opened or clicked
    deliveries: list[tuple[str, datetime, str]] = field(default_factory=list)
    engaged: set[str] = field(default_factory=set)


def _key(channel: str, properties: dict[str, object]) -> str:
    return f"{channel}:{properties.get('email_id') or properties.get('campaign_id')}"


def read_person(events: Iterable[SimulatedEvent]) -> Person:
    person = Person()
    for event in events:
        name, properties = event.get("event"), dict(event.get("properties") or {})
        at = datetime.fromisoformat(event["timestamp"]).astimezone(UTC)
        if name in ("Email Delivered", "SMS Delivered"):
            channel = "email" if name == "Email Delivered" else "sms"
            person.deliveries.append((channel, at, _key(channel, properties)))
        found = best.engagement_of(name, properties, at)
        if found is not None:
            person.engagements.append(found)
            person.engaged.add(_key(found.channel, properties))
    return person


def _near(hour: int, other: int) -> bool:
    return min((hour - other) % 24, (other - hour) % 24) <= 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start, end = window(END, 12)
    split = datetime.combine(window(END, 3)[0], datetime.min.time(), tzinfo=UTC)
    rng = random.Random(f"bench-best:{args.seed}")
    began = time.perf_counter()
    chosen_rates: list[float] = []
    random_rates: list[float] = []
    hour_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # way -> [delivered, opened]
    people = 0
    stream = simulate(customers=args.customers, seed=args.seed, end=END, months=12)
    for _, events in groupby(stream, key=lambda event: event["truth_person_id"]):
        person = read_person(events)
        people += 1
        train = [e for e in person.engagements if e.at < split]
        test = [(c, at, key) for c, at, key in person.deliveries if at >= split]
        rates = {}
        for channel in CHANNELS:
            keys = [key for c, _, key in test if c == channel]
            if keys:
                rates[channel] = sum(key in person.engaged for key in keys) / len(keys)
        if len(rates) == 2:
            chosen = best.choose_channel(best.channel_scores(train, now=split), list(CHANNELS))
            assert chosen is not None
            chosen_rates.append(rates[chosen])
            random_rates.append(sum(rates.values()) / len(rates))
        hours = [e.at.astimezone(ZONE).hour for e in train if e.at >= split - best.HOUR_HISTORY]
        ways = {"best": best.best_hour(hours), "random": rng.randrange(24)}
        for channel, at, key in test:
            if channel != "email":
                continue
            local = at.astimezone(ZONE).hour
            for way, hour in ways.items():
                if _near(local, hour):
                    hour_counts[way][0] += 1
                    hour_counts[way][1] += key in person.engaged
    elapsed = time.perf_counter() - began
    print(f"demo simulation {start}..{end}, {people} people, train < {split.date()}, {elapsed:.1f}s")
    if chosen_rates:
        chosen_mean = sum(chosen_rates) / len(chosen_rates)
        random_mean = sum(random_rates) / len(random_rates)
        ratio = chosen_mean / random_mean if random_mean else float("nan")
        print(
            f"channel  people on email+SMS {len(chosen_rates)}: engagement rate best {chosen_mean:.3f}, "
            f"random {random_mean:.3f}, ratio {ratio:.2f}"
        )
    rates_by_way = {
        way: (opened / delivered if delivered else 0.0) for way, (delivered, opened) in hour_counts.items()
    }
    if rates_by_way.get("random"):
        print(
            f"hour     emails near best hour {hour_counts['best'][0]}, "
            f"near random hour {hour_counts['random'][0]}: "
            f"open rate best {rates_by_way['best']:.3f}, random {rates_by_way['random']:.3f}, "
            f"ratio {rates_by_way['best'] / rates_by_way['random']:.2f}"
        )


if __name__ == "__main__":
    main()
