"""Email delivery benchmark: messages recorded, claimed, sent over SMTP into a local aiosmtpd server (in a
process of its own, as a relay would be) and recorded as sent, against plain smtplib sending the same
messages over one connection in the same run.

Run: `.venv/bin/python -m bench.channels_email --emails 2000`. PostgreSQL is measured when
OMNI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) answers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from bench.event_log import postgres_database
from omni.channels import outcomes, service, tasks
from omni.channels.providers.base import Outgoing
from omni.channels.providers.smtp import SmtpProvider, build_email
from omni.channels.schemas import MessageContent
from omni.db.engine import Database
from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.migrations import runner
from omni.profiles import indexing as profiles_indexing
from omni.settings import Settings

VARIANT = {
    "subject": "{{ profile.first_name }}，您的訂單 {{ order.number }} 已可取貨",
    "html": "<html><body><p>{{ profile.first_name }} 您好，</p>"
    "<p>訂單 {{ order.number }} 已送達 {{ store.name }}。"
    '<a href="https://shop.example.tw/orders/{{ order.number }}">查看訂單</a></p></body></html>',
    "text": "{{ profile.first_name }} 您好，訂單 {{ order.number }} 已送達 {{ store.name }}。",
}


class Counting:
    def __init__(self, count: Synchronized[int]) -> None:
        self.count = count

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def _serve(port: int, count: Synchronized[int], ready: EventType, stop: EventType) -> None:
    controller = Controller(Counting(count), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def smtp_sink(port: int) -> Iterator[Synchronized[int]]:
    """A local SMTP server counting what it accepts, in a process of its own, as a mail relay would be:
    in this process it would share the interpreter lock with the sender being measured."""
    spawn = multiprocessing.get_context("spawn")
    count = spawn.Value("q", 0)
    ready, stop = spawn.Event(), spawn.Event()
    server = spawn.Process(target=_serve, args=(port, count, ready, stop), daemon=True)
    server.start()
    if not ready.wait(60):
        server.kill()
        raise SystemExit("the local SMTP server did not start")
    try:
        yield count
    finally:
        stop.set()
        server.join(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def member(database: Database) -> int:
    with database.unit_of_work() as session:
        payload = {
            "type": "identify",
            "userId": "bench-1",
            "messageId": "bench-identify-1",
            "traits": {"email": "amy@example.tw", "first_name": "Amy"},
        }
        events_service.append_events(
            session, events_service.build_records([payload], source="crm", default_channel="crm")
        )
        batch = events_service.events_after(session, 0, limit=10)
        identity_service.stitch(session, batch)
        profiles_indexing.index_events(session, batch)
        found = identity_service.find_profile(session, "user_id", "bench-1")
        assert found is not None
        return found


def run_engine(name: str, url: str, count: int, data_dir: Path) -> None:
    database = Database(url)
    runner.upgrade(database.engine)
    port = free_port()
    stack = ExitStack()
    received = stack.enter_context(smtp_sink(port))
    settings = Settings(
        data_dir=data_dir,
        secret_key="bench-" + "x" * 40,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
    )
    try:
        person = member(database)
        started = time.perf_counter()
        ids = []
        for start in range(0, count, 100):
            with database.unit_of_work() as session:
                for i in range(start, min(start + 100, count)):
                    message = service.send(
                        session,
                        profile_id=person,
                        channel="email",
                        message=MessageContent(
                            variants={"email": VARIANT},
                            data={"order": {"number": f"{10000 + i}"}, "store": {"name": "信義店"}},
                        ),
                        idempotency_key=f"bench:{i}",
                        purpose="transactional",
                        settings=settings,
                    )
                    ids.append(message.id)
        recorded = time.perf_counter() - started
        with database.unit_of_work() as session:
            contents = [service.outgoing(outcomes.get_message(session, i)) for i in ids]
        started = time.perf_counter()
        done = tasks.deliver_due(database, settings, limit=count, batch=50)
        delivered = time.perf_counter() - started
        if done["sent"] != count or received.value != count:
            raise SystemExit(f"lost messages: {done} recorded, {received.value} received")
        started = time.perf_counter()
        raw(port, contents)
        baseline = time.perf_counter() - started
    finally:
        stack.close()
        database.dispose()
    print(f"\n{name}: {count:,} emails (HTML + text) into a local SMTP server")
    print(f"  plain smtplib, one connection   {count / baseline:>7,.0f}/s  (baseline)")
    ratio = baseline / delivered
    print(f"  Omni delivery: claim, send,     {count / delivered:>7,.0f}/s  = {ratio:.2f}x baseline")
    print(f"    record sent, log Email Sent ({SmtpProvider.lanes} SMTP connections)")
    print(f"  Omni send intents recorded      {count / recorded:>7,.0f}/s  (render, policies, Email Queued)")


def raw(port: int, messages: list[Outgoing]) -> None:
    connection = smtplib.SMTP("127.0.0.1", port)
    for outgoing in messages:
        connection.send_message(build_email(outgoing, sender="Omni <shop@example.com>"))
    connection.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_engine("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", args.emails, Path(tmp))
    with postgres_database() as url, tempfile.TemporaryDirectory() as tmp:
        if url is None:
            print("\nPostgreSQL: not reachable, skipped")
        else:
            run_engine("PostgreSQL", url, args.emails, Path(tmp))


if __name__ == "__main__":
    main()
