"""Builders of catalogue test data, each through the catalog's service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import (
    CategoryCreate,
    ChannelKind,
    ChannelPrice,
    LocationKind,
    ProductCreate,
    ProductRead,
    SalesChannelCreate,
    SalesChannelRead,
    VariantIn,
)
from omni.demo.world import ean13
from tests.builders import make_location


def make_category(session: Session, slug: str = "tops", *, parent: str | None = None) -> None:
    catalog_service.save_category(
        session, CategoryCreate(slug=slug, name=f"{slug} 類", name_en=slug.title(), parent=parent)
    )


def make_channel(
    session: Session,
    code: str = "web",
    *,
    kind: ChannelKind = ChannelKind.WEB,
    locations: tuple[str, ...] = (),
    store: str | None = None,
    stock_buffer: int = 0,
) -> SalesChannelRead:
    return catalog_service.save_channel(
        session,
        SalesChannelCreate(
            code=code,
            kind=kind,
            name=f"{code} 通路",
            name_en=code.title(),
            source=code if ":" in code or kind is not ChannelKind.POS else f"pos:{store}",
            store=store,
            stock_buffer=stock_buffer,
            locations=list(locations),
        ),
    )


def variant(
    sku: str, reference: int, *, size: str = "M", prices: dict[str, int] | None = None, **named: int
) -> VariantIn:
    """A variant with a valid EAN-13 and a TWD price per channel (web=129000, or prices={"pos:X": ...})."""
    prices = {**named, **(prices or {})}
    return VariantIn(
        sku=sku,
        barcode=ean13(reference),
        size=size,
        colour="黑色",
        colour_en="Black",
        prices=[ChannelPrice(channel=channel, amount_minor=amount) for channel, amount in prices.items()],
    )


def product(
    code: str = "TOP-0001", *, category: str = "tops", variants: list[VariantIn] | None = None, **fields: Any
) -> ProductCreate:
    return ProductCreate(
        code=code,
        name=fields.pop("name", "棉質T恤"),
        name_en=fields.pop("name_en", "Cotton tee"),
        brand=fields.pop("brand", "Omni Basics"),
        category=category,
        variants=variants or [variant(f"{code}-BK-M", 1, web=49000)],
        **fields,
    )


def make_shop(session: Session) -> None:
    """Two stores, a warehouse, web and a till, and the tops category: what a product needs to be priced."""
    make_location(session, code="TPE-XINYI")
    make_location(session, code="KHH-QIANZHEN")
    make_location(session, code="WH-TAOYUAN", kind=LocationKind.WAREHOUSE)
    make_channel(session, "web", locations=("WH-TAOYUAN", "TPE-XINYI", "KHH-QIANZHEN"))
    make_channel(session, "pos:TPE-XINYI", kind=ChannelKind.POS, store="TPE-XINYI", locations=("TPE-XINYI",))
    make_category(session, "tops")


def make_product(session: Session, data: ProductCreate | None = None) -> ProductRead:
    return catalog_service.save_product(session, data or product())
