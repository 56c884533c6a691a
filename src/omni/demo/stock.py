"""The demo retailer's opening stock: every SKU at the warehouse, most of them in most stores.

Quantities follow the seed, so a demo is the same every time: the warehouse holds dozens of each SKU; a store
holds a few, and about one SKU in six is out at any one store, so "in stock at the nearest store" has answers
worth showing and click & collect sometimes sources from the next store.
"""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from omni.demo.world import World
from omni.inventory import service as inventory_service


def opening_stock(world: World) -> list[tuple[str, str, int]]:
    """(sku, location, units) for every SKU at the warehouse and at each store."""
    rng = random.Random(f"omni-demo-stock:{world.seed}")
    lines: list[tuple[str, str, int]] = []
    for product in world.products:
        for variant in product.variants:
            lines.append((variant.sku, world.warehouse.code, rng.randint(30, 120)))
            for store in world.stores:
                units = 0 if rng.random() < 1 / 6 else rng.randint(1, 12)
                lines.append((variant.sku, store.code, units))
    return lines


def stock_the_shelves(session: Session, world: World) -> int:
    """Receive the opening stock of SKUs that have none yet; the stock levels created."""
    return inventory_service.open_stock(session, opening_stock(world))
