from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.import_mapping import ImportInvalid, Kind
from omni.events.importer import (
    ImportRequest,
    ImportSummary,
    Rejection,
    SkippedBatch,
    prepare_import,
    run_import,
)
from omni.events.models import LoggedEvent

NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
TAIPEI = ZoneInfo("Asia/Taipei")
ORDERS_HEADER = "order_id,member_id,ordered_at,store_code,sku,product_name,category,quantity,unit_price\n"


def _write(tmp_path: Path, name: str, content: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def _request(kind: Kind, path: Path, **options: Any) -> ImportRequest:
    defaults: dict[str, Any] = {"customers": "crm", "orders": "pos", "events": "import"}
    source = options.pop("source", defaults[kind])
    return ImportRequest(kind=kind, path=path, source=source, channel=source.partition(":")[0], **options)


def _import(database: Database | None, kind: Kind, path: Path, **options: Any) -> ImportSummary:
    return run_import(prepare_import(_request(kind, path, **options), now=NOW), database)


def _logged(database: Database) -> list[LoggedEvent]:
    with database.unit_of_work() as session:
        return list(events_service.events_after(session, 0, limit=1000))


def test_customers_become_identifies_with_segment_traits(committed: Database, tmp_path: Path) -> None:
    # given a CRM export with a byte order mark, as Excel in Taiwan saves "CSV UTF-8"
    path = _write(
        tmp_path,
        "crm.csv",
        "\ufeffcustomer_id,member_id,Email,手機,姓名,birthday,gender,city,address,opted_in_email,opted_in_sms\n"
        "C1,M001, Mei@Example.TW ,0912-345-678,林美玲,79/5/17,女,台北市,信義路五段7號,是,N\n",
    )
    # when
    summary = _import(committed, "customers", path)
    # then
    assert (summary.rows, summary.appended, summary.rejections) == (1, 1, [])
    (event,) = _logged(committed)
    assert (event.type, event.user_id, event.source, event.channel) == ("identify", "C1", "crm", "crm")
    assert event.traits == {
        "email": "Mei@Example.TW",
        "phone": "0912-345-678",
        "member_id": "M001",
        "name": "林美玲",
        "birthday": "1990-05-17",
        "gender": "female",
        "address": {"street": "信義路五段7號", "city": "台北市"},
        "opted_in_email": True,
        "opted_in_sms": False,
    }
    assert event.context == {"channel": "crm", "import": {"file": "crm.csv", "row": 2}}
    assert event.timestamp == NOW


def test_columns_are_mapped_by_flags(committed: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "members.csv", "會員,E-mail,行動,VIP等級\nM7,a@b.tw,0911222333,金卡\n")
    mapping = {"member_id": "會員", "email": "E-mail", "phone": "行動", "traits.vip_level": "VIP等級"}
    _import(committed, "customers", path, mapping=mapping)
    (event,) = _logged(committed)
    assert event.user_id == "M7"
    assert event.traits == {"email": "a@b.tw", "phone": "0911222333", "member_id": "M7", "vip_level": "金卡"}


@pytest.mark.parametrize("encoding", ["cp950", "big5"], ids=["cp950", "big5"])
def test_big5_file_is_read_with_its_encoding(encoding: str, committed: Database, tmp_path: Path) -> None:
    # given an export saved by Excel on a Traditional Chinese Windows (cp950, a superset of Big5), with
    # 許功蓋, whose second bytes are ASCII characters in Big5
    content = "會員編號,姓名,縣市\nM1,許功蓋,台北市\n"
    path = _write(tmp_path, "big5.csv", content, encoding=encoding)
    # when read as UTF-8 the file is refused before anything is stored
    with pytest.raises(ImportInvalid) as caught:
        prepare_import(_request("customers", path))
    # then with its encoding it imports
    _import(committed, "customers", path, encoding=encoding)
    assert caught.value.message == (
        "big5.csv line 1 is not valid utf-8 (byte 0xb7 at byte 1 of the line); "
        "Excel in Taiwan saves CSV as cp950: try --encoding cp950"
    )
    (event,) = _logged(committed)
    assert event.traits == {"member_id": "M1", "name": "許功蓋", "address": {"city": "台北市"}}


def test_orders_group_lines_by_order_id_with_exact_money(committed: Database, tmp_path: Path) -> None:
    # given three lines of order A1 (one of them after another order) and one of B2, one order per batch
    path = _write(
        tmp_path,
        "pos.csv",
        ORDERS_HEADER + 'A1,M001,2026/11/20 下午 02:32,TPE-XINYI,TS-01,棉T,上衣,2,"NT$1,290"\n'
        "B2,,2026-11-20 15:00,TPE-XINYI,SK-09,襪子,配件,1,99.50\n"
        "A1,,,,SK-09,襪子,配件,3,99.50\n",
    )
    # when
    summary = _import(committed, "orders", path, batch_size=1)
    # then
    assert (summary.rows, summary.messages, summary.batches, summary.rejections) == (3, 2, 2, [])
    walk_in, first = _logged(committed)
    assert (first.event, first.user_id, first.anonymous_id) == ("Order Completed", "M001", None)
    assert first.timestamp == datetime(2026, 11, 20, 6, 32, tzinfo=UTC)
    assert first.properties == {
        "order_id": "A1",
        "products": [
            {
                "sku": "TS-01",
                "name": "棉T",
                "category": "上衣",
                "price": 1290,
                "price_minor": 129000,
                "quantity": 2,
            },
            {
                "sku": "SK-09",
                "name": "襪子",
                "category": "配件",
                "price": 99.5,
                "price_minor": 9950,
                "quantity": 3,
            },
        ],
        "revenue": 2878.5,
        "revenue_minor": 287850,
        "currency": "TWD",
        "store_code": "TPE-XINYI",
    }
    assert first.context == {
        "channel": "pos",
        "store_code": "TPE-XINYI",
        "traits": {"member_id": "M001"},
        "import": {"file": "pos.csv", "rows": [2, 4]},
    }
    assert (walk_in.user_id, walk_in.anonymous_id) == (None, "receipt:TPE-XINYI:B2")


def _rejections(database: Database | None, kind: Kind, path: Path, **options: Any) -> list[Rejection]:
    return _import(database, kind, path, **options).rejections


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        (
            "orders",
            ORDERS_HEADER
            + 'A1,M1,2026-11-20 10:00,S1,X,"a\nlong name",c,1,10\n\nA2,M1,2026-13-01 10:00,S1,X,n,c,1,10\n',
            Rejection(
                4,
                "ordered_at: '2026-13-01 10:00' is not a date and time (YYYY-MM-DD HH:MM[:SS][+08:00], "
                "YYYY/M/D [上午|下午] H:MM or 民國 YYY/M/D)",
            ),
        ),
        (
            "orders",
            ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,-2,10\n",
            Rejection(2, "quantity: '-2' must be at least 1"),
        ),
        (
            "orders",
            ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,1.5,10\n",
            Rejection(2, "quantity: '1.5' is not a whole number"),
        ),
        (
            "orders",
            ORDERS_HEADER + ",M1,2026-11-20 10:00,S1,X,n,c,1,10\n",
            Rejection(2, "order_id: is empty; every line needs its order's id"),
        ),
        (
            "orders",
            ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,1,十元\n",
            Rejection(
                2,
                "unit_price (price): '十元' is not an amount of money "
                "(write it like 1290, 1,290.50 or NT$1,290)",
            ),
        ),
        (
            "orders",
            ORDERS_HEADER + "A1,M1,2026-12-31 10:00,S1,X,n,c,1,10\n",
            Rejection(2, "ordered_at: '2026-12-31 10:00' is in the future"),
        ),
        (
            "customers",
            "customer_id,email\n,a@b.tw\n",
            Rejection(2, "customer_id: is empty; every customer needs one (it becomes the userId)"),
        ),
        (
            "customers",
            "customer_id,email\nC1,not-an-email\n",
            Rejection(2, "email: 'not-an-email' is not an email address"),
        ),
        (
            "customers",
            "customer_id,birthday\nC1,1990-02-30\n",
            Rejection(2, "birthday: '1990-02-30' is not a date (YYYY-MM-DD, YYYY/M/D or 民國 YYY/M/D)"),
        ),
        (
            "customers",
            "customer_id,name\nC1,a\x00b\n",
            Rejection(2, "name: contains the NUL character (\\u0000)"),
        ),
        (
            "customers",
            "customer_id,address\nC1,台北市,信義區\n",
            Rejection(
                2,
                "column 3: the row has 3 cells but the header 2; a value holding the delimiter needs quotes",
            ),
        ),
        (
            "events",
            "type,event,userId,anonymousId\ntrack,Product Viewed,,\n",
            Rejection(2, "userId: userId or anonymousId is required"),
        ),
        (
            "events",
            "type,event,userId\nbogus,Product Viewed,u1\n",
            Rejection(2, "type: Input should be 'identify', 'track', 'page', 'screen', 'group' or 'alias'"),
        ),
        (
            "events",
            "type,event,userId,properties\ntrack,A,u1,{oops\n",
            Rejection(
                2,
                "properties: is not valid JSON "
                "(unexpected character, expected a string key: line 1 column 2 (char 1))",
            ),
        ),
    ],
    ids=[
        "bad-date-after-multiline-and-blank-rows",
        "negative-quantity",
        "fractional-quantity",
        "missing-order-id",
        "unparseable-money",
        "future-order",
        "missing-customer-id",
        "bad-email",
        "impossible-birthday",
        "nul-character",
        "unquoted-comma",
        "missing-userid-and-anonymousid",
        "unknown-type",
        "broken-json",
    ],
)
def test_rejected_row_is_reported_with_its_spreadsheet_row_and_reason(
    kind: Kind, content: str, expected: Rejection, tmp_path: Path
) -> None:
    path = _write(tmp_path, "export.csv", content)
    assert _rejections(None, kind, path) == [expected]


