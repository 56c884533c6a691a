"""A marketer opens the analytics page over the simulated retailer and every chart is drawn in Chromium."""

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
from omni.demo.simulate import simulate
from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.migrations import runner
from omni.profiles import indexing as profiles_indexing
from omni.settings import Settings
from tests.builders import PASSWORD, make_user
from tests.e2e.conftest import Tab, _wait_until_healthy

pytestmark = pytest.mark.e2e
DEMO_CUSTOMERS = 120
TRUTH_FIELDS = ("truth_person_id", "truth_person", "source")
# Charts whose data the simulated retailer has (it records no consent, so reachability has no opt-ins,
# but it still has people and addresses to chart).
DRAWN = (
    "funnel",
    "omnichannel",
    "retention",
    "retention-channel",
    "top-products",
    "top-categories",
    "heatmap",
    "baskets",
    "reachability",
    "frequency",
    "paths",
)
# How many data points the first series of a chart holds, read from its ECharts instance.
SERIES_POINTS = """(box) => {
  const option = echarts.getInstanceByDom(box).getOption();
  return option.series[0].data.length;
}"""
CANVAS_INKED = """(box) => {
  const canvas = box.querySelector('canvas');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked++; } }
  return inked;
}"""


def _load_simulated_retailer(database: Database) -> None:
    # The events go through the log, identity and the profile index as the tracking API's consumers
    # would take them; the demo's HTTP round trip adds nothing to what the charts read.
    by_source: dict[str, list[dict[str, Any]]] = {}
    for event in simulate(customers=DEMO_CUSTOMERS, seed=7):
        message = {k: v for k, v in event.items() if k not in TRUTH_FIELDS}
        by_source.setdefault(str(event["source"]), []).append(message)
    with database.unit_of_work() as session:
        for source, messages in by_source.items():
            records = events_service.build_records(
                messages, source=source, default_channel=source.split(":")[0]
            )
            events_service.append_events(session, records)
        batch = events_service.events_after(session, 0, limit=1_000_000)
        identity_service.stitch(session, batch)
        profiles_indexing.index_events(session, batch)
        make_user(session, role=Role.MARKETER, email="marketer@shop.example")


@pytest.fixture(scope="module")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Omni serving the simulated retailer's events; yields its URL."""
    data_dir = tmp_path_factory.mktemp("e2e-analytics")
    database = Database(f"sqlite:///{data_dir / 'omni.db'}")
    runner.upgrade(database.engine)
    _load_simulated_retailer(database)
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
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_every_analytics_chart_is_drawn_from_its_data(
    retailer: str, open_tab: Callable[..., Tab], tmp_path: Path, locale: str
) -> None:
    # given a marketer logged in
    tab = open_tab(locale=locale, width=1280, height=900)
    page: Any = tab.page
    page.goto(f"{retailer}/analytics")
    page.fill("input[name=email]", "marketer@shop.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    # when the analytics page has fetched and drawn its charts
    expect(page.locator("h1")).to_have_text("分析" if locale == "zh-TW" else "Analytics")
    for chart in DRAWN:
        box = page.locator(f".chart[data-chart='{chart}']")
        expect(box).to_have_attribute("data-state", "drawn", timeout=15_000)
        # then each is a canvas with ink on it, drawn from a series holding data
        assert box.evaluate(SERIES_POINTS) > 0, chart
        assert box.evaluate(CANVAS_INKED) > 1000, chart
    screenshots = Path(os.environ.get("OMNI_SCREENSHOTS", tmp_path))
    page.screenshot(path=screenshots / f"analytics-{locale}-1280.png", full_page=True)
    assert tab.console_errors == []
