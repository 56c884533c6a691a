"""A small hand-built shop: four people, their visits, orders, consent and messages, on the real log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.identity.builders import profile
from tests.profiles.builders import at, identify, ingest, order, track

SHOES = {"product_id": "P1", "name": "球鞋", "category": "鞋", "price_minor": 200000, "quantity": 1}


def tee(quantity: int, price_minor: int) -> dict[str, Any]:
    return {
        "product_id": "P2",
        "name": "上衣",
        "category": "上衣",
        "price_minor": price_minor,
        "quantity": quantity,
    }


def make_shop(session: Session) -> dict[str, int]:
    """u1 views, adds and buys shoes on the web, then tees in a store 40 days later after an app visit;
    u2 adds on the app but never buys; u3 only views; u4 buys one tee in another store.

    Returns each user's profile id.
    """
    ingest(
        session,
        identify("u1-crm", user_id="u1", traits={"email": "u1@shop.tw", "email_opt_in": True}, when=at(201)),
        identify("u2-crm", user_id="u2", traits={"phone": "0912345678", "sms_opt_in": False}, when=at(201)),
        identify("u3-crm", user_id="u3", traits={"email": "u3@shop.tw"}, when=at(201)),
        identify("u4-crm", user_id="u4", traits={"name": "林"}, when=at(201)),
        source="crm",
    )
    ingest(
        session,
        track("u1-v", "Product Viewed", when=at(200, hours=2), user_id="u1", properties={"category": "鞋"}),
        track("u1-a", "Product Added", when=at(200, hours=1), user_id="u1", properties={"category": "鞋"}),
        order("u1-o", user_id="u1", revenue=2000, when=at(200), total_minor=200000, products=[SHOES]),
        track("u3-v", "Product Viewed", when=at(100), user_id="u3", properties={"category": "上衣"}),
        source="web",
    )
    ingest(
        session,
        track("u2-v", "Product Viewed", when=at(150, hours=1), user_id="u2", properties={"category": "鞋"}),
        track("u2-a", "Product Added", when=at(150), user_id="u2", properties={"category": "鞋"}),
        track("u1-app", "Product Viewed", when=at(165), user_id="u1", properties={"category": "上衣"}),
        source="app",
    )
    ingest(
        session,
        order(
            "u1-o2",
            user_id="u1",
            revenue=1000,
            when=at(160),
            store_code="TPE-XINYI",
            total_minor=100000,
            products=[tee(2, 50000)],
        ),
        source="pos:TPE-XINYI",
    )
    ingest(
        session,
        order("u4-o", user_id="u4", revenue=300, when=at(190), total_minor=30000, products=[tee(1, 30000)]),
        source="pos:TPE-DAAN",
    )
    return {user: profile(session, "user_id", user) for user in ("u1", "u2", "u3", "u4")}
