"""Use cases of the catalog: locations, sales channels, categories, products, variants and prices."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from omni.catalog import product_views, products
from omni.catalog.errors import NoPrice, UnknownCategory, UnknownChannel, UnknownLocation, UnknownSku
from omni.catalog.models import Category, ChannelLocation, Location, Price, SalesChannel, Variant
from omni.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    LocationCreate,
    LocationKind,
    ProductCreate,
    ProductPage,
    ProductRead,
    SalesChannelCreate,
    SalesChannelRead,
    SaveSummary,
    VariantDetail,
)
from omni.kit.errors import ConflictError, ValidationFailed


def save_location(session: Session, data: LocationCreate) -> Location:
    """Create the location with data.code, or update it to match data."""
    location = find_location(session, data.code)
    values = data.model_dump(mode="json")
    if location is None:
        location = Location(**values)
        session.add(location)
    else:
        for key, value in values.items():
            setattr(location, key, value)
    session.flush()
    return location


def find_location(session: Session, code: str) -> Location | None:
    """The location with this code, if any."""
    return session.scalar(select(Location).where(Location.code == code))


def list_locations(session: Session, *, kind: LocationKind | None = None) -> Sequence[Location]:
    """Locations: stores, then warehouses, then online shops, each by code."""
    order = case({"store": 0, "warehouse": 1}, value=Location.kind, else_=2)
    query = select(Location).order_by(order, Location.code)
    if kind is not None:
        query = query.where(Location.kind == kind.value)
    return session.scalars(query).all()


def get_location(session: Session, code: str) -> Location:
    """The location with this code; UnknownLocation if there is none."""
    location = find_location(session, code)
    if location is None:
        raise UnknownLocation(f"no location has code {code!r}")
    return location


def find_variant(session: Session, sku: str) -> Variant | None:
    """The variant with this SKU, if any."""
    return session.scalar(select(Variant).where(Variant.sku == sku))


def get_variant(session: Session, sku: str) -> Variant:
    """The variant with this SKU; UnknownSku if there is none."""
    variant = find_variant(session, sku)
    if variant is None:
        raise UnknownSku(f"no product variant has SKU {sku!r}")
    return variant


def get_channel(session: Session, code: str) -> SalesChannel:
    """The sales channel with this code; UnknownChannel if there is none."""
    channel = session.scalar(select(SalesChannel).where(SalesChannel.code == code))
    if channel is None:
        raise UnknownChannel(f"no sales channel has code {code!r}")
    return channel


def fulfilling_locations(session: Session, channel_code: str) -> Sequence[Location]:
    """The locations that may fulfil the channel's orders, by code."""
    channel = get_channel(session, channel_code)
    query = (
        select(Location)
        .join(ChannelLocation, ChannelLocation.location_id == Location.id)
        .where(ChannelLocation.channel_id == channel.id)
        .order_by(Location.code)
    )
    return session.scalars(query).all()


def price_for(session: Session, sku: str, channel_code: str) -> tuple[int, str]:
    """The variant's price on the channel as (minor units, currency); NoPrice if it is not sold there."""
    variant = get_variant(session, sku)
    channel = get_channel(session, channel_code)
    row = session.execute(
        select(Price.amount_minor, Price.currency).where(
            Price.variant_id == variant.id, Price.channel_id == channel.id
        )
    ).one_or_none()
    if row is None:
        raise NoPrice(f"{sku} has no price on channel {channel_code!r}")
    return row.amount_minor, row.currency


