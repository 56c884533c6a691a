"""Journeys, people and events for journey tests, made through the products' own services."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.channels.models import ChannelMessage
from omni.events import service as events_service
from omni.journeys import reactions, service
from omni.journeys.models import JourneyRun, JourneyStep
from omni.journeys.schemas import JourneyCreate, JourneyRead
from omni.settings import Settings
from tests.channels.builders import member, settings_for
from tests.identity.builders import stitch_new

__all__ = ["member", "settings_for"]

# Noon in Taipei: outside quiet hours, so marketing messages are due at once.
NOON = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
EMAIL = {"subject": "Your cart, {{ profile.first_name }}", "text": "Still thinking it over?"}
SMS = {"text": "{{ profile.first_name }}, your cart is waiting"}

CART: dict[str, Any] = {
    "trigger": {"type": "event", "event": "Checkout Started", "keys": ["cart_id"]},
    "start": "wait_order",
    "nodes": {
        "wait_order": {
            "type": "wait_event",
            "event": "Order Completed",
            "keys": ["cart_id"],
            "timeout": {"hours": 1},
            "next": "bought",
            "timeout_next": "email",
        },
        "email": {
            "type": "send",
            "channel": "email",
            "message": {"variants": {"email": EMAIL}},
            "next": "day",
        },
        "day": {"type": "delay", "duration": {"days": 1}, "next": "split"},
        "split": {
            "type": "random_split",
            "branches": [{"percent": 90, "next": "sms"}, {"percent": 10, "next": "done", "holdout": True}],
        },
        "sms": {"type": "send", "channel": "sms", "message": {"variants": {"sms": SMS}}, "next": "done"},
        "bought": {"type": "goal"},
        "done": {"type": "exit"},
    },
    "goal": {"event": "Order Completed", "keys": ["cart_id"], "within": {"days": 3}},
    "reentry": {"policy": "always"},
}


def cart(**changes: Any) -> dict[str, Any]:
    """The cart-abandonment definition, with top-level fields replaced."""
    return {**copy.deepcopy(CART), **changes}


def journey(
    session: Session, definition: dict[str, Any], *, name: str = "Cart", active: bool = True
) -> JourneyRead:
    created = service.create(session, JourneyCreate(name=name, definition=definition), by="test")
    return service.set_status(session, created.id, "active") if active else created


def track(
    event: str, message_id: str, *, user_id: str = "c1", at: datetime = NOON, **properties: Any
) -> dict[str, Any]:
    return {
        "type": "track",
        "event": event,
        "userId": user_id,
        "messageId": message_id,
        "timestamp": at.isoformat(),
        "properties": properties,
    }


def log_and_react(session: Session, *payloads: dict[str, Any], now: datetime = NOON) -> None:
    """Log events, stitch them to people and let journeys react, as the workers would."""
    before = events_service.head_position(session)
    records = events_service.build_records(list(payloads), source="web", default_channel="web")
    events_service.append_events(session, records)
    stitch_new(session, after=before)
    reactions.handle_events(session, events_service.events_after(session, before, limit=10_000), now=now)


def react_since(session: Session, before: int, *, now: datetime = NOON) -> None:
    """Let journeys react to what the services logged after a position (an order's events), as the
    workers would: stitch the events to people, then hand them to the journeys."""
    stitch_new(session, after=before)
    reactions.handle_events(session, events_service.events_after(session, before, limit=10_000), now=now)


def step(session: Session, settings: Settings, now: datetime) -> tuple[int, int]:
    return service.step_due(session, settings, now=now, limit=10_000)


def runs(session: Session, journey_id: int) -> list[JourneyRun]:
    return list(
        session.scalars(
            select(JourneyRun)
            .where(JourneyRun.journey_id == journey_id)
            .order_by(JourneyRun.id)
            .execution_options(populate_existing=True)
        )
    )


def path_of(session: Session, run_id: int) -> list[tuple[str, str]]:
    return [
        (s.node, s.outcome)
        for s in session.scalars(
            select(JourneyStep).where(JourneyStep.run_id == run_id).order_by(JourneyStep.id)
        )
    ]


def messages(session: Session) -> list[ChannelMessage]:
    return list(session.scalars(select(ChannelMessage).order_by(ChannelMessage.id)))
