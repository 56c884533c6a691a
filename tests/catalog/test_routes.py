from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.db.engine import Database
from tests.builders import make_user
from tests.catalog.builders import make_shop


def _staff(client: TestClient, database: Database, role: Role = Role.ADMIN) -> dict[str, str]:
    """Log a staff member in with a session cookie; return the CSRF header their writes must carry."""
    with database.unit_of_work() as session:
        user = make_user(session, role=role)
        started = accounts_service.start_session(session, user, hours=1)
    client.cookies.set("omni_session", started.token)
    return {"X-CSRF-Token": started.csrf_token}


def _shop(database: Database) -> None:
    with database.unit_of_work() as session:
        make_shop(session)


def _tee(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "棉質T恤",
        "name_en": "Cotton tee",
        "brand": "Omni Basics",
        "category": "tops",
        "variants": [
            {
                "sku": "TOP-0001-BK-M",
                "barcode": "4719876000019",
                "size": "M",
                "colour": "黑色",
                "colour_en": "Black",
                "prices": [
                    {"channel": "web", "amount_minor": 49000, "currency": "TWD"},
                    {"channel": "pos:TPE-XINYI", "amount_minor": 45000, "currency": "TWD"},
                ],
            }
        ],
    }
    return body | changes


def test_an_admin_puts_a_product_and_any_staff_reads_it(client: TestClient, committed: Database) -> None:
    # given a shop and an admin
    _shop(committed)
    csrf = _staff(client, committed)
    # when the admin puts a product
    put = client.put("/v1/products/TOP-0001", json=_tee(), headers=csrf)
    # then store staff read it, search it and look its SKU up by SKU and by barcode
    assert put.status_code == 200, put.text
    _staff(client, committed, Role.STORE_STAFF)
    read = client.get("/v1/products/TOP-0001").json()
    assert read == put.json()
    assert (read["code"], read["category"], read["variants"][0]["barcode"]) == (
        "TOP-0001",
        "tops",
        "4719876000019",
    )
    found = client.get("/v1/products", params={"q": "cotton", "category": "tops"}).json()
    assert [(i["code"], i["variant_count"], i["lowest_price_minor"]) for i in found["items"]] == [
        ("TOP-0001", 1, 45000)
    ]
    by_sku = client.get("/v1/variants/TOP-0001-BK-M").json()
    assert by_sku["product"]["code"] == "TOP-0001"
    assert by_sku["prices_by_channel"] == {
        "pos:TPE-XINYI": {"channel": "pos:TPE-XINYI", "amount_minor": 45000, "currency": "TWD"},
        "web": {"channel": "web", "amount_minor": 49000, "currency": "TWD"},
    }
    assert client.get("/v1/variants", params={"barcode": "4719876000019"}).json() == by_sku


def test_store_staff_may_read_but_not_write_the_catalogue(client: TestClient, committed: Database) -> None:
    _shop(committed)
    csrf = _staff(client, committed, Role.STORE_STAFF)
    assert client.get("/v1/sales-channels").status_code == 200
    refused = client.put("/v1/products/TOP-0001", json=_tee(), headers=csrf)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert client.get("/v1/products/TOP-0001").json()["error"]["code"] == "unknown_product"


def test_the_catalogue_api_needs_a_logged_in_staff_member(client: TestClient) -> None:
    response = client.get("/v1/products")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("body", "status", "field", "rule"),
    [
        (_tee(category="shoes"), 422, "category", "no category has slug 'shoes'"),
        (
            _tee(variants=[{"sku": "TOP-0001-M", "prices": [{"channel": "shopee", "amount_minor": 1}]}]),
            422,
            "variants.0.prices.0.channel",
            "no sales channel has code 'shopee'",
        ),
        (
            _tee(variants=[{"sku": "TOP-0001-M", "prices": [{"channel": "web", "amount_minor": 490.5}]}]),
            422,
            "body.variants.0.prices.0.amount_minor",
            "Input should be a valid integer",
        ),
        (
            _tee(variants=[{"sku": "TOP-0001-M", "prices": [{"channel": "web", "amount_minor": -1}]}]),
            422,
            "body.variants.0.prices.0.amount_minor",
            "Input should be greater than or equal to 0",
        ),
        (
            _tee(variants=[{"sku": "M","prices": [{"channel": "web", "amount_minor": 1, "currency": "NT"}]}]),
            422,
            "body.variants.0.prices.0.currency",
            "Value error, 'NT' is not an ISO 4217 currency code such as TWD",
        ),
        (
            _tee(variants=[{"sku": "TOP-0001-M", "barcode": "4719876000018"}]),
            422,
            "body.variants.0.barcode",
            "Value error, 4719876000018 has a wrong check digit: it should end in 9",
        ),
        (_tee(variants=[]), 422, "body.variants", "List should have at least 1 item after validation, not 0"),
    ],
    ids=["unknown-category", "unknown-channel", "fractional-price", "negative-price", "unknown-currency",
         "bad-barcode", "no-variants"],
)  # fmt: skip
def test_a_bad_product_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, committed: Database, body: dict[str, Any], status: int, field: str, rule: str
) -> None:
    _shop(committed)
    csrf = _staff(client, committed)
    response = client.put("/v1/products/TOP-0001", json=body, headers=csrf)
    assert response.status_code == status, response.text
    assert [(d["field"], d["rule"]) for d in response.json()["error"]["details"]] == [(field, rule)]
    assert client.get("/v1/products").json()["total"] == 0


