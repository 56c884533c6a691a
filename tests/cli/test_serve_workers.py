"""`omni serve --workers N`: HTTP processes share one port; the log's consumers run once beside them."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

from sqlalchemy import select

from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events.consumers import lags
from omni.identity.models import Identifier
from tests.events.tracking_helpers import basic_auth, free_port, make_source, serve


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_two_workers_ingest_and_the_supervisor_processes_the_log(committed: Database, tmp_path: Path) -> None:
    # given a server with two worker processes
    source = make_source(committed)
    port = free_port()
    server = serve(committed.url, port, tmp_path, "--workers", "2")
    try:
        workers = _children(server.pid)
        # when 20 people are identified through it
        for i in range(20):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            body = {
                "userId": f"member-{i}",
                "traits": {"email": f"person{i}@example.com"},
                "messageId": f"m{i}",
            }
            headers = basic_auth(source.write_key) | {"Content-Type": "application/json"}
            connection.request("POST", "/v1/identify", body=json.dumps(body), headers=headers)
            assert connection.getresponse().status == 200
        # then every event is stitched by the consumers the supervising process runs
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with committed.unit_of_work() as session:
                if all(lag.lag == 0 for lag in lags(session, ALL_CONSUMERS)):
                    break
            time.sleep(0.2)
        with committed.unit_of_work() as session:
            emails = session.scalars(select(Identifier.value).where(Identifier.kind == "email")).all()
            assert sorted(emails) == sorted(f"person{i}@example.com" for i in range(20))
    finally:
        server.terminate()
        server.wait(30)
    assert len(workers) >= 2
