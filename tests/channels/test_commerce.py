"""The order, cart and store a message is about: amounts and hours as customers read them, missing values
that fail the rendering instead of going blank, and previews with a real order."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from omni.channels import commerce, service, templates
from omni.channels.errors import TemplateInvalid
from omni.channels.schemas import MessageContent
from omni.orders.errors import OrderNotFound
from tests.channels.builders import member
from tests.orders.builders import make_world, order_body, place


@pytest.mark.parametrize(
    ("minor", "text"),
    [(129_000, "1,290"), (12_950, "129.50"), (5, "0.05"), (0, "0"), (-1_000, "-10")],
    ids=["thousands", "cents", "small", "zero", "refund"],
)
def test_money_reads_as_a_customer_reads_it(minor: int, text: str) -> None:
    assert commerce.money(minor) == text


def test_opening_hours_join_runs_of_days_with_the_same_hours() -> None:
    week = {day: [["11:00", "21:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    week |= {"sat": [["10:00", "22:00"]], "sun": [["10:00", "12:00"], ["13:00", "22:00"]]}
    assert commerce.opening_hours(week) == (
        "mon-fri 11:00-21:30; sat 10:00-22:00; sun 10:00-12:00, 13:00-22:00"
    )
    assert commerce.opening_hours({"mon": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]]}) == (
        "mon 09:00-17:00; wed 09:00-17:00"
    )


STORE = {"name": "信義店", "hours": None, "address": ""}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ store.name }}{% if store.hours %} {{ store.hours }}{% endif %}", "信義店"),
        ("{{ store.name }} {{ store.address | default: '請洽門市' }}", "信義店 請洽門市"),
        ("{{ profile.first_name }}|{{ store.name }}", "|信義店"),
    ],
    ids=["tested", "defaulted", "profile-fact-blank"],
)
def test_a_missing_value_a_template_tests_or_defaults_renders(source: str, expected: str) -> None:
    assert templates.render("sms", {"text": source}, {"store": STORE}) == {"text": expected}


@pytest.mark.parametrize(
    ("source", "context", "rule"),
    [
        ("at {{ store.hours }}", {"store": STORE}, "store.hours is undefined"),
        ("at {{ store.address }}", {"store": STORE}, "store.address is undefined"),
        ("{{ order.number }}", {}, "'order' is undefined"),
        (
            "{% for r in order.recommendations %}{{ r.name }}{% endfor %}",
            {"order": {"recommendations": []}},
            "order.recommendations is undefined",
        ),
    ],
    ids=["null", "empty-text", "no-order", "empty-list"],
)
def test_a_missing_value_a_template_outputs_fails_the_rendering(
    source: str, context: dict[str, object], rule: str
) -> None:
    with pytest.raises(TemplateInvalid) as raised:
        templates.render("sms", {"text": source}, context)
    assert raised.value.details == [{"field": "variants.sms.text", "rule": rule}]


SMS = {
    "text": "{{ profile.first_name }}: {{ order.number }} at {{ store.name }}, code {{ order.pickup_code }}"
}
LINE = {
    "text": "{% for item in order.items %}{{ item.sku }} x{{ item.quantity }} {% endfor %}{{ order.total }}"
}


def test_preview_renders_a_real_order_with_its_store_and_pickup_code(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}, "TEE-L": {"XINYI": 5}})
    amy = member(session, "c1")
    lines = [{"sku": "TEE-M", "quantity": 2}, {"sku": "TEE-L", "quantity": 1}]
    order = place(session, order_body("click_and_collect", store="XINYI", lines=lines, number="1001"))
    _, variants = service.preview(
        session,
        profile_id=amy,
        content=MessageContent(variants={"sms": SMS, "line": LINE}),
        about={"order_id": "1001"},
    )
    assert variants == {
        "sms": {"text": f"Amy: 1001 at XINYI 店, code {order.pickup_code}"},
        "line": {"text": "TEE-M x2 TEE-L x1 3,870"},
    }


def test_preview_without_an_order_shows_the_sample_and_of_an_unknown_order_is_refused(
    session: Session,
) -> None:
    amy = member(session, "c1")
    content = MessageContent(variants={"sms": SMS})
    _, variants = service.preview(session, profile_id=amy, content=content)
    assert variants == {"sms": {"text": "Amy: 1001 at Xinyi, code A1B2"}}
    with pytest.raises(OrderNotFound):
        service.preview(session, profile_id=amy, content=content, about={"order_id": "404"})