def test_a_sku_of_another_product_is_a_409(client: TestClient, committed: Database) -> None:
    _shop(committed)
    csrf = _staff(client, committed)
    assert client.put("/v1/products/TOP-0001", json=_tee(), headers=csrf).status_code == 200
    response = client.put("/v1/products/TOP-0002", json=_tee(), headers=csrf)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == [
        {"field": "variants.0.sku", "rule": "SKU TOP-0001-BK-M belongs to product TOP-0001"}
    ]


def test_an_admin_puts_channels_and_locations(client: TestClient, committed: Database) -> None:
    # given a shop and an admin
    _shop(committed)
    csrf = _staff(client, committed)
    # when a marketplace channel with a buffer is added and a store stops click & collect
    channel = {
        "kind": "marketplace",
        "name": "蝦皮商城",
        "name_en": "Shopee mall",
        "source": "marketplace:shopee",
        "stock_buffer": 2,
        "locations": ["WH-TAOYUAN"],
    }
    put_channel = client.put("/v1/sales-channels/marketplace", json=channel, headers=csrf)
    store = client.get("/v1/locations/TPE-XINYI").json()
    store = {k: v for k, v in store.items() if k not in ("id", "code")} | {
        "click_and_collect": False,
        "safety_stock": 1,
    }
    put_store = client.put("/v1/locations/TPE-XINYI", json=store, headers=csrf)
    # then both read back, and lists show them
    assert put_channel.status_code == 200, put_channel.text
    assert client.get("/v1/sales-channels/marketplace").json() == put_channel.json() | {"code": "marketplace"}
    assert [c["code"] for c in client.get("/v1/sales-channels").json()] == [
        "web",
        "marketplace",
        "pos:TPE-XINYI",
    ]
    assert put_store.status_code == 200, put_store.text
    stores = client.get("/v1/locations", params={"kind": "store"}).json()
    assert [(s["code"], s["click_and_collect"], s["safety_stock"]) for s in stores] == [
        ("KHH-QIANZHEN", True, 0),
        ("TPE-XINYI", False, 1),
    ]
    assert stores[1]["opening_hours"]["mon"] == [["11:00", "21:30"]]
    assert (stores[1]["latitude"], stores[1]["daily_pickup_capacity"]) == (25.0396, 80)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/sales-channels/pos:X", {"kind": "pos", "name": "x", "name_en": "x", "source": "pos:X"}, "body"),
        ("/v1/sales-channels/web", {"kind": "web", "name": "x", "name_en": "x", "source": "web",
                              "locations": ["NOPE"]}, "locations.0"),
        ("/v1/locations/TPE-XINYI", {"kind": "store", "name": "x", "name_en": "x", "safety_stock": -1},
         "body.safety_stock"),
        ("/v1/categories/Bad Slug", {"name": "x", "name_en": "x"}, "path.slug"),
    ],
    ids=["till-without-store", "unknown-location", "negative-safety-stock", "bad-slug"],
)  # fmt: skip
def test_bad_channels_locations_and_categories_are_refused_naming_the_field(
    client: TestClient, committed: Database, path: str, body: dict[str, Any], field: str
) -> None:
    _shop(committed)
    csrf = _staff(client, committed)
    response = client.put(path, json=body, headers=csrf)
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_categories_are_put_and_listed(client: TestClient, committed: Database) -> None:
    _shop(committed)
    csrf = _staff(client, committed)
    put = client.put(
        "/v1/categories/tees", json={"name": "T恤", "name_en": "Tees", "parent": "tops"}, headers=csrf
    )
    assert put.status_code == 200, put.text
    assert [(c["slug"], c["parent"]) for c in client.get("/v1/categories").json()] == [
        ("tees", "tops"),
        ("tops", None),
    ]
