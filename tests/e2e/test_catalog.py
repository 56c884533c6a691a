from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveOmni, Tab
from tests.e2e.test_dashboard import OVERFLOW, _log_in

pytestmark = pytest.mark.e2e

# Puts with the session's CSRF token, as the dashboard's own HTMX requests send it.
PUT = """async ([path, body]) => {
  const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
  const answer = await fetch(path, {method: 'PUT', body: JSON.stringify(body),
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token}});
  return answer.status;
}"""
CHANNELS = ["web", "app", "marketplace", "pos:TPE-XINYI"]


def _put(page: Any, path: str, body: dict[str, Any]) -> None:
    assert page.evaluate(PUT, [path, body]) == 200, path


def test_the_catalog_and_a_product_fit_the_clienteling_tablet(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    # given an admin on a 768 px tablet who puts four channels and a shoe in eight sizes through the API
    tab = open_tab(locale="zh-TW", width=768, height=1024)
    page = tab.page
    _log_in(page, live_omni, live_omni.admin_email)
    _put(page, "/v1/categories/shoes", {"name": "鞋", "name_en": "Shoes"})
    for code in CHANNELS:
        kind = code.partition(":")[0]
        _put(
            page,
            f"/v1/sales-channels/{code}",
            {
                "kind": kind,
                "name": f"{code} 通路",
                "name_en": code,
                "source": code,
                "locations": ["TPE-XINYI"],
            }
            | ({"store": "TPE-XINYI"} if kind == "pos" else {}),
        )
    sizes = ["23", "23.5", "24", "24.5", "25", "25.5", "26", "26.5"]
    variants = [
        {
            "sku": f"SHO-0001-BK-{size.replace('.', '')}",
            "size": size,
            "colour": "黑色",
            "colour_en": "Black",
            "prices": [{"channel": code, "amount_minor": 249000} for code in CHANNELS],
        }
        for size in sizes
    ]
    _put(
        page,
        "/v1/products/SHO-0001",
        {"name": "經典運動鞋", "name_en": "Classic sneakers", "category": "shoes", "variants": variants},
    )
    # when the catalog is searched and the product opened
    page.goto(f"{live_omni.url}/catalog")
    page.fill("input[name=q]", "運動鞋")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("table.products tbody tr")).to_have_count(1)
    assert page.evaluate(OVERFLOW) == {"nav": 0, "page": 0}
    page.screenshot(path=tmp_path / "catalog-products-zh-TW-768.png", full_page=True)
    page.click("table.products a >> nth=1")
    # then the variants and prices show without the page scrolling sideways
    expect(page.locator("h1")).to_contain_text("經典運動鞋")
    expect(page.locator("table.variants tbody tr")).to_have_count(8)
    expect(page.locator("table.variants tbody tr >> nth=0")).to_contain_text("NT$2,490")
    assert page.evaluate(OVERFLOW) == {"nav": 0, "page": 0}
    page.screenshot(path=tmp_path / "catalog-product-zh-TW-768.png", full_page=True)
    assert tab.console_errors == []
