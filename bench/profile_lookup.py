"""Profile lookup benchmark: the 360° profile by phone or email over HTTP under concurrent load.

A database is filled by the demo retailer through `omni serve`'s tracking API and importer (its events then
stitched and indexed by every consumer, with three computed traits defined, and ANALYZEd as a live database
would be), then a fresh `omni serve` (the real app under uvicorn, one process, no consumers) answers
`GET /v1/profiles?phone=0912-345-678` / `?email=...` from client threads on keep-alive connections; phones
are written the local way so that every lookup normalises. Each answer is the full view: identities,
traits, computed traits and consent.

Two loads: paced (open loop at --rate per second, latency counted from when each request was due) is the
realistic one the target is for; saturated (every client back to back) shows where the box runs out.

Baselines measured in the same run, with the same number of requests and the same concurrency:
- primary-key reads: `SELECT * FROM identity_profile WHERE id = :id` straight from the database, one
  connection per client thread: the floor any lookup stands on;
- `GET /healthz` over the same server: what HTTP and the app's middleware cost by themselves.

Run: `.venv/bin/python -m bench.profile_lookup` (options: --customers, --lookups, --clients, --engines).
PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
answers. The target is p99 <= 20 ms for the lookup.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text

from bench.event_log import postgres_database
from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate
from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.demo.loader import load_demo
from omni.events.consumers import catch_up
from omni.migrations import runner
from omni.profiles import definitions
from omni.profiles.schemas import ComputedTraitCreate

TARGET_P99_MS = 20.0
COMPUTED_TRAITS = (
    ComputedTraitCreate(name="orders", aggregation="count", event="Order Completed"),
    ComputedTraitCreate(
        name="revenue_90d", aggregation="sum", event="Order Completed", property="revenue", window_days=90
    ),
    ComputedTraitCreate(
        name="favourite_category", aggregation="most_frequent", event="Product Viewed", property="category"
    ),
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(url: str, data_dir: Path) -> Iterator[tuple[int, int]]:
    """Run `omni serve --no-consumers` over url until the block ends; yield its port and process id."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {
        "OMNI_DATABASE_URL": url,
        "OMNI_DATA_DIR": str(data_dir),
        "OMNI_SECRET_KEY": "p" * 40,
        "OMNI_LOG_LEVEL": "warning",
    }
    with (data_dir / "server.log").open("wb") as log:
        command = [sys.executable, "-m", "omni", "serve", "--port", str(port), "--no-consumers"]
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/healthz")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("the server did not come up; see server.log")
            yield port, process.pid
        finally:
            process.terminate()
            process.wait(30)


def _local_phone(e164: str) -> str:
    # +886912345678 is written 0912-345-678 at a Taiwanese till.
    national = "0" + e164.removeprefix("+886")
    return f"{national[:4]}-{national[4:7]}-{national[7:]}" if e164.startswith("+886") else e164


def load(database: Database, customers: int, data_dir: Path, port: int) -> tuple[str, list[str], list[int]]:
    """Fill the database through the server at port, then index it; return a staff session cookie, lookup
    paths and profile ids."""
    with database.unit_of_work() as session:
        for trait in COMPUTED_TRAITS:
            definitions.create(session, trait)
    load_demo(
        database,
        base_url=f"http://127.0.0.1:{port}",
        customers=customers,
        seed=7,
        truth_dir=data_dir / "truth",
        timezone="Asia/Taipei",
        on_events=lambda _: None,
    )
    catch_up(database.sessions, ALL_CONSUMERS)
    # A live database has planner statistics (autovacuum, PRAGMA optimize); a freshly loaded one has none,
    # and the server here runs with autovacuum off, so PostgreSQL would plan as if every table were empty.
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    with database.unit_of_work() as session:
        user = accounts_service.create_user(
            session,
            UserCreate(
                email="bench@shop.example", display_name="Bench", password="bench password 1", role=Role.ADMIN
            ),
        )
        token = accounts_service.start_session(session, user, hours=2).token
        rows = session.execute(
            text("SELECT kind, value FROM identity_identifier WHERE kind IN ('phone', 'email') ORDER BY id")
        ).all()
        profiles = list(
            session.scalars(text("SELECT id FROM identity_profile WHERE merged_into_id IS NULL")).all()
        )
    paths = [
        f"/v1/profiles?phone={quote(_local_phone(value))}"
        if kind == "phone"
        else f"/v1/profiles?email={quote(value)}"
        for kind, value in rows
    ]
    return token, paths, profiles


def run_clients(
    clients: int, count: int, make_call: Callable[[], Callable[[int], None]], *, rate: float | None = None
) -> list[float]:
    """count calls spread over client threads, each with its own connection; latencies in ms.

    Without rate each client calls back to back (saturation). With rate the calls are due at a fixed
    pace (rate per second in all) and a latency counts from when a call was due, not from when a late
    client got round to it, so a slow server cannot hide its queue (coordinated omission).
    """
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []
    start = time.perf_counter() + 0.1

    def client(index: int) -> None:
        call = make_call()
        mine = []
        try:
            for n in range(index, count, clients):
                due = start + n / rate if rate else time.perf_counter()
                if rate:
                    time.sleep(max(0.0, due - time.perf_counter()))
                call(n)
                mine.append((time.perf_counter() - due) * 1000)
        except BaseException as exc:
            failures.append(exc)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return latencies


