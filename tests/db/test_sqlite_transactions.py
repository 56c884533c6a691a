"""SQLite units of work take the write lock first: read-then-write never fails beside another writer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from omni.db.engine import Database, reading


def _database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path}/omni.db")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    return database


def test_concurrent_read_then_write_units_of_work_all_succeed(tmp_path: Path) -> None:
    # given eight threads that each read the counter and write it back plus one, 25 times
    database = _database(tmp_path)
    failures: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with database.unit_of_work() as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then none failed with "database is locked" and no increment was lost
    assert failures == []
    with database.unit_of_work() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 200


def test_a_read_only_unit_of_work_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    # given a writer holding the write lock for a second
    database = _database(tmp_path)
    holding = threading.Event()

    def hold() -> None:
        with database.unit_of_work() as session:
            session.execute(text("UPDATE counter SET n = 7"))
            holding.set()
            time.sleep(1.0)

    writer = threading.Thread(target=hold)
    writer.start()
    holding.wait(5)
    # when a read-only unit of work reads meanwhile
    started = time.monotonic()
    with reading(), database.unit_of_work() as session:
        seen = session.execute(text("SELECT n FROM counter")).scalar_one()
    waited = time.monotonic() - started
    writer.join()
    # then it read the last committed value at once
    assert seen == 0
    assert waited < 0.5
