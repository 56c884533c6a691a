"""A clerk on the shop-floor tablet finds a customer by phone and opens the 360° profile."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import expect

from omni.accounts.roles import Role
from omni.app import create_app
from omni.db.engine import Database
from omni.migrations import runner
from omni.profiles import definitions
from omni.profiles.schemas import ComputedTraitCreate
from omni.settings import Settings
from tests.builders import PASSWORD, make_location, make_user
from tests.e2e.conftest import Tab, _wait_until_healthy
from tests.profiles.builders import at, identify, ingest, order, track

pytestmark = pytest.mark.e2e
# Horizontal overflow of the whole page, in CSS pixels.
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Omni over a database with one member's history on several channels; yields (url, clerk email)."""
    data_dir = tmp_path_factory.mktemp("e2e-customers")
    database = Database(f"sqlite:///{data_dir / 'omni.db'}")
    runner.upgrade(database.engine)
    with database.unit_of_work() as session:
        store = make_location(session, code="TPE-XINYI")
        clerk = make_user(session, role=Role.STORE_STAFF, store_code=store.code, email="clerk@shop.example")
        definitions.create(
            session, ComputedTraitCreate(name="orders", aggregation="count", event="Order Completed")
        )
        traits = {"name": "王小明", "phone": "0912-345-678", "member_id": "M00000042", "email_opt_in": True}
        ingest(session, identify("crm", user_id="M00000042", traits=traits, when=at(40)), source="crm")
        ingest(
            session, order("pos-1", user_id="M00000042", revenue=1290, when=at(20)), source="pos:TPE-XINYI"
        )
        ingest(
            session,
            track(
                "web-1", "Product Viewed", when=at(2), user_id="M00000042", properties={"name": "格紋牛仔褲"}
            ),
        )
    settings = Settings(data_dir=data_dir, secret_key="e2e-secret-" + "x" * 32, log_json=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings, database), log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        _wait_until_healthy(url, thread)
        yield url, clerk.email
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()


def test_clerk_finds_a_customer_by_phone_and_opens_the_profile(
    shop: tuple[str, str], open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    url, clerk = shop
    # given a clerk logged in on a 768 px tablet
    tab = open_tab(locale="zh-TW", width=768, height=1024)
    page: Any = tab.page
    page.goto(f"{url}/customers")
    page.fill("input[name=email]", clerk)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("顧客")
    # when the clerk types the phone as the customer says it, and opens the result
    page.fill("input[name=q]", "+886 912 345 678")
    page.press("input[name=q]", "Enter")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.screenshot(path=tmp_path / "customers-search-zh-TW-768.png", full_page=True)
    page.click("#results tbody tr a")
    # then the profile shows the name, traits, the computed order count, consent and the timeline
    expect(page.locator("h1")).to_have_text("王小明")
    expect(page.locator("#traits tr[data-trait=member_id] td").nth(1)).to_have_text("M00000042")
    expect(page.locator("#computed .tile[data-trait=orders] .figure")).to_have_text("1")
    expect(page.locator("#consent tr[data-consent=email-marketing]")).to_have_attribute(
        "data-status", "granted"
    )
    expect(page.locator("#timeline td.channel")).to_have_text(["◎ 官網", "⌂ 門市 POS", "☰ CRM"])
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    page.screenshot(
        path=Path(os.environ.get("OMNI_SCREENSHOTS", tmp_path)) / "profile-zh-TW-768.png", full_page=True
    )
    assert tab.console_errors == []
