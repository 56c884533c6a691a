"""Reading products back: one product with its variants and prices, a search page, one SKU's detail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from omni.catalog.errors import UnknownProduct
from omni.catalog.models import Category, Price, Product, SalesChannel, Variant
from omni.catalog.products import PRODUCT_FIELDS, VARIANT_FIELDS
from omni.catalog.schemas import (
    ChannelPrice,
    ProductPage,
    ProductRead,
    ProductSummary,
    VariantDetail,
    VariantProduct,
    VariantRead,
)


def _category_slugs(session: Session, ids: Iterable[int]) -> dict[int, str]:
    return dict(session.execute(select(Category.id, Category.slug).where(Category.id.in_(set(ids)))).all())


def _prices_by_variant(session: Session, variant_ids: Sequence[int]) -> dict[int, list[ChannelPrice]]:
    query = (
        select(Price.variant_id, SalesChannel.code, Price.amount_minor, Price.currency)
        .join(SalesChannel, SalesChannel.id == Price.channel_id)
        .where(Price.variant_id.in_(variant_ids))
        .order_by(SalesChannel.code)
    )
    prices: dict[int, list[ChannelPrice]] = {}
    for variant_id, channel, amount, currency in session.execute(query):
        prices.setdefault(variant_id, []).append(
            ChannelPrice(channel=channel, amount_minor=amount, currency=currency)
        )
    return prices


def _variant_read(variant: Variant, prices: list[ChannelPrice]) -> VariantRead:
    values = {name: getattr(variant, name) for name in VARIANT_FIELDS}
    return VariantRead(sku=variant.sku, prices=prices, **values)


def find_product(session: Session, code: str) -> Product | None:
    """The product with this code, if any."""
    return session.scalar(select(Product).where(Product.code == code))


def product_read(session: Session, product: Product) -> ProductRead:
    """The product with its variants (in the order they were added) and their prices by channel."""
    variants = session.scalars(
        select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
    ).all()
    prices = _prices_by_variant(session, [v.id for v in variants])
    values = {name: getattr(product, name) for name in PRODUCT_FIELDS}
    return ProductRead(
        id=product.id,
        code=product.code,
        category=_category_slugs(session, [product.category_id])[product.category_id],
        variants=[_variant_read(v, prices.get(v.id, [])) for v in variants],
        created_at=product.created_at,
        updated_at=product.updated_at,
        **values,
    )


def get_product(session: Session, code: str) -> ProductRead:
    """The product with this code; UnknownProduct if there is none."""
    product = find_product(session, code)
    if product is None:
        raise UnknownProduct(f"no product has code {code!r}")
    return product_read(session, product)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(q: str) -> ColumnElement[bool]:
    pattern = _like(q)
    by_variant = select(Variant.product_id).where(
        or_(Variant.sku.ilike(pattern, escape="\\"), Variant.barcode == q)
    )
    return or_(
        *(
            column.ilike(pattern, escape="\\")
            for column in (Product.code, Product.name, Product.name_en, Product.brand)
        ),
        Product.id.in_(by_variant),
    )


def search_products(
    session: Session, *, q: str | None, category_ids: Sequence[int] | None, limit: int, offset: int
) -> ProductPage:
    """Products whose code, name, brand or SKU contains q (or whose barcode is q), in the categories."""
    conditions: list[ColumnElement[bool]] = []
    if q:
        conditions.append(_matches(q))
    if category_ids is not None:
        conditions.append(Product.category_id.in_(category_ids))
    total = session.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
    page = session.scalars(
        select(Product).where(*conditions).order_by(Product.code).limit(limit).offset(offset)
    ).all()
    ids = [p.id for p in page]
    counted = (
        select(Variant.product_id, func.count())
        .where(Variant.product_id.in_(ids))
        .group_by(Variant.product_id)
    )
    counts: dict[int, int] = dict(session.execute(counted).all())
    ranges = {
        row.product_id: row
        for row in session.execute(
            select(
                Variant.product_id,
                func.min(Price.amount_minor).label("low"),
                func.max(Price.amount_minor).label("high"),
                func.min(Price.currency).label("currency"),
                func.count(func.distinct(Price.currency)).label("currencies"),
            )
            .join(Price, Price.variant_id == Variant.id)
            .where(Variant.product_id.in_(ids))
            .group_by(Variant.product_id)
        )
    }
    slugs = _category_slugs(session, [p.category_id for p in page])
    items = []
    for product in page:
        prices = ranges.get(product.id)
        items.append(
            ProductSummary(
                code=product.code,
                name=product.name,
                name_en=product.name_en,
                brand=product.brand,
                category=slugs[product.category_id],
                active=product.active,
                variant_count=counts.get(product.id, 0),
                lowest_price_minor=prices.low if prices else None,
                highest_price_minor=prices.high if prices else None,
                # Prices in several currencies have no one range; the product page shows each.
                currency=prices.currency if prices and prices.currencies == 1 else None,
            )
        )
    return ProductPage(items=items, total=total, limit=limit, offset=offset)


def variant_detail(session: Session, variant: Variant) -> VariantDetail:
    """The variant with its product and its price on each channel."""
    product = session.get_one(Product, variant.product_id)
    prices = _prices_by_variant(session, [variant.id]).get(variant.id, [])
    return VariantDetail(
        product=VariantProduct(
            code=product.code,
            name=product.name,
            name_en=product.name_en,
            brand=product.brand,
            category=_category_slugs(session, [product.category_id])[product.category_id],
            active=product.active,
        ),
        variant=_variant_read(variant, prices),
        prices_by_channel={price.channel: price for price in prices},
    )
