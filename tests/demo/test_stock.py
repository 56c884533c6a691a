"""The demo retailer's opening stock: every SKU at the warehouse, most in the stores, loaded once."""

from __future__ import annotations

from omni.db.engine import Database
from omni.demo.loader import set_up_retailer
from omni.demo.stock import opening_stock, stock_the_shelves
from omni.demo.world import build_world
from omni.inventory import service as inventory_service


def test_every_sku_is_at_the_warehouse_and_most_are_in_each_store() -> None:
    world = build_world(7)
    lines = opening_stock(world)
    skus = {variant.sku for product in world.products for variant in product.variants}
    at_warehouse = {sku for sku, location, units in lines if location == world.warehouse.code and units > 0}
    assert at_warehouse == skus
    for store in world.stores:
        stocked = sum(1 for _, location, units in lines if location == store.code and units > 0)
        assert 0.7 * len(skus) < stocked < 0.95 * len(skus)
    assert opening_stock(build_world(7)) == lines


def test_setting_up_the_retailer_stocks_the_shelves_once(committed: Database) -> None:
    # given
    world = build_world(7)
    expected = sum(1 for _, _, units in opening_stock(world) if units > 0)
    # when the retailer is set up twice, as a second `omni demo` does
    set_up_retailer(committed, world)
    set_up_retailer(committed, world)
    # then
    with committed.unit_of_work() as session:
        assert len(inventory_service.level_rows(session, limit=100_000)) == expected
        assert stock_the_shelves(session, world) == 0
        assert inventory_service.reconcile(session) == []
        sku = world.products[0].variants[0].sku
        assert inventory_service.available_to_promise(session, sku=sku, channel="web") > 0
