from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.db.engine import Database
from tests.builders import make_user
from tests.catalog.builders import make_category, make_product, make_shop, product, variant

ROW = re.compile(r'<tr data-(?:code|sku)="([^"]+)"')


def _staff(client: TestClient, database: Database, role: Role = Role.ADMIN) -> None:
    with database.unit_of_work() as session:
        store = "TPE-XINYI" if role is Role.STORE_STAFF else None
        user = make_user(session, role=role, store_code=store)
        started = accounts_service.start_session(session, user, hours=1)
    client.cookies.set("omni_session", started.token)


def _catalogue(database: Database) -> None:
    with database.unit_of_work() as session:
        make_shop(session)
        make_category(session, "dresses")
        make_product(
            session,
            product(
                variants=[
                    variant("TOP-0001-BK-M", 1, web=49000, prices={"pos:TPE-XINYI": 45000}),
                    variant("TOP-0001-BK-L", 2, web=49000),
                ]
            ),
        )
        make_product(
            session,
            product(
                "DRS-0001",
                name="亞麻洋裝",
                name_en="Linen dress",
                category="dresses",
                variants=[variant("DRS-0001-S", 3)],
            ),
        )


def _rows(page: str, table: str) -> list[str]:
    start = page.index(f'<table class="{table}">')
    return ROW.findall(page[start : page.index("</table>", start)])


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STORE_STAFF], ids=["admin", "store-staff"])
def test_the_catalog_lists_products_channels_and_locations(
    client: TestClient, committed: Database, role: Role
) -> None:
    # given a catalogue
    _catalogue(committed)
    _staff(client, committed, role)
    # when the catalog page is opened in Traditional Chinese
    page = client.get("/catalog").text
    # then it lists the products with their price, the channels with who fulfils them, and the locations
    assert _rows(page, "products") == ["DRS-0001", "TOP-0001"]
    assert "NT$450–NT$490" in page
    assert _rows(page, "channels") == ["web", "pos:TPE-XINYI"]
    channels = page[page.index('<table class="channels">') :]
    web = channels[channels.index('data-code="web"') : channels.index('data-code="pos:TPE-XINYI"')]
    assert re.findall(r'data-location="([^"]+)"', web) == ["KHH-QIANZHEN", "TPE-XINYI", "WH-TAOYUAN"]
    assert "銷售通路" in page
    assert _rows(page, "locations") == ["KHH-QIANZHEN", "TPE-XINYI", "WH-TAOYUAN"]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ({"q": "linen"}, ["DRS-0001"]),
        ({"category": "tops"}, ["TOP-0001"]),
        ({"q": "4719876000026"}, ["TOP-0001"]),
        ({"q": "nothing-like-this"}, []),
    ],
    ids=["name", "category", "barcode", "none"],
)
def test_the_catalog_searches_and_filters_products(
    client: TestClient, committed: Database, query: dict[str, str], codes: list[str]
) -> None:
    _catalogue(committed)
    _staff(client, committed)
    page = client.get("/catalog", params=query).text
    assert (_rows(page, "products") if codes else "沒有符合的商品。" in page) == (codes or True)


def test_a_product_page_shows_variants_barcodes_and_prices_per_channel_in_english(
    client: TestClient, committed: Database
) -> None:
    _catalogue(committed)
    _staff(client, committed, Role.STORE_STAFF)
    client.cookies.set("omni_lang", "en")
    page = client.get("/catalog/products/TOP-0001", headers={"accept-language": "en"}).text
    assert "<h1>Cotton tee <code>TOP-0001</code></h1>" in page
    assert _rows(page, "variants") == ["TOP-0001-BK-M", "TOP-0001-BK-L"]
    assert "<code>4719876000026</code>" in page
    # the till's price on M, none on L
    m_row = page[page.index('data-sku="TOP-0001-BK-M"') : page.index('data-sku="TOP-0001-BK-L"')]
    assert re.findall(r'<td class="num">([^<]+)</td>', m_row) == ["NT$490", "NT$450"]
    assert "Variants and prices" in page


def test_an_unknown_product_page_is_a_404(client: TestClient, committed: Database) -> None:
    _staff(client, committed)
    assert client.get("/catalog/products/NOPE").status_code == 404
