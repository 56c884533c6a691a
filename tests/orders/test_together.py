"""Frequently bought together, counted from the order lines: one vote per order, cancelled lines left out."""

from __future__ import annotations

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import ChannelPrice, ProductCreate, VariantIn
from omni.inventory import service as inventory_service
from omni.orders import together, transitions
from omni.orders.states import Action
from tests.orders.builders import make_world, order_body, place


def _product(session: Session, code: str, price: int) -> str:
    sku = f"{code}-1"
    variant = VariantIn(sku=sku, size="F", prices=[ChannelPrice(channel="web", amount_minor=price)])
    catalog_service.save_product(
        session,
        ProductCreate(
            code=code, name=code.title(), name_en=code, category="tees", brand="Omni", variants=[variant]
        ),
    )
    inventory_service.receive_stock(session, sku=sku, location="TAOYUAN-DC", quantity=50)
    return sku


def test_products_bought_with_the_given_ones_rank_by_orders_sharing_them(session: Session) -> None:
    # given baskets: socks with tees in two orders (one of them two pairs), a cap with tees once, a belt
    # in a cancelled order with tees, and a scarf never with tees
    make_world(session, stock={"TEE-M": {"TAOYUAN-DC": 50}, "TEE-L": {"TAOYUAN-DC": 50}})
    socks, cap, belt, scarf = (_product(session, c, 10_000) for c in ("SOCKS", "CAP", "BELT", "SCARF"))
    baskets = [
        [("TEE-M", 1), (socks, 2)],
        [("TEE-L", 1), (socks, 1), (cap, 1)],
        [("TEE-M", 1), (belt, 1)],
        [(scarf, 1), (cap, 1)],
    ]
    for n, basket in enumerate(baskets):
        lines = [{"sku": sku, "quantity": quantity} for sku, quantity in basket]
        place(session, order_body(lines=lines, number=f"B{n}"))
    transitions.take_step(session, "B2", Action.CANCEL, by="test")
    # when asked what goes with tees
    found = together.bought_together(session, ["TEE"], limit=5)
    # then socks (two orders) come before the cap (one); the cancelled belt and the scarf do not count
    assert [(r.product_id, r.sku, r.orders, r.unit_price_minor) for r in found] == [
        ("SOCKS", socks, 2, 10_000),
        ("CAP", cap, 1, 10_000),
    ]
    assert [r.product_id for r in together.bought_together(session, ["TEE"], limit=1)] == ["SOCKS"]
    assert together.bought_together(session, ["TEE"], min_orders=3) == []
    assert together.bought_together(session, []) == []
