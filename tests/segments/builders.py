"""A small retailer's customers, logged, stitched and indexed through the product's own services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from omni.identity import service as identity_service
from omni.segments import service
from omni.segments.schemas import SegmentCreate
from tests.profiles.builders import NOW, at, identify, ingest, order, track

__all__ = ["NOW", "at", "identify", "ingest", "order", "track", "make_segment", "person", "shop"]


def person(session: Session, user_id: str) -> int:
    """The live profile of a userId."""
    found = identity_service.find_profile(session, "user_id", user_id)
    assert found is not None, user_id
    return found


def make_segment(session: Session, key: str, definition: dict[str, Any], *, name: str | None = None) -> int:
    return service.create(
        session, SegmentCreate(key=key, name=name or key, definition=definition), by="test"
    ).id


def shop(session: Session) -> None:
    """Five customers whose histories exercise every kind of condition.

    ann: viewed shoes 3 times this week, no order; email yes; tagged later by tests.
    bob: viewed shoes twice, ordered on web and in a store (2 orders, NT$3,000 + NT$500).
    cai: one big pos order 200 days ago (NT$20,000), sms no.
    dan: viewed bags (not shoes) 4 times, one app order 10 days ago (NT$900).
    eve: only an identify from the CRM (city 台中市), email no.
    """
    shoes = {"category": "鞋", "sku": "SH-1"}
    ingest(
        session,
        identify(
            "ann-id",
            user_id="ann",
            traits={"email": "Ann@Example.com", "city": "台北市", "email_opt_in": True},
            when=at(30),
        ),
        *(
            track(f"ann-v{i}", "Product Viewed", when=at(i + 1), properties=shoes, user_id="ann")
            for i in range(3)
        ),
        identify(
            "bob-id",
            user_id="bob",
            traits={"email": "bob@example.com", "city": "台北市", "age": 41},
            when=at(60),
        ),
        *(
            track(f"bob-v{i}", "Product Viewed", when=at(i + 1), properties=shoes, user_id="bob")
            for i in range(2)
        ),
        order("bob-o1", user_id="bob", revenue=3000, when=at(20), products=[{"category": "鞋"}]),
        identify("dan-id", user_id="dan", traits={"phone": "0912-345-678", "city": "高雄市"}, when=at(90)),
        *(
            track(f"dan-v{i}", "Product Viewed", when=at(i + 1), properties={"category": "包"}, user_id="dan")
            for i in range(4)
        ),
    )
    ingest(
        session,
        order("bob-o2", user_id="bob", revenue=500, when=at(5), store_code="TPE-XINYI"),
        source="pos:TPE-XINYI",
    )
    ingest(session, order("dan-o1", user_id="dan", revenue=900, when=at(10)), source="app")
    ingest(
        session,
        identify(
            "cai-id", user_id="cai", traits={"phone": "0987-654-321", "sms_opt_in": False}, when=at(300)
        ),
        order("cai-o1", user_id="cai", revenue=20000, when=at(200), store_code="TPE-XINYI"),
        source="pos:TPE-XINYI",
    )
    ingest(
        session,
        identify(
            "eve-id",
            user_id="eve",
            traits={"city": "台中市", "email": "eve@example.com", "email_opt_in": False},
            when=at(3),
        ),
        source="crm",
    )


def at_time(days_ago: float) -> datetime:
    return at(days_ago)
