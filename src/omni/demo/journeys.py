"""The demo's journeys, and live shoppers so they have people.

The simulated history ends weeks ago and trigger events that old let nobody in, so live shoppers are
added: some abandon their carts (they wait for an order, then get the email listing the cart's items
through the console provider when the hour is up), some order within minutes (they convert and get
nothing); a few customers order again now (the post-purchase cross-sell lets them in, and their click &
collect orders are readied: the pickup notice names the store and the pickup code). The win-back journey
lets in the customers the predefined lapsed segment took in when the demo computed it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from omni.channels import service as channels_service
from omni.channels.schemas import MessageContent
from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.demo.live_orders import LiveOrders, place_live_orders
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.identity import service as identity_service
from omni.journeys import examples, tasks
from omni.journeys import service as journeys_service
from omni.journeys import stats as journeys_stats
from omni.journeys.schemas import JourneyCreate
from omni.kit.errors import OmniError
from omni.kit.time import utc_now
from omni.segments import service as segments_service
from omni.settings import Settings, get_settings

CART_JOURNEY = "Abandoned cart"
LIVE_SHOPPERS = 30


CROSS_SELL_JOURNEY = "Post-purchase cross-sell"
WIN_BACK_JOURNEY = "Win-back"
LAPSED_SEGMENT = "lapsed_customers"
LIVE_ORDERS = 12


@dataclass(frozen=True)
class JourneyActivity:
    name: str
    entered: int
    in_flight: int
    converted: int
    # node -> people who reached it, for the nodes that send a message
    sends: dict[str, int]

    def describe(self) -> str:
        reached = ", ".join(f"{node} {n:,}" for node, n in self.sends.items())
        return (
            f"{self.name}: {self.entered:,} entered, {self.in_flight:,} in flight, "
            f"{self.converted:,} converted" + (f"; reached send steps: {reached}" if reached else "")
        )


@dataclass(frozen=True)
class JourneysSummary:
    journey_id: int
    shoppers: int
    waiting: int
    converted: int
    live_orders: int = 0
    activity: list[JourneyActivity] = field(default_factory=list)
    # A message of the live data rendered for its person: (what, text).
    samples: list[tuple[str, str]] = field(default_factory=list)


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
    (
        CROSS_SELL_JOURNEY,
        "3 days after an order: what others bought with it, at their best hour (10% held out)",
        examples.post_purchase_cross_sell(after_days=3, holdout_percent=10),
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


def _win_back_journey(session: Session) -> int | None:
    lapsed = segments_service.by_key(session, LAPSED_SEGMENT)
    if lapsed is None:
        return None
    return _define(
        session,
        WIN_BACK_JOURNEY,
        "A customer lapses (no order in 90 days): an email offer; no order in 7 days: an SMS reminder",
        examples.win_back(segment_id=lapsed.id, wait_days=7),
    )


def _shoppers(
    user_ids: list[str], rng: random.Random, baskets: list[list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    now = utc_now()
    messages: list[dict[str, Any]] = []
    for n, user_id in enumerate(user_ids):
        cart_id = f"demo-cart-{now:%Y%m%d%H%M}-{n}"
        started = now - timedelta(minutes=rng.randint(5, 50))
        properties: dict[str, Any] = {"cart_id": cart_id, "currency": "TWD"}
        if baskets:  # the goods real customers ordered: the reminder lists the cart's items
            products = baskets[n % len(baskets)]
            total = sum(p["price_minor"] * p["quantity"] for p in products)
            properties |= {"products": products, "value": total / 100}
        base = {"type": "track", "userId": user_id, "properties": properties}
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


def _activity(session: Session, journey_ids: dict[str, int]) -> list[JourneyActivity]:
    found = []
    for name, journey_id in journey_ids.items():
        stats = journeys_stats.journey_stats(session, journey_id)
        sends = {n.node: n.reached for n in stats.nodes if n.type == "send"}
        found.append(JourneyActivity(name, stats.entered, stats.active, stats.converted, sends))
    return found


def _samples(session: Session, live: LiveOrders, settings: Settings) -> list[tuple[str, str]]:
    """The pickup notice and the cross-sell email of the first live orders, rendered for their people."""
    found: list[tuple[str, str]] = []
    wanted = [
        ("pickup SMS", live.ready_for_pickup[:1], examples.PICKUP, "sms", "text"),
        ("cross-sell email", live.placed[-1:], examples.CROSS_SELL, "email", "text"),
    ]
    for label, numbers, variants, channel, part in wanted:
        for number in numbers:
            kind, value = live.customers[number]
            profile_id = identity_service.find_profile(session, kind, value)
            if profile_id is None:
                continue
            try:
                _, rendered = channels_service.preview(
                    session,
                    profile_id=profile_id,
                    content=MessageContent(variants={channel: variants[channel]}),
                    about={"order_id": number},
                    settings=settings,
                )
            except OmniError as exc:
                found.append((label, f"not rendered: {exc.message}"))
                continue
            found.append((label, rendered[channel][part]))
    return found


def prepare_journeys(
    database: Database, settings: Settings | None = None, *, seed: int = 7
) -> JourneysSummary:
    """Define and activate the ready-made journeys, let live shoppers check out, and step them."""
    settings = settings or get_settings()
    rng = random.Random(seed)
    with database.unit_of_work() as session:
        journey_id = _cart_journey(session)
        journey_ids = {CART_JOURNEY: journey_id}
        for name, description, definition in READY_MADE:
            journey_ids[name] = _define(session, name, description, definition)
        win_back = _win_back_journey(session)
        if win_back is not None:
            journey_ids[WIN_BACK_JOURNEY] = win_back
    live = place_live_orders(database, count=LIVE_ORDERS, stamp=f"{utc_now():%Y%m%d%H%M}")
    with database.unit_of_work() as session:
        shoppers = _members(session, LIVE_SHOPPERS, rng)
        records = events_service.build_records(
            _shoppers(shoppers, rng, live.products), source="web:demo-shop", default_channel="web"
        )
        events_service.append_events(session, records)
    catch_up(database.sessions, ALL_CONSUMERS)
    tasks.run_due(database, settings)
    with database.unit_of_work() as session:
        counts = journeys_service.read(session, journey_id).counts
        activity = _activity(session, journey_ids)
        samples = _samples(session, live, settings)
    return JourneysSummary(
        journey_id=journey_id,
        shoppers=len(shoppers),
        waiting=counts.active,
        converted=counts.converted,
        live_orders=len(live.placed),
        activity=activity,
        samples=samples,
    )
