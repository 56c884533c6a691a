from __future__ import annotations

import re

import pytest

from omni.catalog.schemas import LocationCreate, LocationKind
from omni.demo.world import WEEKDAYS, build_world, ean13, ean13_check_digit

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _ean13_valid(code: str) -> bool:
    digits = [int(c) for c in code]
    weighted = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return len(code) == 13 and (weighted + digits[12]) % 10 == 0


@pytest.mark.parametrize(
    ("first12", "check"),
    [("400638133393", 1), ("590123412345", 7), ("978030640615", 7)],
    ids=["gs1-example", "wikipedia-example", "isbn-13"],
)
def test_ean13_check_digit_matches_published_codes(first12: str, check: int) -> None:
    assert ean13_check_digit(first12) == check


def test_every_variant_has_a_valid_unique_ean13_and_sku() -> None:
    world = build_world(7)
    variants = [variant for product in world.products for variant in product.variants]
    assert all(_ean13_valid(variant.barcode) for variant in variants)
    assert all(variant.barcode.startswith("471") for variant in variants)
    assert len({variant.barcode for variant in variants}) == len(variants)
    assert len({variant.sku for variant in variants}) == len(variants)
    assert ean13(1) == "4719876000019"


def test_catalogue_has_about_500_products_in_nine_categories_with_realistic_prices() -> None:
    world = build_world(7)
    assert len(world.products) == 500
    assert {p.category for p in world.products} == {c.slug for c in world.categories}
    assert [c.name for c in world.categories][:4] == ["上衣", "褲裝", "洋裝", "外套"]
    assert len({p.product_id for p in world.products}) == 500
    prices = [p.price_minor for p in world.products]
    assert min(prices) >= 39_000
    assert max(prices) <= 499_000
    assert all(price % 100 == 0 and price // 100 % 100 == 90 for price in prices)
    assert {p.currency for p in world.products} == {"TWD"}
    assert all(p.variants for p in world.products)


def test_stores_are_valid_locations_in_six_cities_of_taiwan() -> None:
    world = build_world(7)
    assert len(world.stores) == 6
    assert len({store.city for store in world.stores}) == 6
    for store in world.stores:
        LocationCreate(
            code=store.code,
            kind=LocationKind.STORE,
            name=store.name,
            name_en=store.name_en,
            city=store.city,
            address=store.address,
            latitude=store.latitude,
            longitude=store.longitude,
            timezone=store.timezone,
            opening_hours={day: list(spans) for day, spans in store.opening_hours.items()},
            click_and_collect=store.click_and_collect,
            daily_pickup_capacity=store.daily_pickup_capacity,
        )
        assert 21.8 < store.latitude < 25.4
        assert 119.9 < store.longitude < 122.1
        assert tuple(store.opening_hours) == WEEKDAYS
        assert all(HHMM.match(t) for spans in store.opening_hours.values() for span in spans for t in span)
        assert store.timezone == "Asia/Taipei"
        assert (store.daily_pickup_capacity > 0) == store.click_and_collect
    assert world.warehouse.code == "WH-TAOYUAN"
    assert world.store("TPE-XINYI").city == "台北市"


def test_sales_channels_are_the_online_shops_and_one_till_per_store() -> None:
    world = build_world(7)
    sources = [channel.source for channel in world.channels]
    assert sources[:3] == ["web", "app", "marketplace:shopee"]
    assert sources[3:] == [f"pos:{store.code}" for store in world.stores]


def test_the_catalogue_depends_only_on_the_seed() -> None:
    assert build_world(7) == build_world(7)
    assert build_world(7).products != build_world(8).products
