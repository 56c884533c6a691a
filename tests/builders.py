"""Small typed builders of test data, each making one thing through the domain's service."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from omni.accounts import service as accounts_service
from omni.accounts.models import User
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate
from omni.catalog import service as catalog_service
from omni.catalog.models import Location
from omni.catalog.schemas import LocationCreate, LocationKind

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_location(
    session: Session, *, code: str = "TPE-XINYI", kind: LocationKind = LocationKind.STORE
) -> Location:
    return catalog_service.save_location(
        session,
        LocationCreate(
            code=code,
            kind=kind,
            name="信義店",
            name_en="Xinyi",
            city="台北市",
            address="台北市信義區松高路 11 號",
            latitude=25.0396,
            longitude=121.5674,
            opening_hours={"mon": [("11:00", "21:30")], "sat": [("11:00", "22:00")]},
            click_and_collect=True,
            daily_pickup_capacity=80,
        ),
    )


def make_user(
    session: Session, *, role: Role = Role.ADMIN, store_code: str | None = None, email: str | None = None
) -> User:
    if role is Role.STORE_STAFF and store_code is None:
        store_code = make_location(session, code=f"STORE-{next(_counter)}").code
    return accounts_service.create_user(
        session,
        UserCreate(
            email=email or f"{role.value}{next(_counter)}@shop.example",
            display_name=f"{role.value.title()} Person",
            password=PASSWORD,
            role=role,
            store_code=store_code,
        ),
    )


def track(event: str, *, message_id: str, user_id: str | None = "u1", **fields: Any) -> dict[str, Any]:
    """A track message as an SDK sends it."""
    payload: dict[str, Any] = {"type": "track", "event": event, "messageId": message_id, **fields}
    if user_id is not None:
        payload["userId"] = user_id
    return payload
