"""Bulk import benchmark: a POS export of order lines into the event log, against baselines in the same run.

Run: `.venv/bin/python -m bench.import_orders --lines 100000`. The baseline is the least any importer must
do: read the CSV (csv.reader) and append the same number of finished Order Completed records
(append_events). PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres) answers.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.event_log import postgres_database, timed
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.importer import ImportRequest, ImportSummary, prepare_import, run_import
from omni.events.spec import EventRecord
from omni.migrations import runner

START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
TAIPEI = ZoneInfo("Asia/Taipei")
HEADER = ["訂單編號", "會員編號", "交易時間", "門市", "品號", "品名", "類別", "數量", "單價", "幣別"]
PRODUCTS = [
    ("TS-01-M-BLK", "棉質寬版長袖上衣", "上衣", "NT$1,290"),
    ("SK-09-F", "機能運動襪 三入組", "配件", "399"),
    ("JN-22-30", "直筒牛仔褲", "褲裝", "NT$1,990.00"),
    ("CP-03", "棒球帽", "配件", "590"),
]


def write_export(path: Path, lines: int) -> int:
    """A POS export of order lines, three to an order on average, as a till writes them; returns orders."""
    rng = random.Random(7)
    orders = 0
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        written = 0
        while written < lines:
            orders += 1
            at = (START + timedelta(minutes=orders)).astimezone(TAIPEI).strftime("%Y/%m/%d %H:%M:%S")
            member = f"M{rng.randrange(10**7):08d}" if rng.random() < 0.7 else ""
            for _ in range(min(rng.randint(1, 5), lines - written)):
                sku, name, category, price = rng.choice(PRODUCTS)
                writer.writerow([f"T{orders:09d}", member, at, "TPE-XINYI", sku, name, category,
                                 rng.randint(1, 3), price, "TWD"])  # fmt: skip
                written += 1
    return orders


def finished_records(count: int) -> list[EventRecord]:
    """Order Completed records as the import makes them, for the append baseline."""
    payloads = [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": f"baseline-{i}",
            "userId": f"M{i:08d}",
            "timestamp": START + timedelta(minutes=i),
            "properties": {
                "order_id": f"B{i:09d}",
                "products": [
                    {
                        "sku": sku,
                        "name": name,
                        "category": cat,
                        "price": 1290,
                        "price_minor": 129000,
                        "quantity": 1,
                    }
                    for sku, name, cat, _ in PRODUCTS[:3]
                ],
                "revenue": 3870,
                "revenue_minor": 387000,
                "currency": "TWD",
                "store_code": "TPE-XINYI",
            },
            "context": {
                "channel": "pos",
                "store_code": "TPE-XINYI",
                "import": {"file": "x.csv", "rows": [1, 2, 3]},
            },
        }
        for i in range(count)
    ]
    return events_service.build_records(payloads, source="pos", default_channel="pos")


def run_engine(name: str, url: str, path: Path, lines: int, orders: int) -> None:
    database = Database(url)
    runner.upgrade(database.engine)
    request = ImportRequest(kind="orders", path=path, source="pos:TPE-XINYI", channel="pos")

    def read_csv() -> None:
        with path.open(encoding="utf-8-sig", newline="") as file:
            for _ in csv.reader(file):
                pass

    records = finished_records(orders)

    def append() -> None:
        for start in range(0, orders, 333):
            with database.unit_of_work() as session:
                events_service.append_events(session, records[start : start + 333])

    def imported(target: Database | None) -> ImportSummary:
        return run_import(prepare_import(request), target)

    baseline = timed(read_csv) + timed(append)
    runs: list[tuple[str, ImportSummary]] = []
    for label, target in (
        ("dry run (validate only)", None),
        ("import", database),
        ("re-run (all present)", database),
    ):
        runs.append((label, imported(target)))
    print(f"\n{name}: {lines:,} order lines, {orders:,} orders, batches of 1,000 lines")
    print(f"  {'baseline csv.reader + append':<30}{lines / baseline:>10,.0f} lines/s  {baseline:6.2f} s")
    for label, summary in runs:
        assert not summary.rejections, summary.rejections[:3]
        ratio = summary.seconds / baseline
        print(
            f"  {label:<30}{summary.rows_per_second:>10,.0f} lines/s  {summary.seconds:6.2f} s"
            f"  = {ratio:.2f}x baseline time  (appended {summary.appended:,})"
        )
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pos_export.csv"
        orders = write_export(path, args.lines)
        print(f"export: {path.stat().st_size / 1e6:.1f} MB, {args.lines:,} lines")
        run_engine("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", path, args.lines, orders)
        with postgres_database() as url:
            if url is None:
                print("\nPostgreSQL: not reachable, skipped")
            else:
                run_engine("PostgreSQL", url, path, args.lines, orders)


if __name__ == "__main__":
    main()
