"""The stock page: levels by SKU × location with the movements behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.inventory import service as inventory_service
from tests.builders import make_user
from tests.inventory.builders import make_skus, make_store

LEVEL = re.compile(r'<tr data-sku="([^"]+)" data-location="([^"]+)"')
MOVEMENT = re.compile(r'<tr data-reason="([^"]+)"')


def _staff(client: TestClient, database: Database, role: Role = Role.ADMIN) -> None:
    with database.unit_of_work() as session:
        user = make_user(session, role=role, store_code="XINYI" if role is Role.STORE_STAFF else None)
        started = accounts_service.start_session(session, user, hours=1)
    client.cookies.set("omni_session", started.token)


def _stock(database: Database) -> None:
    with database.unit_of_work() as session:
        make_store(session, "XINYI")
        make_store(session, "DAAN")
        make_skus(session, "TEE-M", "TEE-L")
        inventory_service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=4, note="PO 1")
        inventory_service.receive_stock(session, sku="TEE-L", location="DAAN", quantity=2)
        inventory_service.allocate(
            session, sku="TEE-M", location="XINYI", quantity=1, reference="order:1:line:1"
        )
        inventory_service.fulfil_allocation(session, reference="order:1:line:1")


def test_the_stock_page_shows_levels_and_movements(client: TestClient, committed: Database) -> None:
    # given
    _stock(committed)
    _staff(client, committed)
    # when
    page = client.get("/catalog/stock")
    # then
    assert page.status_code == 200
    assert LEVEL.findall(page.text) == [("TEE-L", "DAAN"), ("TEE-M", "XINYI")]
    assert MOVEMENT.findall(page.text) == ["sale", "receipt", "receipt"]
    assert "PO 1" in page.text


def test_store_staff_see_their_own_store_first_and_can_filter_by_sku(
    client: TestClient, committed: Database
) -> None:
    # given
    _stock(committed)
    _staff(client, committed, Role.STORE_STAFF)
    # when
    own = client.get("/catalog/stock")
    everywhere = client.get("/catalog/stock", params={"location": "", "sku": "TEE-L"})
    unknown = client.get("/catalog/stock", params={"sku": "NOPE"})
    # then
    assert LEVEL.findall(own.text) == [("TEE-M", "XINYI")]
    assert LEVEL.findall(everywhere.text) == [("TEE-L", "DAAN")]
    assert unknown.status_code == 200
    assert LEVEL.findall(unknown.text) == []


def test_the_stock_page_speaks_traditional_chinese(client: TestClient, committed: Database) -> None:
    _stock(committed)
    _staff(client, committed)
    page = client.get("/catalog/stock", headers={"accept-language": "zh-TW"})
    assert "現有庫存" in page.text
    assert "銷售" in page.text
