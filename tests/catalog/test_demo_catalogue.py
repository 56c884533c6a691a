from __future__ import annotations

from sqlalchemy import func, select

from omni.catalog import service as catalog_service
from omni.catalog.models import Price, Variant
from omni.db.engine import Database
from omni.demo.catalogue import save_catalogue
from omni.demo.loader import set_up_retailer
from omni.demo.world import build_world


def test_the_demo_retailer_has_its_catalogue_channels_and_prices(committed: Database) -> None:
    # given the demo world
    world = build_world(7)
    # when the retailer is set up as `omni demo` does
    set_up_retailer(committed, world)
    # then every channel is fulfilled as the retailer runs it
    with committed.unit_of_work() as session:
        channels = {c.code: c for c in catalog_service.list_channels(session)}
        stores = sorted(store.code for store in world.stores)
        assert channels["web"].locations == channels["app"].locations == sorted(["WH-TAOYUAN", *stores])
        assert (channels["marketplace"].locations, channels["marketplace"].stock_buffer) == (
            ["WH-TAOYUAN"],
            2,
        )
        assert channels["web"].stock_buffer == 0
        for store in world.stores:
            till = channels[f"pos:{store.code}"]
            assert (till.kind, till.store, till.locations, till.source) == (
                "pos",
                store.code,
                [store.code],
                till.code,
            )
        assert len(channels) == 9
        # and every product, variant and price of the world is there
        assert [c.slug for c in catalog_service.list_categories(session)] == sorted(
            c.slug for c in world.categories
        )
        assert catalog_service.search_products(session).total == 500
        variants = sum(len(p.variants) for p in world.products)
        assert session.scalar(select(func.count()).select_from(Variant)) == variants
        assert session.scalar(select(func.count()).select_from(Price)) == variants * 9
        sample = world.products[123]
        read = catalog_service.get_product(session, sample.product_id)
        assert (read.name, read.name_en, read.brand, read.category) == (
            sample.name,
            sample.name_en,
            sample.brand,
            sample.category,
        )
        assert [(v.sku, v.barcode, v.size, v.colour) for v in read.variants] == [
            (v.sku, v.barcode, v.size, v.colour) for v in sample.variants
        ]
        sku = sample.variants[0].sku
        assert catalog_service.price_for(session, sku, "marketplace") == (sample.price_minor, "TWD")
        assert catalog_service.price_for(session, sku, "pos:TNN-ZHONGXI") == (sample.price_minor, "TWD")


def test_loading_the_demo_catalogue_twice_changes_nothing(committed: Database) -> None:
    world = build_world(7)
    set_up_retailer(committed, world)
    with committed.unit_of_work() as session:
        again = save_catalogue(session, world)
    assert (again.products_unchanged, again.products_created, again.products_updated) == (500, 0, 0)
    assert (again.variants_created, again.variants_updated, again.prices_written) == (0, 0, 0)
