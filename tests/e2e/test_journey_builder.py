"""A marketer builds a cart reminder on the journey canvas by clicking, publishes it and reopens it."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from omni.journeys import examples
from tests.e2e.conftest import LiveOmni, Tab

pytestmark = pytest.mark.e2e
TEMPLATES = {
    "cart_reminder": {"email": {"subject": "Your cart is waiting", "text": "Come back to your cart."}},
    "cart_sms_only": {"sms": {"text": "Your cart is waiting."}},
}
# Chrome reports every 4xx answer to fetch() on the console; the refused publish is expected to make one.
REFUSED_PUBLISH = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"


def _log_in(page: Any, omni: LiveOmni) -> None:
    page.goto(f"{omni.url}/login")
    page.fill("input[name=email]", omni.admin_email)
    page.fill("input[name=password]", omni.password)
    page.click("form[action='/login'] button[type=submit]")
    expect(page).to_have_url(f"{omni.url}/")


def _csrf(page: Any) -> str:
    token = page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    assert isinstance(token, str)
    return token


def _templates(page: Any, omni: LiveOmni) -> None:
    # The templates a send step can pick; saved through the API as a marketer's tools would.
    for name, variants in TEMPLATES.items():
        answer = page.request.post(
            f"{omni.url}/v1/templates",
            data={"name": name, "variants": variants},
            headers={"X-CSRF-Token": _csrf(page)},
        )
        # 409: an earlier test of this run saved it already.
        assert answer.status in (201, 409), answer.text()


def _open_builder(page: Any, omni: LiveOmni) -> None:
    page.goto(f"{omni.url}/journeys/new")
    expect(page.locator("#builder")).to_have_attribute("data-ready", "true")


def _add(page: Any, edge: str, step: str) -> None:
    page.click(f'[data-edge="{edge}"]')
    page.click(f'.jb-palette [data-type="{step}"]')


def _boxes(page: Any) -> list[str]:
    return sorted(page.eval_on_selector_all("#jb-svg [data-node]", "els => els.map(e => e.dataset.node)"))


def test_a_journey_built_by_clicking_is_published_and_reopens_as_a_graph(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    tab = open_tab(locale="en-US")
    page = tab.page
    _log_in(page, live_omni)
    _templates(page, live_omni)
    _open_builder(page, live_omni)
    # given a trigger on Checkout Started keyed to the cart
    page.fill("#jb-name", "Cart reminder (built)")
    page.fill("[name=trigger-event]", "Checkout Started")
    page.fill("[name=trigger-keys]", "cart_id")
    # when a wait for the same cart's order, timing out after 4 h, goes after the trigger
    _add(page, "__trigger__:start", "wait_event")
    page.fill("[name=wait-event]", "Order Completed")
    page.fill("[name=wait-keys]", "cart_id")
    page.fill("[name=timeout-hours]", "4")
    # and an email goes out on the timeout branch, before the exit
    _add(page, "wait_1:timeout_next", "send")
    page.select_option("[name=template]", "cart_reminder")
    # and a delay added after the email and deleted again leaves the email leading to the exit
    _add(page, "send_1:next", "delay")
    assert _boxes(page) == ["__trigger__", "delay_1", "done", "send_1", "wait_1"]
    page.click("#jb-delete")
    # and people may come back once every 2 days
    page.click('#jb-svg [data-node="__trigger__"]')
    page.select_option("[name=reentry-policy]", "once_per")
    page.fill("[name=reentry-days]", "2")
    # then the canvas shows the four boxes and the labelled branches
    assert _boxes(page) == ["__trigger__", "done", "send_1", "wait_1"]
    labels = page.eval_on_selector_all("#jb-svg .jb-label", "els => els.map(e => e.textContent)")
    assert "Timeout 4h" in labels
    assert "Order Completed" in labels
    # and the JSON editor holds what the canvas shows
    edited = json.loads(page.input_value("#jb-json"))
    assert edited["nodes"]["send_1"] == {
        "type": "send", "channel": "email", "message": {"template": "cart_reminder"}, "next": "done"
    }  # fmt: skip
    # when it is published
    page.click("#jb-publish")
    expect(page).to_have_url(re.compile(r"/journeys/\d+$"))
    journey_id = int(page.url.rsplit("/", 1)[1])
    # then the API holds that definition, active
    stored = page.request.get(f"{live_omni.url}/v1/journeys/{journey_id}").json()
    assert stored["status"] == "active"
    definition = stored["definition"]
    assert (definition["trigger"]["event"], definition["trigger"]["keys"]) == (
        "Checkout Started",
        ["cart_id"],
    )
    assert definition["start"] == "wait_1"
    wait, send = definition["nodes"]["wait_1"], definition["nodes"]["send_1"]
    assert (wait["type"], wait["event"], wait["keys"], wait["timeout"]) == (
        "wait_event",
        "Order Completed",
        ["cart_id"],
        {"days": 0, "hours": 4, "minutes": 0, "seconds": 0},
    )
    assert (wait["next"], wait["timeout_next"]) == ("done", "send_1")
    assert (send["channel"], send["message"]["template"], send["next"]) == ("email", "cart_reminder", "done")
    assert definition["nodes"]["done"] == {"type": "exit"}
    assert set(definition["nodes"]) == {"wait_1", "send_1", "done"}
    assert definition["reentry"] == {"policy": "once_per", "days": 2}
    # and the reopened journey draws the same graph, with people per step
    page.goto(f"{live_omni.url}/journeys/{journey_id}")
    expect(page.locator("#builder")).to_have_attribute("data-ready", "true")
    assert _boxes(page) == ["__trigger__", "done", "send_1", "wait_1"]
    expect(page.locator('#jb-svg [data-node="wait_1"]')).to_contain_text("Reached 0")
    page.click('#jb-svg [data-node="send_1"]')
    expect(page.locator("[name=template]")).to_have_value("cart_reminder")
    screenshots = Path(os.environ.get("OMNI_SCREENSHOTS", tmp_path))
    page.screenshot(path=screenshots / "journey-builder-en-1280.png", full_page=True)
    assert tab.console_errors == []


def test_a_refused_publish_highlights_the_step_the_api_names(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    tab = open_tab(locale="zh-TW", width=768, height=1024)
    page = tab.page
    _log_in(page, live_omni)
    _templates(page, live_omni)
    _open_builder(page, live_omni)
    # given an email step whose template has only an SMS variant
    page.fill("#jb-name", "Broken reminder")
    _add(page, "__trigger__:start", "send")
    page.select_option("[name=channel]", "email")
    page.select_option("[name=template]", "cart_sms_only")
    # when it is published
    page.click("#jb-publish")
    # then the step is highlighted with the API's problem, and nothing was saved
    expect(page.locator('#jb-svg [data-node="send_1"]')).to_have_class(re.compile(r"\bjb-invalid\b"))
    expect(page.locator("#jb-problems")).to_contain_text(
        "nodes.send_1.message.variants: needs a email variant for node send_1"
    )
    expect(page.locator("#jb-panel")).to_contain_text("needs a email variant")
    assert page.url.endswith("/journeys/new")
    names = [j["name"] for j in page.request.get(f"{live_omni.url}/v1/journeys").json()]
    assert "Broken reminder" not in names
    # and the builder stays usable at 768 px: the page itself does not scroll sideways
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshots = Path(os.environ.get("OMNI_SCREENSHOTS", tmp_path))
    page.screenshot(path=screenshots / "journey-builder-refused-zh-TW-768.png", full_page=True)
    assert tab.console_errors == [REFUSED_PUBLISH]


def test_an_existing_journey_with_a_split_and_a_holdout_is_drawn_at_tablet_width(
    live_omni: LiveOmni, open_tab: Callable[..., Tab], tmp_path: Path
) -> None:
    # given the ready-made cart abandonment journey, saved through the API
    tab = open_tab(locale="en-US", width=768, height=1024)
    page = tab.page
    _log_in(page, live_omni)
    answer = page.request.post(
        f"{live_omni.url}/v1/journeys",
        data={"name": "Cart abandonment (example)", "definition": examples.cart_abandonment()},
        headers={"X-CSRF-Token": _csrf(page)},
    )
    assert answer.status == 201, answer.text()
    # when its page is opened on a tablet
    page.goto(f"{live_omni.url}/journeys/{answer.json()['id']}")
    expect(page.locator("#builder")).to_have_attribute("data-ready", "true")
    # then every step is a box and the branches carry their labels
    steps = ["__trigger__", "done", "email", "one_day", "ordered", "sms", "split", "wait_order"]
    assert _boxes(page) == steps
    labels = page.eval_on_selector_all("#jb-svg .jb-label", "els => els.map(e => e.textContent)")
    assert sorted(labels) == ["10% Holdout", "90%", "Order Completed", "Timeout 1h"]
    # and a step's settings open in the panel, below the canvas at this width
    page.click('#jb-svg [data-node="split"]')
    expect(page.locator("[name=percent-1]")).to_have_value("10")
    canvas, panel = page.locator("#jb-canvas").bounding_box(), page.locator("#jb-panel").bounding_box()
    assert panel["y"] >= canvas["y"] + canvas["height"]
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshots = Path(os.environ.get("OMNI_SCREENSHOTS", tmp_path))
    page.screenshot(path=screenshots / "journey-builder-example-en-768.png", full_page=True)
    # when a second version is saved, the first is drawn read only: no + to insert, no field to change
    journey_id = answer.json()["id"]
    saved = page.request.put(
        f"{live_omni.url}/v1/journeys/{journey_id}",
        data={"definition": examples.cart_abandonment(wait_hours=2)},
        headers={"X-CSRF-Token": _csrf(page)},
    )
    assert saved.status == 200, saved.text()
    page.goto(f"{live_omni.url}/journeys/{journey_id}?version=1")
    expect(page.locator("#builder")).to_have_attribute("data-ready", "true")
    assert _boxes(page) == steps
    assert page.locator("#jb-svg [data-edge]").count() == 0
    page.click('#jb-svg [data-node="wait_order"]')
    expect(page.locator("[name=wait-event]")).to_be_disabled()
    assert page.locator("#jb-delete").count() == 0
    assert tab.console_errors == []
