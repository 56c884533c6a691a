"""The simulated retailer's months as a stream of Segment messages, one person after another.

Each person is drawn from a random stream seeded by (seed, index), so the stream is deterministic, a run
for N customers is a prefix of a run for more, and memory stays bounded by one person's events.
"""

from __future__ import annotations

import math
import random
from calendar import monthrange
from collections.abc import Iterator
from datetime import date
from typing import Any

from omni.demo import purchases, sessions
from omni.demo.journey import Journey, opening_minutes
from omni.demo.people import Person, make_person
from omni.demo.retail_calendar import DAY_MS, MINUTE_MS, Activity, Calendar, Campaign
from omni.demo.touchpoints import Catalogue, SimulatedEvent
from omni.demo.world import build_world

__all__ = ["SimulatedEvent", "person_facts", "simulate", "window"]

Planned = tuple[int, int, str, Any]


def window(end: date, months: int) -> tuple[date, date]:
    """The first simulated day and the day after the last."""
    if months < 1:
        raise ValueError("simulate at least one month")
    year, month = divmod(end.year * 12 + end.month - 1 - months, 12)
    month += 1
    return date(year, month, min(end.day, monthrange(year, month)[1])), end


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _membership_where(rng: random.Random, person: Person) -> str:
    key = person.persona.key
    if key == "app_user":
        return "app"
    if key == "web_buyer":
        return "web"
    if key == "omnichannel":
        draw = rng.random()
        return "store" if draw < 0.5 else "app" if draw < 0.8 else "web"
    return "store"


def plan(journey: Journey) -> list[Planned]:
    """Draw the person's activities: how many of each kind, on which days (by season), at what time."""
    person, rng, cal = journey.person, journey.rng, journey.calendar
    persona = person.persona
    first = max(cal.day_index(person.active_from), 0)
    last = min(cal.day_index(person.active_until), cal.days)
    if last <= first:
        first, last = 0, cal.days
    months = (last - first) / 30.44
    appetite = rng.lognormvariate(0, 0.5)
    planned: list[Planned] = []
    kinds: tuple[tuple[str, float, Activity], ...] = (
        ("web", persona.web_sessions, "browse"),
        ("app", persona.app_sessions, "browse"),
        ("web_order", persona.web_orders / 12, "online_order"),
        ("app_order", persona.app_orders / 12, "online_order"),
        ("marketplace_order", persona.marketplace_orders / 12, "marketplace_order"),
        ("store_order", persona.store_orders / 12, "store_order"),
    )
    for kind, monthly, season in kinds:
        for _ in range(_poisson(rng, monthly * months * appetite)):
            planned.append(_at(journey, kind, cal.pick_day(rng, season, first, last), len(planned)))
    if not planned:
        primary = {"store_only": "store_order", "marketplace": "marketplace_order", "app_user": "app"}
        kind = primary.get(persona.key, "web")
        planned.append(_at(journey, kind, rng.randrange(first, last), 0))
    if person.account_since and cal.start <= person.account_since < cal.end:
        day = cal.day_index(person.account_since)
        channel = "app" if persona.app_sessions > persona.web_sessions else "web"
        planned.append((cal.online_time(rng, day), len(planned), "account", channel))
    if person.member_since and cal.start <= person.member_since < cal.end:
        day = cal.day_index(person.member_since)
        where = _membership_where(rng, person)
        at = journey.store_time(person.home_store, day) if where == "store" else cal.online_time(rng, day)
        planned.append((at, len(planned), "membership", where))
    for campaign in cal.campaigns:
        if campaign.day >= first:
            planned.append(
                (campaign.day * DAY_MS + campaign.minute * MINUTE_MS, len(planned), "campaign", campaign)
            )
    return planned


def _at(journey: Journey, kind: str, day: int, sequence: int) -> Planned:
    rng, cal = journey.rng, journey.calendar
    if kind == "store_order":
        person = journey.person
        store = person.home_store if rng.random() < 0.85 else rng.choice(list(journey.hours))
        return (journey.store_time(store, day), sequence, kind, store)
    return (cal.online_time(rng, day, rush=kind.endswith("order")), sequence, kind, None)


def _dispatch(journey: Journey, at: int, kind: str, argument: Any) -> None:
    if kind == "web":
        sessions.shop(journey, at, "web", buy=False)
    elif kind == "app":
        sessions.shop(journey, at, "app", buy=False)
    elif kind == "web_order":
        sessions.shop(journey, at, "web", buy=True)
    elif kind == "app_order":
        sessions.shop(journey, at, "app", buy=True)
    elif kind == "marketplace_order":
        purchases.marketplace_order(journey, at)
    elif kind == "store_order":
        purchases.store_order(journey, at, argument)
    elif kind == "account":
        sessions.open_account(journey, at, argument)
    elif kind == "membership":
        sessions.join_membership(journey, at, argument)
    elif kind == "campaign":
        assert isinstance(argument, Campaign)
        sessions.receive(journey, argument)


def live(journey: Journey, planned: list[Planned]) -> list[SimulatedEvent]:
    """Live through the planned activities and the follow-ups they schedule; events in time order."""
    for at, _, kind, argument in sorted(planned, key=lambda item: (item[0], item[1])):
        while journey.pending and journey.pending[0][0] <= at:
            purchases.run_follow_up(journey)
        _dispatch(journey, at, kind, argument)
    while journey.pending:
        purchases.run_follow_up(journey)
    journey.events.sort(key=lambda item: (item[0], item[1]))
    return [payload for _, _, payload in journey.events]


def person_facts(person: Person) -> dict[str, Any]:
    """The person's true facts as plain JSON values, carried on their first event for the ground truth."""
    return {
        "person_id": person.person_id,
        "name": person.name,
        "email": person.email,
        "phone": person.phone,
        "birthday": person.birthday.isoformat(),
        "gender": person.gender,
        "home_city": person.home_city,
        "home_store": person.home_store,
        "timezone": person.timezone,
        "persona": person.persona.key,
        "member_id": person.member_id,
        "member_since": person.member_since.isoformat() if person.member_since else None,
        "account_id": person.account_id,
    }


def simulate(
    *, customers: int = 5000, seed: int = 7, end: date = date(2026, 11, 1), months: int = 12
) -> Iterator[SimulatedEvent]:
    """Stream the simulated retailer's events, person by person, each person's events in time order."""
    start, end = window(end, months)
    world = build_world(seed)
    calendar = Calendar(start, end)
    catalogue = Catalogue(world)
    hours = opening_minutes(world)
    for index in range(customers):
        rng = random.Random(f"omni-demo-person:{seed}:{index}")
        person = make_person(rng, seed=seed, index=index, start=start, end=end)
        journey = Journey(person, rng, seed=seed, calendar=calendar, catalogue=catalogue, hours=hours)
        events = live(journey, plan(journey))
        events[0]["truth_person"] = person_facts(person)
        yield from events