def http_caller(port: int, cookie: str, paths: list[str]) -> Callable[[], Callable[[int], None]]:
    def make() -> Callable[[int], None]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"cookie": f"omni_session={cookie}"}

        def call(n: int) -> None:
            connection.request("GET", paths[n % len(paths)], headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{paths[n % len(paths)]} answered {answer.status}: {body[:200]!r}")

        return call

    return make


def pk_caller(database: Database, ids: list[int]) -> Callable[[], Callable[[int], None]]:
    def make() -> Callable[[int], None]:
        connection = database.engine.connect()
        statement = text("SELECT * FROM identity_profile WHERE id = :id")

        def call(n: int) -> None:
            if connection.execute(statement, {"id": ids[n % len(ids)]}).first() is None:
                raise RuntimeError("a profile vanished")
            connection.rollback()

        return call

    return make


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time a process has used (from Linux's /proc), None where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int | None, count: int, run: Callable[[], list[float]]) -> tuple[list[float], float | None]:
    """Latencies of run and the server's CPU milliseconds per request meanwhile (None without a server).

    CPU per request barely moves when other work shares the machine, where latencies do.
    """
    before = cpu_seconds(pid) if pid else None
    latencies = run()
    after = cpu_seconds(pid) if pid else None
    cpu = (after - before) * 1000 / count if before is not None and after is not None else None
    return latencies, cpu


def _figures(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98]


def run_engine(name: str, url: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        database = Database(url)
        runner.upgrade(database.engine)
        loads = ((f"paced at {args.rate:.0f}/s", args.rate), ("saturated (back to back)", None))
        results: dict[str, dict[str, tuple[list[float], float | None]]] = {}
        started = time.perf_counter()
        with serve(url, data_dir) as (port, _):
            cookie, paths, profiles = load(database, args.customers, data_dir, port)
        with database.unit_of_work() as session:
            events = session.scalar(text("SELECT count(*) FROM event_log"))
        loaded = time.perf_counter() - started
        print(
            f"\n{name}: {args.customers:,} customers, {events:,} events, {len(profiles):,} live profiles, "
            f"{len(paths):,} phones and emails (loaded in {loaded:.0f} s)"
        )
        random.Random(1).shuffle(paths)
        random.Random(2).shuffle(profiles)
        count = args.lookups
        # A fresh server for the measurement: nothing left over from ingesting the load.
        with serve(url, data_dir) as (port, pid):
            run_clients(args.clients, min(300, count), http_caller(port, cookie, paths))  # warm up
            for load_name, rate in loads:
                results[load_name] = {
                    "profile lookup (HTTP, full view)": measured(
                        pid,
                        count,
                        partial(
                            run_clients, args.clients, count, http_caller(port, cookie, paths), rate=rate
                        ),
                    ),
                    "baseline: GET /healthz": measured(
                        pid,
                        count,
                        partial(
                            run_clients,
                            args.clients,
                            count,
                            http_caller(port, cookie, ["/healthz"]),
                            rate=rate,
                        ),
                    ),
                }
        for load_name, rate in loads:
            results[load_name]["baseline: primary-key read"] = measured(
                None,
                count,
                partial(run_clients, args.clients, count, pk_caller(database, profiles), rate=rate),
            )
        database.dispose()
        print(f"  {count:,} requests per line, {args.clients} concurrent clients")
        for load_name, figures in results.items():
            lookup_p50, lookup_p99 = _figures(figures["profile lookup (HTTP, full view)"][0])
            print(
                f"  {load_name:32} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10} {'p99 ratio':>10} "
                f"{'server CPU ms/req':>18}"
            )
            for label, (latencies, cpu) in figures.items():
                p50, p99 = _figures(latencies)
                print(
                    f"    {label:30} {p50:8.2f} {p99:8.2f} {lookup_p50 / p50:9.1f}x {lookup_p99 / p99:9.1f}x "
                    f"{'-' if cpu is None else f'{cpu:.2f}':>18}"
                )
            verdict = "meets" if lookup_p99 <= TARGET_P99_MS else "MISSES"
            print(f"    lookup p99 {lookup_p99:.1f} ms {verdict} the {TARGET_P99_MS:.0f} ms target")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100.0, help="Lookups per second in the paced run.")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    engines = args.engines.split(",")
    print(f"profile lookup on {os.cpu_count()} cores shared by clients, server and database")
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            run_engine("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", args)
    if "postgresql" in engines:
        with postgres_database() as url:
            if url is None:
                print("\nPostgreSQL: not reachable, skipped")
            else:
                run_engine("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
