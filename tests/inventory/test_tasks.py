"""The hold-expiry job and the `omni inventory` commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from omni.catalog.schemas import ChannelKind, LocationKind
from omni.db.engine import Database
from omni.inventory import service, tasks
from omni.kit.time import utc_now
from tests.inventory.builders import make_channel, make_skus, make_store


def test_the_expiry_job_releases_due_holds_in_batches(committed: Database) -> None:
    # given 7 holds due and 1 not, with batches of 3
    with committed.unit_of_work() as session:
        make_store(session, "XINYI")
        make_skus(session, "TEE-M")
        service.receive_stock(session, sku="TEE-M", location="XINYI", quantity=10)
        for n in range(8):
            service.reserve(
                session,
                sku="TEE-M",
                location="XINYI",
                quantity=1,
                expires_at=utc_now() + timedelta(minutes=5 if n < 7 else 50),
                reference=f"cart:{n}",
            )
    # when
    released = tasks.release_expired_holds(committed.sessions, now=utc_now() + timedelta(minutes=10), batch=3)
    # then
    assert released == 7
    with committed.unit_of_work() as session:
        (level,) = service.level_rows(session, sku="TEE-M")
        assert level.reserved == 1
        assert service.reconcile(session) == []


def _omni(database: Database, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {"OMNI_DATA_DIR": str(tmp_path), "OMNI_DATABASE_URL": database.url}
    return subprocess.run(
        [sys.executable, "-m", "omni", "inventory", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_feed_command_prints_the_marketplace_feed_and_reconcile_agrees(
    committed: Database, tmp_path: Path
) -> None:
    # given
    with committed.unit_of_work() as session:
        make_store(session, "WH", kind=LocationKind.WAREHOUSE)
        make_skus(session, "TEE-M")
        make_channel(session, "momo", locations=["WH"], stock_buffer=2, kind=ChannelKind.MARKETPLACE)
        service.receive_stock(session, sku="TEE-M", location="WH", quantity=7)
    # when
    feed = _omni(committed, tmp_path, "feed", "momo")
    checked = _omni(committed, tmp_path, "reconcile")
    # then
    assert feed.returncode == 0, feed.stderr
    assert feed.stdout == "sku,quantity\nTEE-M,5\n"
    assert checked.returncode == 0, checked.stderr
    assert "agrees" in checked.stderr
