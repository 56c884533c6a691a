"""The simulated retailer's catalogue in Omni: categories, sales channels with their fulfilling locations,
and every product with its variants, priced on every channel.

Everything goes through the catalog's services, the products in one bulk save, so loading the demo twice
changes nothing the second time.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import (
    CategoryCreate,
    ChannelKind,
    ChannelPrice,
    ProductCreate,
    SalesChannelCreate,
    SaveSummary,
    VariantIn,
)
from omni.demo.world import World

# Units of each SKU the marketplace is never promised, so that its slower stock sync cannot oversell.
MARKETPLACE_STOCK_BUFFER = 2


def _fulfilling_locations(world: World, kind: str, store_code: str | None) -> list[str]:
    if kind == "pos":
        return [store_code] if store_code else []
    if kind == "marketplace":
        return [world.warehouse.code]
    return [world.warehouse.code, *(store.code for store in world.stores)]


def channels(world: World) -> list[SalesChannelCreate]:
    """The web shop and app (warehouse and every store), the marketplace (warehouse) and each store's till."""
    return [
        SalesChannelCreate(
            code=channel.code,
            kind=ChannelKind(channel.kind),
            name=channel.name,
            name_en=channel.name_en,
            source=channel.source,
            store=channel.store_code,
            stock_buffer=MARKETPLACE_STOCK_BUFFER if channel.kind == "marketplace" else 0,
            locations=_fulfilling_locations(world, channel.kind, channel.store_code),
        )
        for channel in world.channels
    ]


def products(world: World) -> list[ProductCreate]:
    """Every product of the world with its variants, at the product's simulated price on every channel."""
    return [
        ProductCreate(
            code=product.product_id,
            name=product.name,
            name_en=product.name_en,
            brand=product.brand,
            category=product.category,
            variants=[
                VariantIn(
                    sku=variant.sku,
                    barcode=variant.barcode,
                    size=variant.size,
                    colour=variant.colour,
                    colour_en=variant.colour_en,
                    prices=[
                        ChannelPrice(
                            channel=channel.code, amount_minor=product.price_minor, currency=product.currency
                        )
                        for channel in world.channels
                    ],
                )
                for variant in product.variants
            ],
        )
        for product in world.products
    ]


def save_catalogue(session: Session, world: World) -> SaveSummary:
    """Save the world's categories, channels and products; its locations must be saved already."""
    for category in world.categories:
        catalog_service.save_category(
            session, CategoryCreate(slug=category.slug, name=category.name, name_en=category.name_en)
        )
    for channel in channels(world):
        catalog_service.save_channel(session, channel)
    return catalog_service.save_products(session, products(world))
