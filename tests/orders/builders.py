"""A small stocked retailer for order tests, made through the catalogue's and inventory's services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import (
    CategoryCreate,
    ChannelKind,
    ChannelPrice,
    LocationCreate,
    LocationKind,
    ProductCreate,
    SalesChannelCreate,
    VariantIn,
)
from omni.inventory import service as inventory_service
from omni.orders import service
from omni.orders.schemas import OrderCreate, OrderRead

# Xinyi and Banqiao are ~8 km apart in Taipei; the warehouse is in Taoyuan, ~35 km from Xinyi.
PLACES = {
    "XINYI": (25.0396, 121.5674, LocationKind.STORE),
    "BANQIAO": (25.0137, 121.4637, LocationKind.STORE),
    "TAOYUAN-DC": (24.9936, 121.2969, LocationKind.WAREHOUSE),
}
NEAR_XINYI = {"line1": "松高路 11 號", "city": "台北市", "latitude": 25.0400, "longitude": 121.5680}
NEAR_BANQIAO = {"line1": "縣民大道 7 號", "city": "新北市", "latitude": 25.0140, "longitude": 121.4640}
PRICE = 129_000


def make_location(
    session: Session,
    code: str,
    *,
    click_and_collect: bool = True,
    capacity: int = 50,
) -> str:
    latitude, longitude, kind = PLACES[code]
    catalog_service.save_location(
        session,
        LocationCreate(
            code=code,
            kind=kind,
            name=f"{code} 店",
            name_en=code.title(),
            city="台北市",
            address="台北市",
            latitude=latitude,
            longitude=longitude,
            click_and_collect=click_and_collect and kind is LocationKind.STORE,
            daily_pickup_capacity=capacity if kind is LocationKind.STORE else 0,
        ),
    )
    return code


def make_world(
    session: Session,
    *,
    stock: dict[str, dict[str, int]] | None = None,
    xinyi_click_and_collect: bool = True,
    capacity: int = 50,
) -> None:
    """Two stores and a warehouse fulfilling the web shop, one tee in two sizes, and the stock given."""
    make_location(session, "XINYI", click_and_collect=xinyi_click_and_collect, capacity=capacity)
    make_location(session, "BANQIAO", capacity=capacity)
    make_location(session, "TAOYUAN-DC")
    catalog_service.save_channel(
        session,
        SalesChannelCreate(
            code="web",
            kind=ChannelKind.WEB,
            name="官網",
            name_en="Web shop",
            source="web",
            locations=["XINYI", "BANQIAO", "TAOYUAN-DC"],
        ),
    )
    catalog_service.save_category(session, CategoryCreate(slug="tees", name="T 恤", name_en="Tees"))
    catalog_service.save_product(
        session,
        ProductCreate(
            code="TEE",
            name="棉質 T 恤",
            name_en="Cotton tee",
            category="tees",
            brand="Omni",
            variants=[
                VariantIn(sku=sku, size=size, prices=[ChannelPrice(channel="web", amount_minor=PRICE)])
                for sku, size in (("TEE-M", "M"), ("TEE-L", "L"))
            ],
        ),
    )
    for sku, by_location in (stock or {}).items():
        for location, quantity in by_location.items():
            inventory_service.receive_stock(session, sku=sku, location=location, quantity=quantity)


def order_body(
    fulfilment: str = "ship_to_home",
    *,
    lines: list[dict[str, Any]] | None = None,
    store: str | None = None,
    ship_to: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "fulfilment": fulfilment,
        "lines": lines or [{"sku": "TEE-M", "quantity": 1}],
        "customer": {"user_id": "u-42", "email": "Mei@Example.com"},
        **extra,
    }
    if store:
        body["store"] = store
    if ship_to is not None or fulfilment in ("ship_to_home", "ship_from_store", "endless_aisle"):
        body["ship_to"] = ship_to or NEAR_XINYI
    return body


def place(session: Session, body: dict[str, Any], *, key: str | None = None) -> OrderRead:
    order, _ = service.place_order(session, OrderCreate.model_validate(body), key=key, by="test")
    return order


def free(session: Session, sku: str, *locations: str) -> dict[str, int]:
    return inventory_service.available_at(session, sku=sku, locations=list(locations))
