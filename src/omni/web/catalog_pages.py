"""The Catalog section: products with search and category filter, a product's variants and prices, the sales
channels with the locations that fulfil each, and the locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from omni.accounts.roles import Section
from omni.api.deps import SessionDep
from omni.catalog import service as catalog_service
from omni.catalog.schemas import CODE_PATTERN, WEEKDAYS
from omni.web.rendering import render
from omni.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[require(Section.CATALOG)])
PRODUCTS_PAGE = 50


@router.get("/catalog")
def catalog(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Products (searched, filtered by category, a page at a time), channels and locations."""
    categories = catalog_service.list_categories(session)
    chosen = category if any(c.slug == category for c in categories) else ""
    products = catalog_service.search_products(
        session, q=q, category=chosen or None, limit=PRODUCTS_PAGE, offset=(page - 1) * PRODUCTS_PAGE
    )
    locations = catalog_service.list_locations(session)
    return render(
        request,
        "catalog.html",
        {
            "q": q,
            "category": chosen,
            "categories": categories,
            "category_names": {c.slug: c for c in categories},
            "products": products,
            "page": page,
            "pages": max(1, -(-products.total // PRODUCTS_PAGE)),
            "channels": catalog_service.list_channels(session),
            "location_names": {loc.code: (loc.name, loc.name_en) for loc in locations},
            "locations": locations,
            "weekdays": WEEKDAYS,
        },
    )


@router.get("/catalog/products/{code}")
def product_page(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Path(max_length=64, pattern=CODE_PATTERN)],
) -> HTMLResponse:
    """A product with its variants, their barcodes, and each variant's price on every channel."""
    product = catalog_service.get_product(session, code)
    channels = catalog_service.list_channels(session)
    priced = {price.channel for variant in product.variants for price in variant.prices}
    return render(
        request,
        "catalog_product.html",
        {
            "product": product,
            "category": next(
                c for c in catalog_service.list_categories(session) if c.slug == product.category
            ),
            "channels": [channel for channel in channels if channel.code in priced],
            "prices": {
                (variant.sku, price.channel): price
                for variant in product.variants
                for price in variant.prices
            },
        },
    )