def _invalid(field: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {rule}", details=[{"field": field, "rule": rule}])


def find_channel(session: Session, code: str) -> SalesChannel | None:
    """The sales channel with this code, if any."""
    return session.scalar(select(SalesChannel).where(SalesChannel.code == code))


def save_channel(session: Session, data: SalesChannelCreate) -> SalesChannelRead:
    """Create the channel with data.code, or update it; it is fulfilled from exactly data.locations."""
    store_id = None
    if data.store is not None:
        store = find_location(session, data.store)
        if store is None or store.kind != LocationKind.STORE.value:
            raise _invalid("store", f"no store has code {data.store!r}")
        store_id = store.id
    found = {
        location.code: location.id
        for location in session.scalars(select(Location).where(Location.code.in_(data.locations)))
    }
    for index, code in enumerate(data.locations):
        if code not in found:
            raise _invalid(f"locations.{index}", f"no location has code {code!r}")
    channel = find_channel(session, data.code)
    values = data.model_dump(mode="json", exclude={"store", "locations"}) | {"store_id": store_id}
    if channel is None:
        channel = SalesChannel(**values)
        session.add(channel)
        session.flush()
    else:
        for key, value in values.items():
            setattr(channel, key, value)
    wanted = set(found.values())
    links = session.scalars(select(ChannelLocation).where(ChannelLocation.channel_id == channel.id)).all()
    for link in links:
        if link.location_id not in wanted:
            session.delete(link)
    for location_id in wanted - {link.location_id for link in links}:
        session.add(ChannelLocation(channel_id=channel.id, location_id=location_id))
    session.flush()
    return _channel_reads(session, [channel])[0]


def _channel_reads(session: Session, channels: Sequence[SalesChannel]) -> list[SalesChannelRead]:
    ids = [channel.id for channel in channels]
    links = session.execute(
        select(ChannelLocation.channel_id, Location.code)
        .join(Location, Location.id == ChannelLocation.location_id)
        .where(ChannelLocation.channel_id.in_(ids))
        .order_by(Location.code)
    ).all()
    codes: dict[int, list[str]] = {}
    for channel_id, code in links:
        codes.setdefault(channel_id, []).append(code)
    store_ids = {channel.store_id for channel in channels if channel.store_id is not None}
    stores = dict(session.execute(select(Location.id, Location.code).where(Location.id.in_(store_ids))).all())
    return [
        SalesChannelRead(
            id=channel.id,
            code=channel.code,
            kind=channel.kind,
            name=channel.name,
            name_en=channel.name_en,
            source=channel.source,
            store=stores.get(channel.store_id) if channel.store_id is not None else None,
            stock_buffer=channel.stock_buffer,
            locations=codes.get(channel.id, []),
        )
        for channel in channels
    ]


def channel_view(session: Session, code: str) -> SalesChannelRead:
    """The channel with its store and fulfilling locations; UnknownChannel if there is none."""
    return _channel_reads(session, [get_channel(session, code)])[0]


def list_channels(session: Session) -> list[SalesChannelRead]:
    """Every sales channel with its fulfilling locations: online channels first, then the tills, by code."""
    order = {"web": 0, "app": 1, "marketplace": 2, "pos": 3}
    channels = sorted(
        session.scalars(select(SalesChannel)).all(), key=lambda c: (order.get(c.kind, 9), c.code)
    )
    return _channel_reads(session, channels)


def find_category(session: Session, slug: str) -> Category | None:
    """The category with this slug, if any."""
    return session.scalar(select(Category).where(Category.slug == slug))


def save_category(session: Session, data: CategoryCreate) -> CategoryRead:
    """Create the category with data.slug, or update it; a parent must exist and not be a descendant."""
    category = find_category(session, data.slug)
    parent_id = None
    if data.parent is not None:
        parent = find_category(session, data.parent)
        if parent is None:
            raise _invalid("parent", f"no category has slug {data.parent!r}")
        if category is not None and category.id in _ancestor_ids(session, parent.id):
            raise _invalid("parent", f"{data.parent} is {data.slug} itself or one of its subcategories")
        parent_id = parent.id
    values = {"name": data.name, "name_en": data.name_en, "parent_id": parent_id}
    if category is None:
        category = Category(slug=data.slug, **values)
        session.add(category)
    else:
        for key, value in values.items():
            setattr(category, key, value)
    session.flush()
    return CategoryRead(
        id=category.id, slug=data.slug, name=data.name, name_en=data.name_en, parent=data.parent
    )


def _ancestor_ids(session: Session, category_id: int) -> set[int]:
    parents = dict(session.execute(select(Category.id, Category.parent_id)).all())
    seen: set[int] = set()
    current: int | None = category_id
    while current is not None and current not in seen:
        seen.add(current)
        current = parents.get(current)
    return seen


def list_categories(session: Session) -> list[CategoryRead]:
    """Every category, by slug, naming its parent."""
    categories = session.scalars(select(Category).order_by(Category.slug)).all()
    slugs = {category.id: category.slug for category in categories}
    return [
        CategoryRead(
            id=c.id,
            slug=c.slug,
            name=c.name,
            name_en=c.name_en,
            parent=slugs.get(c.parent_id) if c.parent_id is not None else None,
        )
        for c in categories
    ]


def category_and_descendants(session: Session, slug: str) -> list[int]:
    """Ids of the category and of every category below it; UnknownCategory if there is none."""
    category = find_category(session, slug)
    if category is None:
        raise UnknownCategory(f"no category has slug {slug!r}")
    children: dict[int | None, list[int]] = {}
    for category_id, parent_id in session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent_id, []).append(category_id)
    found, waiting = [], [category.id]
    while waiting:
        current = waiting.pop()
        if current not in found:
            found.append(current)
            waiting.extend(children.get(current, []))
    return found


def save_products(session: Session, data: Sequence[ProductCreate], *, complete: bool = True) -> SaveSummary:
    """Create or update products with their variants and prices, all or none (see products.save_products)."""
    return products.save_products(session, data, complete=complete)


def save_product(session: Session, data: ProductCreate) -> ProductRead:
    """Create or update one product so that it is exactly data, and answer with it as stored."""
    try:
        products.save_products(session, [data], complete=True)
    except (ValidationFailed, ConflictError) as exc:
        for detail in exc.details:
            detail.pop("index", None)
        raise
    return get_product(session, data.code)


def get_product(session: Session, code: str) -> ProductRead:
    """The product with its variants and prices; UnknownProduct if there is none."""
    return product_views.get_product(session, code)


def search_products(
    session: Session, *, q: str | None = None, category: str | None = None, limit: int = 50, offset: int = 0
) -> ProductPage:
    """Products matching q (code, name, brand, SKU or barcode) in category and its subcategories, by code."""
    category_ids = category_and_descendants(session, category) if category else None
    return product_views.search_products(
        session, q=(q or "").strip() or None, category_ids=category_ids, limit=limit, offset=offset
    )


def variant_view(session: Session, sku: str) -> VariantDetail:
    """The SKU with its product and its price on each channel; UnknownSku if there is none."""
    return product_views.variant_detail(session, get_variant(session, sku))


def find_variant_by_barcode(session: Session, barcode: str) -> Variant | None:
    """The variant with this barcode (a till's scan), if any."""
    return session.scalar(select(Variant).where(Variant.barcode == barcode))
