"""The catalogue API: products with variants and prices per channel, sales channels, locations, categories.

The catalog sits below the API layer, so the staff checks are chosen where the application includes these
routers: `router` (reads) for any staff member who may use the catalogue, `admin_router` (writes) for
head office. A write takes the code from the path, so the body cannot rename what the path names.
Sales channels are under /v1/sales-channels: /v1/channels is the messaging channels' (email, SMS, push).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from omni.catalog import service
from omni.catalog.errors import UnknownSku
from omni.catalog.schemas import (
    CODE_PATTERN,
    SLUG_PATTERN,
    CategoryCreate,
    CategoryFields,
    CategoryRead,
    LocationCreate,
    LocationFields,
    LocationKind,
    LocationRead,
    ProductCreate,
    ProductFields,
    ProductPage,
    ProductRead,
    SalesChannelCreate,
    SalesChannelFields,
    SalesChannelRead,
    VariantDetail,
)
from omni.db.requests import SessionDep

router = APIRouter(prefix="/v1", tags=["catalog"])
admin_router = APIRouter(prefix="/v1", tags=["catalog"])

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=SLUG_PATTERN)]


@router.get("/products", response_model=ProductPage, summary="Search products")
def search_products(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of a code, name, brand or SKU, or a barcode.")
    ] = None,
    category: Annotated[
        str | None, Query(max_length=64, description="A category slug; its subcategories are included.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProductPage:
    """Products by code, with their number of variants and price range."""
    return service.search_products(session, q=q, category=category, limit=limit, offset=offset)


@router.get("/products/{code}", response_model=ProductRead, summary="A product")
def read_product(code: Code, session: SessionDep) -> ProductRead:
    """The product with its variants, barcodes and prices per channel."""
    return service.get_product(session, code)


@admin_router.put("/products/{code}", response_model=ProductRead, summary="Create or replace a product")
def save_product(code: Code, body: ProductFields, session: SessionDep) -> ProductRead:
    """Make the product exactly as given: variants left out are deactivated, prices left out removed."""
    return service.save_product(session, ProductCreate(code=code, **body.model_dump()))


@router.get("/variants/{sku}", response_model=VariantDetail, summary="A SKU")
def read_variant(sku: Code, session: SessionDep) -> VariantDetail:
    """The SKU with its product and its price on each channel."""
    return service.variant_view(session, sku)


@router.get("/variants", response_model=VariantDetail, summary="A SKU by its barcode")
def read_variant_by_barcode(
    session: SessionDep, barcode: Annotated[str, Query(min_length=8, max_length=14, pattern=r"^\d+$")]
) -> VariantDetail:
    """What a till's scanner finds: the variant with this barcode, its product and prices."""
    variant = service.find_variant_by_barcode(session, barcode)
    if variant is None:
        raise UnknownSku(f"no product variant has barcode {barcode}")
    return service.variant_view(session, variant.sku)


@router.get("/sales-channels", response_model=list[SalesChannelRead], summary="Sales channels")
def list_channels(session: SessionDep) -> list[SalesChannelRead]:
    """Every channel with its store and the locations that fulfil its orders."""
    return service.list_channels(session)


@router.get("/sales-channels/{code}", response_model=SalesChannelRead, summary="A sales channel")
def read_channel(code: Code, session: SessionDep) -> SalesChannelRead:
    return service.channel_view(session, code)


@admin_router.put(
    "/sales-channels/{code}", response_model=SalesChannelRead, summary="Create or change a channel"
)
def save_channel(code: Code, body: SalesChannelFields, session: SessionDep) -> SalesChannelRead:
    """The channel's fulfilling locations become exactly body.locations."""
    return service.save_channel(session, SalesChannelCreate(code=code, **body.model_dump()))


@router.get("/locations", response_model=list[LocationRead], summary="Locations")
def list_locations(session: SessionDep, kind: LocationKind | None = None) -> list[LocationRead]:
    """Stores (address, coordinates, opening hours, click & collect, pickup capacity), then warehouses."""
    return [LocationRead.model_validate(location) for location in service.list_locations(session, kind=kind)]


@router.get("/locations/{code}", response_model=LocationRead, summary="A location")
def read_location(code: Code, session: SessionDep) -> LocationRead:
    return LocationRead.model_validate(service.get_location(session, code))


@admin_router.put("/locations/{code}", response_model=LocationRead, summary="Create or change a location")
def save_location(code: Code, body: LocationFields, session: SessionDep) -> LocationRead:
    location = service.save_location(session, LocationCreate(code=code, **body.model_dump()))
    return LocationRead.model_validate(location)


@router.get("/categories", response_model=list[CategoryRead], summary="Categories")
def list_categories(session: SessionDep) -> list[CategoryRead]:
    return service.list_categories(session)


@admin_router.put("/categories/{slug}", response_model=CategoryRead, summary="Create or change a category")
def save_category(slug: Slug, body: CategoryFields, session: SessionDep) -> CategoryRead:
    return service.save_category(session, CategoryCreate(slug=slug, **body.model_dump()))
