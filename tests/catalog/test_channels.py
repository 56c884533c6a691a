from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.errors import UnknownCategory, UnknownChannel
from omni.catalog.schemas import CategoryCreate, ChannelKind, LocationCreate, LocationKind, SalesChannelCreate
from omni.kit.errors import ValidationFailed
from tests.builders import make_location
from tests.catalog.builders import make_category, make_channel


def test_a_channel_is_fulfilled_from_exactly_the_locations_it_was_last_given(session: Session) -> None:
    # given two stores and a warehouse, and a web channel fulfilled from the warehouse and one store
    for code in ("TPE-XINYI", "KHH-QIANZHEN"):
        make_location(session, code=code)
    make_location(session, code="WH-TAOYUAN", kind=LocationKind.WAREHOUSE)
    make_channel(session, "web", locations=("WH-TAOYUAN", "TPE-XINYI"))
    # when it is saved again with the other store instead, and a buffer of 2
    saved = make_channel(session, "web", locations=("KHH-QIANZHEN", "WH-TAOYUAN"), stock_buffer=2)
    # then it is fulfilled from those two only
    assert (saved.locations, saved.stock_buffer) == (["KHH-QIANZHEN", "WH-TAOYUAN"], 2)
    assert [loc.code for loc in catalog_service.fulfilling_locations(session, "web")] == [
        "KHH-QIANZHEN",
        "WH-TAOYUAN",
    ]
    assert catalog_service.channel_view(session, "web") == saved
    assert catalog_service.get_channel(session, "web").stock_buffer == 2


def test_channels_list_online_first_then_tills_with_their_store(session: Session) -> None:
    make_location(session, code="TPE-XINYI")
    make_channel(session, "pos:TPE-XINYI", kind=ChannelKind.POS, store="TPE-XINYI", locations=("TPE-XINYI",))
    make_channel(session, "marketplace", kind=ChannelKind.MARKETPLACE)
    make_channel(session, "web")
    listed = catalog_service.list_channels(session)
    assert [(c.code, c.kind, c.store, c.locations) for c in listed] == [
        ("web", "web", None, []),
        ("marketplace", "marketplace", None, []),
        ("pos:TPE-XINYI", "pos", "TPE-XINYI", ["TPE-XINYI"]),
    ]


@pytest.mark.parametrize(
    ("store", "locations", "field", "rule"),
    [
        ("TPE-NOWHERE", ["WH-TAOYUAN"], "store", "no store has code 'TPE-NOWHERE'"),
        ("WH-TAOYUAN", ["WH-TAOYUAN"], "store", "no store has code 'WH-TAOYUAN'"),
        ("TPE-XINYI", ["TPE-XINYI", "TPE-NOWHERE"], "locations.1", "no location has code 'TPE-NOWHERE'"),
    ],
    ids=["unknown-store", "warehouse-is-no-store", "unknown-location"],
)
def test_a_channel_that_names_an_unknown_place_is_refused(
    session: Session, store: str, locations: list[str], field: str, rule: str
) -> None:
    make_location(session, code="TPE-XINYI")
    make_location(session, code="WH-TAOYUAN", kind=LocationKind.WAREHOUSE)
    with pytest.raises(ValidationFailed) as refused:
        make_channel(session, "pos:X", kind=ChannelKind.POS, store=store, locations=tuple(locations))
    assert refused.value.details == [{"field": field, "rule": rule}]
    with pytest.raises(UnknownChannel):
        catalog_service.get_channel(session, "pos:X")


@pytest.mark.parametrize(
    ("kind", "store", "message"),
    [
        (ChannelKind.POS, None, "a pos channel needs the code of its store"),
        (ChannelKind.WEB, "TPE-XINYI", "only a pos channel has a store, not a web channel"),
    ],
    ids=["till-without-store", "web-with-store"],
)
def test_only_a_till_has_a_store(kind: ChannelKind, store: str | None, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SalesChannelCreate(code="x", kind=kind, name="x", name_en="x", source="web", store=store)


def test_a_location_keeps_its_safety_stock(session: Session) -> None:
    data = LocationCreate(
        code="TPE-XINYI", kind=LocationKind.STORE, name="信義店", name_en="Xinyi", safety_stock=3
    )
    catalog_service.save_location(session, data)
    catalog_service.save_location(session, data.model_copy(update={"safety_stock": 1}))
    assert catalog_service.get_location(session, "TPE-XINYI").safety_stock == 1


def test_categories_nest_but_never_in_a_circle(session: Session) -> None:
    # given apparel > tops > tees
    make_category(session, "apparel")
    make_category(session, "tops", parent="apparel")
    make_category(session, "tees", parent="tops")
    # when apparel is put under tees, or under a category that does not exist
    with pytest.raises(ValidationFailed) as circle:
        make_category(session, "apparel", parent="tees")
    with pytest.raises(ValidationFailed) as unknown:
        make_category(session, "apparel", parent="shoes")
    # then both are refused and the tree is unchanged
    assert circle.value.details == [
        {"field": "parent", "rule": "tees is apparel itself or one of its subcategories"}
    ]
    assert unknown.value.details == [{"field": "parent", "rule": "no category has slug 'shoes'"}]
    assert [(c.slug, c.parent) for c in catalog_service.list_categories(session)] == [
        ("apparel", None),
        ("tees", "tops"),
        ("tops", "apparel"),
    ]
    assert len(catalog_service.category_and_descendants(session, "apparel")) == 3
    with pytest.raises(UnknownCategory):
        catalog_service.category_and_descendants(session, "shoes")


def test_a_category_is_renamed_in_place(session: Session) -> None:
    make_category(session, "tops")
    saved = catalog_service.save_category(session, CategoryCreate(slug="tops", name="上衣", name_en="Tops"))
    assert [(c.id, c.name) for c in catalog_service.list_categories(session)] == [(saved.id, "上衣")]