def test_lines_of_one_order_that_disagree_are_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "pos.csv",
        ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,1,10\nA1,M2,2026-11-20 10:00,S1,Y,n,c,1,10\n",
    )
    assert _rejections(None, "orders", path) == [
        Rejection(3, "member_id: 'M2' differs from 'M1' on row 2 of order A1")
    ]


def test_a_batch_with_a_rejected_row_stores_nothing_of_that_batch(
    committed: Database, tmp_path: Path
) -> None:
    # given five customers in batches of two, the fourth (row 5, under the header) with a broken birthday
    rows = ["C1,1990-01-01", "C2,1990-01-02", "C3,1990-01-03", "C4,1990-13-04", "C5,1990-01-05"]
    path = _write(tmp_path, "crm.csv", "customer_id,birthday\n" + "\n".join(rows) + "\n")
    # when
    summary = _import(committed, "customers", path, batch_size=2)
    # then the batch of rows 4-5 is skipped whole, the batches around it are stored
    assert [event.user_id for event in _logged(committed)] == ["C1", "C2", "C5"]
    assert summary.skipped == [SkippedBatch(number=2, first_row=4, last_row=5, rows=2)]
    assert (summary.rows, summary.imported_rows, summary.batches) == (5, 3, 3)
    assert summary.rejections == [
        Rejection(5, "birthday: '1990-13-04' is not a date (YYYY-MM-DD, YYYY/M/D or 民國 YYY/M/D)")
    ]


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("customers", "customer_id,email\nC1,a@b.tw\nC2,c@d.tw\n"),
        (
            "orders",
            ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,1,10\nA2,,2026-11-20 11:00,S1,Y,n,c,2,5\n",
        ),
        (
            "events",
            "event,anonymousId,timestamp,properties.path\n"
            "Page Viewed,a1,2026-11-20 10:00,/\nSigned Up,a1,,\n",
        ),
    ],
    ids=["customers", "orders", "events"],
)
def test_importing_the_same_file_again_adds_nothing(
    kind: Kind, content: str, committed: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path, "export.csv", content)
    first = _import(committed, kind, path)
    second = _import(committed, kind, path)
    assert (first.appended, first.already_in_log) == (2, 0)
    assert (second.appended, second.already_in_log, second.imported_rows) == (0, 2, 2)
    assert len(_logged(committed)) == 2


