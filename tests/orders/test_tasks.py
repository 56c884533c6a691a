"""Till sales recorded from the log, and the pickup expiry job, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import process_batch
from omni.events.models import LoggedEvent
from omni.kit.time import utc_now
from omni.orders import repository, service, tasks, transitions
from omni.orders.states import Action
from tests.builders import track
from tests.orders.builders import free, make_world, order_body, place


def _till_sale(order_id: str, *, message_id: str) -> dict[str, object]:
    return track(
        "Order Completed",
        message_id=message_id,
        user_id="M00000042",
        context={"channel": "pos", "store_code": "XINYI"},
        properties={
            "order_id": order_id,
            "store_code": "XINYI",
            "total": 2580,
            "currency": "TWD",
            "products": [
                {"product_id": "TEE", "sku": "TEE-M", "name": "棉質 T 恤", "price": 1290, "quantity": 2}
            ],
        },
    )


def _append(session: Session, *payloads: dict[str, object], source: str = "pos:XINYI") -> None:
    events_service.append_events(
        session, events_service.build_records(payloads, source=source, default_channel="pos")
    )


def test_till_sales_become_completed_orders_once_and_nothing_is_appended(committed: Database) -> None:
    # given a till sale logged twice under two message ids (a resend) and a web order's own event
    with committed.unit_of_work() as session:
        _append(session, _till_sale("XY-1", message_id="m1"), _till_sale("XY-1", message_id="m2"))
        _append(session, {**_till_sale("W-1", message_id="m3"), "context": {"channel": "web"}}, source="web")
        events_before = session.scalar(select(func.count()).select_from(LoggedEvent))
    # when the consumer runs
    while process_batch(committed.sessions, tasks.TILL_SALES):
        pass
    # then one in-store order, completed, keyed to the member, and no new events
    with committed.unit_of_work() as session:
        page = service.list_orders(session, repository.OrderFilter())
        assert [(o.number, o.fulfilment, o.state, o.store_code, o.total_minor) for o in page.items] == [
            ("XY-1", "in_store", "completed", "XINYI", 258_000)
        ]
        order = service.order_read(session, service.get_order(session, "XY-1"))
        assert order.customer.user_id == "M00000042"
        assert [(line.sku, line.quantity, line.unit_price_minor) for line in order.lines] == [
            ("TEE-M", 2, 129_000)
        ]
        assert session.scalar(select(func.count()).select_from(LoggedEvent)) == events_before


def test_the_expiry_job_cancels_pickups_left_on_the_shelf(committed: Database) -> None:
    with committed.unit_of_work() as session:
        make_world(session, stock={"TEE-M": {"XINYI": 4}})
        order = place(session, order_body("click_and_collect", store="XINYI"))
        for action in (Action.PICK, Action.READY):
            transitions.take_step(session, order.number, action, by="clerk")
    expire = tasks.expire_uncollected_pickups
    assert expire(committed.sessions, utc_now() + timedelta(days=3), days=7) == 0
    assert expire(committed.sessions, utc_now() + timedelta(days=7, minutes=1), days=7) == 1
    with committed.unit_of_work() as session:
        assert service.get_order(session, order.number).state == "cancelled"
        assert free(session, "TEE-M", "XINYI") == {"XINYI": 4}
