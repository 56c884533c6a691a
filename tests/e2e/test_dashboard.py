from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveOmni, Tab

pytestmark = pytest.mark.e2e

NAV_ZH_TW = ["總覽", "顧客", "分群", "旅程", "商品與庫存", "訂單", "會員與點數", "分析", "設定"]
NAV_EN = [
    "Overview",
    "Customers",
    "Segments",
    "Journeys",
    "Catalog & Stock",
    "Orders",
    "Loyalty",
    "Analytics",
    "Settings",
]
NAV_STORE_STAFF_ZH_TW = ["總覽", "顧客", "商品與庫存", "訂單", "會員與點數"]
# Horizontal overflow of the navigation and of the whole page, in CSS pixels.
OVERFLOW = """() => {
  const nav = document.querySelector('nav.sections');
  const page = document.documentElement;
  return {nav: nav.scrollWidth - nav.clientWidth, page: page.scrollWidth - window.innerWidth};
}"""


def _log_in(page: Any, omni: LiveOmni, email: str) -> None:
    page.goto(f"{omni.url}/")
    expect(page).to_have_url(f"{omni.url}/login?next=%2F")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", omni.password)
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(f"{omni.url}/")


def _nav(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("nav.sections a").all_inner_texts()]


def test_admin_logs_in_and_switches_language(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    # given a browser that prefers Traditional Chinese
    tab = open_tab(locale="zh-TW", width=1280)
    page = tab.page
    # when the admin logs in through the form
    _log_in(page, live_omni, live_omni.admin_email)
    # then the overview shows, in Traditional Chinese, with the script that refreshes it running
    expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
    expect(page.locator("h1")).to_have_text("總覽")
    assert _nav(page) == NAV_ZH_TW
    assert page.evaluate("() => typeof window.htmx") == "object"
    page.screenshot(path=tmp_path / "overview-zh-TW-1280.png", full_page=True)

    # when switching to English and back
    page.click("a[data-locale=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Overview")
    english_nav = _nav(page)
    page.screenshot(path=tmp_path / "overview-en-1280.png", full_page=True)
    page.click("a[data-locale=zh_TW]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-TW")
    # then the navigation followed each choice
    assert english_nav == NAV_EN
    assert _nav(page) == NAV_ZH_TW
    assert page.url == f"{live_omni.url}/"
    assert tab.console_errors == []


@pytest.mark.parametrize(
    ("language_link", "nav"),
    [pytest.param("zh_TW", NAV_ZH_TW, id="zh-TW"), pytest.param("en", NAV_EN, id="en")],
)
def test_navigation_fits_the_clienteling_tablet(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path, language_link: str, nav: list[str]
) -> None:
    # given an admin, who sees every section, on a 768 px wide tablet
    tab = open_tab(locale="zh-TW", width=768, height=1024)
    _log_in(tab.page, live_omni, live_omni.admin_email)
    # when
    tab.page.goto(f"{live_omni.url}/language/{language_link}?next=/catalog")
    # then every section is reachable without scrolling sideways
    expect(tab.page.locator("table.locations")).to_be_visible()
    assert _nav(tab.page) == nav
    assert tab.page.evaluate(OVERFLOW) == {"nav": 0, "page": 0}
    tab.page.screenshot(path=tmp_path / f"catalog-{language_link}-768.png", full_page=True)
    assert tab.console_errors == []


def test_store_staff_cannot_open_settings(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    # given a clerk logged in on the shop-floor tablet
    tab = open_tab(locale="zh-TW", width=768, height=1024)
    page = tab.page
    _log_in(page, live_omni, live_omni.staff_email)
    expect(page.locator("span.who")).to_have_text(f"Store_Staff Person · 門市人員 · {live_omni.staff_store}")
    assert _nav(page) == NAV_STORE_STAFF_ZH_TW
    # when
    response = page.goto(f"{live_omni.url}/settings")
    # then
    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("403 · 沒有權限")
    expect(page.get_by_text("您的角色無法使用此頁面。如有需要，請洽系統管理員。")).to_be_visible()
    assert _nav(page) == NAV_STORE_STAFF_ZH_TW
    page.screenshot(path=tmp_path / "settings-403-zh-TW-768.png", full_page=True)
    assert tab.console_errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
