"""A real Omni over HTTP and a real headless Chromium to drive it.

The server runs uvicorn in a background thread over a migrated SQLite file. Without Chromium the tests are
skipped, unless OMNI_TEST_E2E=required (as in CI), which turns that into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from omni.accounts.roles import Role
from omni.app import create_app
from omni.db.engine import Database
from omni.migrations import runner
from omni.settings import Settings
from tests.builders import PASSWORD, make_location, make_user

E2E_REQUIRED = os.environ.get("OMNI_TEST_E2E", "").lower() == "required"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STARTUP_SECONDS = 15


@dataclass(frozen=True)
class LiveOmni:
    url: str
    admin_email: str
    staff_email: str
    staff_store: str
    password: str = PASSWORD


@dataclass
class Tab:
    """A browser page and what its console reported as errors."""

    page: Any
    console_errors: list[str] = field(default_factory=list)


def _chromium() -> str:
    path = os.environ.get("OMNI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        message = f"Chromium not found at {path} (run `make browser`, or set OMNI_CHROMIUM)"
        if E2E_REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _wait_until_healthy(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the Omni server thread stopped during startup")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    pytest.fail(f"Omni did not answer {url}/healthz within {STARTUP_SECONDS} s")


@contextmanager
def serve(database: Database, data_dir: Path) -> Iterator[str]:
    """Serve Omni over an already migrated and filled database on a free port; yield its URL."""
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


@pytest.fixture(scope="session")
def live_omni(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveOmni]:
    """Omni served by uvicorn on a free port over a migrated SQLite database, with an admin and a clerk."""
    data_dir = tmp_path_factory.mktemp("e2e")
    database = Database(f"sqlite:///{data_dir / 'omni.db'}")
    runner.upgrade(database.engine)
    with database.unit_of_work() as session:
        store = make_location(session, code="TPE-XINYI")
        admin = make_user(session, role=Role.ADMIN, email="admin@shop.example")
        staff = make_user(session, role=Role.STORE_STAFF, store_code=store.code, email="clerk@shop.example")
    settings = Settings(data_dir=data_dir, secret_key="e2e-secret-" + "x" * 32, log_json=False)
    # Binding the socket here, not in uvicorn, means the port is ours before the thread starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, database), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="omni-e2e", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, thread)
        yield LiveOmni(url=url, admin_email=admin.email, staff_email=staff.email, staff_store=store.code)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()


# Module scope: Playwright's sync API keeps an event loop running in the main thread while it is open,
# which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the run."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_tab(browser: Any) -> Iterator[Callable[..., Tab]]:
    """Open a tab in a fresh browser context (its own cookies) that records console errors."""
    contexts: list[Any] = []

    def open_tab(*, locale: str, width: int = 1280, height: int = 900) -> Tab:
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = Tab(page=context.new_page())
        tab.page.on(
            "console",
            lambda message: tab.console_errors.append(message.text) if message.type == "error" else None,
        )
        tab.page.on("pageerror", lambda error: tab.console_errors.append(f"uncaught: {error}"))
        return tab

    yield open_tab
    for context in contexts:
        context.close()
