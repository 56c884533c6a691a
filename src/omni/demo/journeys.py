"""The demo's journeys: the abandoned-cart journey, and a few shoppers checking out now so it has people.

The simulated history ends weeks ago and trigger events that old let nobody in, so live shoppers are
added: some abandon their carts (they wait for an order, then get the email through the console
provider when the hour is up), some order within minutes (they convert and get nothing).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.identity import service as identity_service
from omni.journeys import examples, tasks
from omni.journeys import service as journeys_service
from omni.journeys.schemas import JourneyCreate
from omni.kit.time import utc_now
from omni.settings import Settings, get_settings

CART_JOURNEY = "Abandoned cart"
LIVE_SHOPPERS = 30


@dataclass(frozen=True)
class JourneysSummary:
    journey_id: int
    shoppers: int
    waiting: int
    converted: int


# The other ready-made journeys: (name, description, definition). They run on events and dates as they come.
READY_MADE: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Welcome series",
        "A new member is welcomed on their best channel; no order in 3 days: a reminder at their best hour",
        examples.welcome_series(nudge_after_days=3),
    ),
    (
        "Ready for pickup",
        "A click & collect order is ready: LINE or SMS (transactional); not picked up in 2 days: a reminder",
        examples.pickup_ready(remind_after_days=2),
    ),
    (
        "Birthday offer",
        "On their birthday, an offer at their best hour on their best channel (10% held out)",
        examples.birthday_offer(holdout_percent=10),
    ),
]


def _define(session: Session, name: str, description: str, definition: dict[str, Any]) -> int:
    for existing in journeys_service.list_all(session):
        if existing.name == name:
            return existing.id
    body = JourneyCreate(name=name, description=description, definition=definition)
    created = journeys_service.create(session, body, by="demo")
    journeys_service.set_status(session, created.id, "active")
    return created.id


def _cart_journey(session: Session) -> int:
    return _define(
        session,
        CART_JOURNEY,
        "No order of the checked-out cart within an hour: email; a day later SMS (10% held out)",
        examples.cart_abandonment(wait_hours=1, holdout_percent=10),
    )


def _members(session: Session, count: int, rng: random.Random) -> list[str]:
    user_ids: list[str] = []
    for profile_id in identity_service.live_profile_ids(session):
        kinds = {i.kind: i.value for i in identity_service.identifiers_of(session, profile_id, resolved=True)}
        if "user_id" in kinds and "email" in kinds:
            user_ids.append(kinds["user_id"])
        if len(user_ids) >= count * 4:
            break
    return rng.sample(user_ids, min(count, len(user_ids)))


def _shoppers(user_ids: list[str], rng: random.Random) -> list[dict[str, Any]]:
    now = utc_now()
    messages: list[dict[str, Any]] = []
    for n, user_id in enumerate(user_ids):
        cart_id = f"demo-cart-{now:%Y%m%d%H%M}-{n}"
        started = now - timedelta(minutes=rng.randint(5, 50))
        base = {"type": "track", "userId": user_id, "properties": {"cart_id": cart_id, "currency": "TWD"}}
        messages.append(
            {
                **base,
                "event": "Checkout Started",
                "messageId": f"{cart_id}:checkout",
                "timestamp": started.isoformat(),
            }
        )
        if n % 3 == 0:  # a third buy within minutes
            ordered = started + timedelta(minutes=rng.randint(1, 4))
            messages.append(
                {
                    **base,
                    "event": "Order Completed",
                    "messageId": f"{cart_id}:order",
                    "timestamp": ordered.isoformat(),
                }
            )
    return messages


def prepare_journeys(
    database: Database, settings: Settings | None = None, *, seed: int = 7
) -> JourneysSummary:
    """Define and activate the ready-made journeys, let live shoppers check out, and step them."""
    settings = settings or get_settings()
    rng = random.Random(seed)
    with database.unit_of_work() as session:
        journey_id = _cart_journey(session)
        for name, description, definition in READY_MADE:
            _define(session, name, description, definition)
        shoppers = _members(session, LIVE_SHOPPERS, rng)
        records = events_service.build_records(
            _shoppers(shoppers, rng), source="web:demo-shop", default_channel="web"
        )
        events_service.append_events(session, records)
    catch_up(database.sessions, ALL_CONSUMERS)
    tasks.run_due(database, settings)
    with database.unit_of_work() as session:
        counts = journeys_service.read(session, journey_id).counts
    return JourneysSummary(
        journey_id=journey_id, shoppers=len(shoppers), waiting=counts.active, converted=counts.converted
    )
