"""Journeys on real orders: messages filled with the order, its store and pickup code at send time; the
post-purchase cross-sell and the win-back of lapsed customers end to end; no blanks when data is missing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import ChannelPrice, ProductCreate, VariantIn
from omni.channels import tasks as channel_tasks
from omni.db.engine import Database
from omni.events import service as events_service
from omni.inventory import service as inventory_service
from omni.journeys import examples
from omni.orders import transitions
from omni.orders.states import Action
from omni.segments import membership, predefined
from omni.segments import service as segments_service
from tests.channels import fakes
from tests.journeys.builders import (
    NOON,
    journey,
    log_and_react,
    member,
    messages,
    path_of,
    react_since,
    runs,
    settings_for,
    step,
    track,
)
from tests.orders.builders import make_world, order_body, place
from tests.profiles.builders import ingest
from tests.profiles.builders import order as order_event

SID, TOKEN = "AC" + "1" * 32, "twilio-token"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
CONFIRMATION: dict[str, Any] = {
    "trigger": {"type": "event", "event": "Order Completed", "keys": ["order_id"]},
    "start": "confirm",
    "nodes": {
        "confirm": {
            "type": "send",
            "channel": "email",
            "purpose": "transactional",
            "message": {
                "variants": {
                    "email": {
                        "subject": "Order {{ order.number }}",
                        "text": "{% for item in order.items %}{{ item.name }} ({{ item.sku }}) "
                        "x{{ item.quantity }} {{ item.price }}\n{% endfor %}"
                        "Total {{ order.currency }} {{ order.total }}",
                    }
                }
            },
            "next": "done",
        },
        "done": {"type": "exit"},
    },
}


def _pick_and_ready(session: Session, number: str, *, at: Any) -> None:
    for action in (Action.PICK, Action.READY):
        transitions.take_step(session, number, action, by="test", now=at)


def test_a_real_pickup_order_gets_an_email_of_its_items_and_an_sms_with_its_store_and_code(
    committed: Database, tmp_path: Path
) -> None:
    with fakes.smtp_server() as (sink, port), fakes.serve(fakes.twilio(SID, TOKEN)) as twilio:
        settings = settings_for(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            twilio_base_url=twilio.url,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_sms_from="+15005550006",
        )
        # given Amy (email and phone, no LINE), a confirmation journey and the ready-made pickup notice
        with committed.unit_of_work() as session:
            make_world(session, stock={"TEE-M": {"XINYI": 5}, "TEE-L": {"XINYI": 5}})
            member(session, "c1")
            journey(session, CONFIRMATION, name="Confirmation")
            journey(session, examples.pickup_ready(), name="Pickup")
            before = events_service.head_position(session)
            # when she orders two tees to collect at Xinyi, and the store readies the order an hour later
            lines = [{"sku": "TEE-M", "quantity": 2}, {"sku": "TEE-L", "quantity": 1}]
            body = order_body("click_and_collect", store="XINYI", lines=lines, number="1001")
            order = place(session, body | {"customer": {"user_id": "c1"}, "placed_at": NOON.isoformat()})
            _pick_and_ready(session, "1001", at=NOON + HOUR)
            react_since(session, before, now=NOON + HOUR)
            step(session, settings, NOON + HOUR)
        channel_tasks.deliver_due(committed, settings)
    # then the email lists the order's lines and total, and the SMS names the store and the pickup code
    [mail] = sink.messages
    assert mail["Subject"] == "Order 1001"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    assert text.get_content().strip().splitlines() == [
        "棉質 T 恤 (TEE-M) x2 1,290",
        "棉質 T 恤 (TEE-L) x1 1,290",
        "Total TWD 3,870",
    ]
    assert [r.form()["Body"] for r in twilio.accepted] == [
        f"Amy，訂單 1001 已到XINYI 店可取貨，取貨碼 {order.pickup_code}，請於 7 天內領取。"
    ]


def test_a_message_about_an_order_omni_does_not_have_fails_with_the_reason_and_is_not_sent(
    session: Session, tmp_path: Path
) -> None:
    # given Amy and the pickup notice
    amy = member(session, "c1")
    pickup = journey(session, examples.pickup_ready(), name="Pickup")
    # when an order Omni has no record of (deleted, or never placed here) is announced ready
    log_and_react(
        session, track("Order Ready For Pickup", "r1", order_id="9999", fulfilment="click_and_collect")
    )
    step(session, settings_for(tmp_path), NOON)
    # then the SMS is recorded failed, naming the missing value and why, with nothing to deliver
    [message] = messages(session)
    assert (message.profile_id, message.channel, message.status, message.content) == (
        amy,
        "sms",
        "failed",
        {},
    )
    assert message.error == (
        "the sms text cannot be rendered: 'order' is undefined (order 9999 was not found)"
    )
    [run] = runs(session, pickup.id)
    assert path_of(session, run.id)[0] == ("ready", f"sms message {message.id} failed: {message.error}")


def _product(session: Session, code: str, name: str, price: int) -> str:
    sku = f"{code}-1"
    catalog_service.save_product(
        session,
        ProductCreate(
            code=code,
            name=name,
            name_en=name,
            category="tees",
            brand="Omni",
            variants=[VariantIn(sku=sku, size="F", prices=[ChannelPrice(channel="web", amount_minor=price)])],
        ),
    )
    inventory_service.receive_stock(session, sku=sku, location="TAOYUAN-DC", quantity=20)
    return sku


def test_the_cross_sell_recommends_what_others_bought_with_the_order_and_converts_on_the_next(
    session: Session, tmp_path: Path
) -> None:
    # given tees, socks and caps, and earlier customers' baskets: socks went with tees twice, a cap once
    settings = settings_for(tmp_path)
    make_world(session, stock={"TEE-M": {"TAOYUAN-DC": 20}, "TEE-L": {"TAOYUAN-DC": 20}})
    socks, cap = _product(session, "SOCKS", "Socks", 19_900), _product(session, "CAP", "Cap", 49_000)
    for n, skus in enumerate((["TEE-M", socks], ["TEE-L", socks, cap], [cap])):
        lines = [{"sku": sku, "quantity": 1} for sku in skus]
        place(session, order_body(lines=lines, number=f"H{n}", customer={"user_id": f"h{n}"}))
    amy = member(session, "c1")
    cross_sell = journey(session, examples.post_purchase_cross_sell(after_days=3, holdout_percent=0))
    # when Amy buys a tee
    before = events_service.head_position(session)
    amy_order = order_body(number="2001", customer={"user_id": "c1"}, placed_at=NOON.isoformat())
    place(session, amy_order)
    react_since(session, before, now=NOON)
    step(session, settings, NOON)
    assert messages(session) == []
    # and three days, then up to a day for her best hour, pass
    step(session, settings, NOON + 3 * DAY + timedelta(minutes=1))
    step(session, settings, NOON + 4 * DAY + timedelta(minutes=1))
    # then she gets one message recommending socks first (two baskets), then the cap (one), not tees
    [message] = messages(session)
    assert (message.profile_id, message.channel, message.status) == (amy, "email", "queued")
    assert message.content["subject"] == "Amy，和您的 棉質 T 恤 最常一起買的是……"
    assert message.content["text"].splitlines()[1:] == ["- Socks TWD 199", "- Cap TWD 490"]
    # when she orders again, she converts
    before = events_service.head_position(session)
    second = order_body(number="2002", customer={"user_id": "c1"}, placed_at=(NOON + 5 * DAY).isoformat())
    place(session, second)
    react_since(session, before, now=NOON + 5 * DAY)
    [run] = runs(session, cross_sell.id)
    assert (run.state, run.converted_at) == ("exited", NOON + 5 * DAY)


def test_win_back_emails_a_lapsed_customer_then_texts_when_no_order_follows(
    session: Session, tmp_path: Path
) -> None:
    # given the predefined segments, Amy (SMS marketing opted in) and Bo, who last ordered 120 days ago
    settings = settings_for(tmp_path)
    predefined.ensure(session)
    lapsed = segments_service.by_key(session, "lapsed_customers")
    assert lapsed is not None
    amy, bo = member(session, "c1", sms_opt_in=True), member(session, "c2", sms_opt_in=True, first_name="Bo")
    ingest(
        session,
        order_event("old-1", user_id="c1", revenue=990, when=NOON - 120 * DAY),
        order_event("old-2", user_id="c2", revenue=990, when=NOON - 120 * DAY),
    )
    win_back = journey(session, examples.win_back(segment_id=lapsed.id, wait_days=7), name="Win-back")
    # when the segment takes them in, they get the email offer
    before = events_service.head_position(session)
    membership.recompute(session, lapsed.id, now=NOON)
    react_since(session, before, now=NOON)
    step(session, settings, NOON)
    assert sorted((m.profile_id, m.channel) for m in messages(session)) == [(amy, "email"), (bo, "email")]
    # and Bo orders within the week while Amy does not
    log_and_react(session, track("Order Completed", "new-1", user_id="c2", at=NOON + 2 * DAY, revenue=500))
    step(session, settings, NOON + 7 * DAY + timedelta(minutes=1))
    # then Bo converted with no SMS, and Amy got the SMS reminder
    by_person = {run.profile_id: run for run in runs(session, win_back.id)}
    assert (by_person[bo].state, by_person[bo].converted_at) == ("completed", NOON + 2 * DAY)
    assert [node for node, _ in path_of(session, by_person[amy].id)] == [
        "offer",
        "wait_order",
        "wait_order",
        "reminder",
        "done",
    ]
    sms = [(m.profile_id, m.channel, m.status) for m in messages(session) if m.channel == "sms"]
    assert sms == [(amy, "sms", "queued")]


def test_the_cart_reminder_lists_the_items_of_the_checked_out_cart(session: Session, tmp_path: Path) -> None:
    # given Amy and the ready-made abandoned-cart journey
    amy = member(session, "c1")
    journey(session, examples.cart_abandonment(wait_hours=1, holdout_percent=10), name="Cart")
    # when she checks out a cart of two products and orders nothing within the hour
    products = [
        {"sku": "TEE-M", "name": "Cotton tee", "price": 1290, "quantity": 2},
        {"sku": "CAP-1", "name": "Cap", "price": 490, "quantity": 1},
    ]
    log_and_react(session, track("Checkout Started", "k1", cart_id="cart-1", products=products, value=3070))
    step(session, settings_for(tmp_path), NOON)
    step(session, settings_for(tmp_path), NOON + HOUR + timedelta(minutes=1))
    # then the email lists the cart's items
    [message] = messages(session)
    assert (message.profile_id, message.channel, message.status) == (amy, "email", "queued")
    assert message.content["text"].splitlines()[1:] == ["- Cotton tee x2", "- Cap x1"]
