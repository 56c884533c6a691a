"""Helpers shared by the tracking API tests: a source with its write key, and Segment's Basic auth."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from omni.db.engine import Database
from omni.events import sources as events_sources
from omni.events.schemas import CreatedSource, SourceCreate, SourceKind


def make_source(
    database: Database,
    *,
    name: str | None = "webshop",
    kind: SourceKind = SourceKind.WEB,
    store_code: str | None = None,
    channel: str | None = None,
) -> CreatedSource:
    """Create and commit a source; the result carries its plaintext write key."""
    with database.unit_of_work() as session:
        return events_sources.create_source(
            session, SourceCreate(name=name, kind=kind, store_code=store_code, default_channel=channel)
        )


def basic_auth(write_key: str) -> dict[str, str]:
    """The Authorization header Segment's SDKs send: the write key as user name, no password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(database_url: str, port: int, data_dir: Path, *options: str) -> subprocess.Popen[bytes]:
    """Start `omni serve` over database_url in a process of its own and return once it answers."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {
        "OMNI_DATABASE_URL": database_url,
        "OMNI_DATA_DIR": str(data_dir),
        "OMNI_SECRET_KEY": "s" * 40,
        "OMNI_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "omni", "serve", "--port", str(port), *options]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError("omni serve did not come up")