def test_a_corrected_customer_row_is_a_new_identify(committed: Database, tmp_path: Path) -> None:
    _import(committed, "customers", _write(tmp_path, "v1.csv", "customer_id,email\nC1,old@b.tw\nC2,c@d.tw\n"))
    summary = _import(
        committed, "customers", _write(tmp_path, "v2.csv", "customer_id,email\nC1,new@b.tw\nC2,c@d.tw\n")
    )
    assert (summary.appended, summary.already_in_log) == (1, 1)
    assert [(e.user_id, e.traits["email"]) for e in _logged(committed)] == [
        ("C1", "old@b.tw"),
        ("C2", "c@d.tw"),
        ("C1", "new@b.tw"),
    ]


def test_a_corrected_order_is_not_imported_again(committed: Database, tmp_path: Path) -> None:
    _import(
        committed,
        "orders",
        _write(tmp_path, "v1.csv", ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,1,10\n"),
    )
    summary = _import(
        committed,
        "orders",
        _write(tmp_path, "v2.csv", ORDERS_HEADER + "A1,M1,2026-11-20 10:00,S1,X,n,c,3,10\n"),
    )
    assert (summary.appended, summary.already_in_log) == (0, 1)
    (order,) = _logged(committed)
    assert order.properties["products"][0]["quantity"] == 1


def test_the_same_order_id_from_another_source_is_another_order(committed: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "pos.csv", "order_id,ordered_at,sku,unit_price\nA1,2026-11-20 10:00,X,10\n")
    _import(committed, "orders", path, source="pos:TPE-XINYI")
    _import(committed, "orders", path, source="pos:TPE-101")
    assert [(e.source, e.context["store_code"]) for e in _logged(committed)] == [
        ("pos:TPE-XINYI", "TPE-XINYI"),
        ("pos:TPE-101", "TPE-101"),
    ]


def test_parquet_orders_keep_typed_values(committed: Database, tmp_path: Path) -> None:
    path = tmp_path / "pos.parquet"
    table = pa.table(
        {
            "order_id": [1001, 1001],
            "customer_id": ["C9", "C9"],
            # Parquet written by a POS holds naive local times.
            "ordered_at": pa.array([datetime(2026, 11, 20, 14, 0)] * 2, pa.timestamp("us")),  # noqa: DTZ001
            "sku": ["TS-01", "SK-09"],
            "quantity": [1, 2],
            "unit_price": pa.array([Decimal("1290.00"), Decimal("99.50")], pa.decimal128(10, 2)),
            "total": [1489.0, 1489.0],
        }
    )
    pq.write_table(table, path)
    _import(committed, "orders", path, source="pos:TPE-XINYI")
    (order,) = _logged(committed)
    assert order.user_id == "C9"
    assert order.timestamp == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    assert order.properties == {
        "order_id": "1001",
        "products": [
            {"sku": "TS-01", "price": 1290, "price_minor": 129000, "quantity": 1},
            {"sku": "SK-09", "price": 99.5, "price_minor": 9950, "quantity": 2},
        ],
        "revenue": 1489,
        "revenue_minor": 148900,
        "currency": "TWD",
        "total": 1489,
        "total_minor": 148900,
        "store_code": "TPE-XINYI",
    }


def test_parquet_events_keep_nested_and_typed_values(committed: Database, tmp_path: Path) -> None:
    path = tmp_path / "app.parquet"
    table = pa.table(
        {
            "type": ["track", "identify"],
            "event": ["Product Added", None],
            "anonymousId": ["dev-1", "dev-1"],
            "userId": [None, "C9"],
            "timestamp": pa.array(
                [datetime(2026, 11, 20, 2, 0, tzinfo=UTC)] * 2, pa.timestamp("ms", tz="UTC")
            ),
            "properties": [{"sku": "TS-01", "quantity": 2, "price": 1290.0}, None],
            "traits.email": [None, "a@b.tw"],
        }
    )
    pq.write_table(table, path)
    summary = _import(committed, "events", path, source="app:ios")
    added, identified = _logged(committed)
    assert (summary.rows, summary.appended) == (2, 2)
    assert (added.event, added.anonymous_id, added.user_id, added.channel) == (
        "Product Added",
        "dev-1",
        None,
        "app",
    )
    assert added.properties == {"sku": "TS-01", "quantity": 2, "price": 1290.0}
    assert added.timestamp == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert (identified.type, identified.user_id, identified.traits) == ("identify", "C9", {"email": "a@b.tw"})


def test_events_take_dotted_columns_as_paths(committed: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "events.csv",
        "type,event,userId,timestamp,properties.product_id,properties.price,properties.zip,context.campaign.name\n"
        "track,Product Viewed,u1,2026-11-20T10:00:00+08:00,P-1,590,00123,雙11\n",
    )
    _import(committed, "events", path)
    (event,) = _logged(committed)
    assert (event.type, event.event, event.user_id, event.channel) == (
        "track",
        "Product Viewed",
        "u1",
        "import",
    )
    assert event.properties == {"product_id": "P-1", "price": 590, "zip": "00123"}
    assert event.context == {"campaign": {"name": "雙11"}, "import": {"file": "events.csv", "row": 2}}
    assert event.timestamp == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_semicolon_delimited_file(committed: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "crm.txt", "customer_id;city\nC1;台北市\n")
    _import(committed, "customers", path, delimiter=";")
    (event,) = _logged(committed)
    assert (event.user_id, event.traits) == ("C1", {"address": {"city": "台北市"}})


def test_dry_run_validates_and_stores_nothing(committed: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, "crm.csv", "customer_id\nC1\nC2\n")
    summary = _import(None, "customers", path)
    assert (summary.dry_run, summary.imported_rows, summary.messages, summary.appended) == (True, 2, 2, 0)
    assert _logged(committed) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file: {dir}/missing.csv"),
        (
            "sheet.xlsx",
            "x",
            "unknown format of sheet.xlsx: import .csv, .tsv, .txt or .parquet files, or say which "
            "with --format csv|parquet (save Excel sheets as CSV UTF-8)",
        ),
        ("empty.csv", "", "empty.csv is empty: it has no header row"),
    ],
    ids=["missing-file", "unknown-format", "empty-file"],
)
def test_unusable_files_are_refused_in_one_line(
    name: str, content: str | None, message: str, tmp_path: Path
) -> None:
    path = tmp_path / name if content is None else _write(tmp_path, name, content)
    with pytest.raises(ImportInvalid) as caught:
        prepare_import(_request("customers", path))
    assert caught.value.message == message.format(dir=tmp_path)
