"""The stock page of the Catalog section: stock by SKU × location, and the movements behind it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from omni.accounts.roles import Role, Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.catalog import service as catalog_service
from omni.inventory import lookups
from omni.inventory import service as inventory_service
from omni.kit.errors import NotFoundError
from omni.web.rendering import render
from omni.web.security import require

router = APIRouter(include_in_schema=False)
LEVELS_SHOWN = 200
MOVEMENTS_SHOWN = 50


@router.get("/catalog/stock")
def stock(
    request: Request,
    session: SessionDep,
    active: Annotated[ActiveSession, require(Section.CATALOG)],
    sku: Annotated[str, Query(max_length=64)] = "",
    location: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """Levels (on hand, held by carts, taken by orders, kept back, free) and the newest movements."""
    locations = catalog_service.list_locations(session)
    codes = {found.code for found in locations}
    # Store staff look at their own shelves first; "all" is one choice away.
    if location is None and active.role is Role.STORE_STAFF and active.user.store_code:
        location = active.user.store_code
    chosen = location if location in codes else ""
    sku = sku.strip()
    unknown_sku = False
    try:
        levels = lookups.level_reads(session, sku=sku or None, location=chosen or None, limit=LEVELS_SHOWN)
    except NotFoundError:
        levels, unknown_sku = [], True
    movements = inventory_service.movements(
        session, sku=sku or None, location=chosen or None, limit=MOVEMENTS_SHOWN
    )
    return render(
        request,
        "stock.html",
        {
            "sku": sku,
            "location": chosen,
            "locations": locations,
            "location_names": {found.code: (found.name, found.name_en) for found in locations},
            "levels": levels,
            "levels_cut": len(levels) == LEVELS_SHOWN,
            "movements": movements,
            "unknown_sku": unknown_sku,
        },
    )
