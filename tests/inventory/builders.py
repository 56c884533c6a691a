"""Builders of a small stocked world for inventory tests, made through the catalogue's service."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.models import Location
from omni.catalog.schemas import (
    CategoryCreate,
    ChannelKind,
    LocationCreate,
    LocationKind,
    ProductCreate,
    SalesChannelCreate,
    VariantIn,
)

_counter = itertools.count(1)


def make_store(
    session: Session,
    code: str,
    *,
    latitude: float = 25.0396,
    longitude: float = 121.5674,
    kind: LocationKind = LocationKind.STORE,
    safety_stock: int = 0,
) -> Location:
    return catalog_service.save_location(
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
            click_and_collect=kind is LocationKind.STORE,
            daily_pickup_capacity=50,
            safety_stock=safety_stock,
        ),
    )


def make_skus(session: Session, *skus: str) -> list[str]:
    """One product with a variant per SKU."""
    if catalog_service.find_category(session, "tees") is None:
        catalog_service.save_category(session, CategoryCreate(slug="tees", name="T 恤", name_en="Tees"))
    catalog_service.save_product(
        session,
        ProductCreate(
            code=f"P{next(_counter)}-{skus[0]}",
            name="棉質 T 恤",
            name_en="Cotton tee",
            category="tees",
            variants=[VariantIn(sku=sku, size="M") for sku in skus],
        ),
    )
    return list(skus)


def make_channel(
    session: Session,
    code: str,
    *,
    locations: list[str],
    stock_buffer: int = 0,
    kind: ChannelKind = ChannelKind.WEB,
) -> str:
    catalog_service.save_channel(
        session,
        SalesChannelCreate(
            code=code,
            kind=kind,
            name=code,
            name_en=code,
            source=f"{kind.value}" if kind is not ChannelKind.MARKETPLACE else f"marketplace:{code}",
            stock_buffer=stock_buffer,
            locations=locations,
        ),
    )
    return code
