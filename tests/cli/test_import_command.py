"""`omni import` as a user runs it: a real process on each engine, its exit code and what it prints."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from omni.db.engine import Database
from omni.events import service as events_service
from tests.cli.test_commands import omni

ORDERS = (
    "\ufeff訂單編號,會員編號,交易時間,門市,品號,數量,單價\n"
    'A1,M001,2026/11/20 下午 02:32,TPE-XINYI,TS-01,2,"NT$1,290"\n'
    "A1,M001,2026/11/20 下午 02:32,TPE-XINYI,SK-09,1,199\n"
    "A2,,2026-11-21 10:00,TPE-XINYI,TS-01,-1,1290\n"
    "A3,,2026-11-21 11:00,TPE-XINYI,HT-02,1,590\n"
)


def _env(database: Database) -> dict[str, str]:
    return {"OMNI_DATABASE_URL": database.url}


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _count(database: Database) -> int:
    with database.unit_of_work() as session:
        return events_service.count_events(session)


def test_import_and_import_again_adds_nothing_twice(committed: Database, tmp_path: Path) -> None:
    # given a CRM export with its phone column named in Chinese
    path = _write(tmp_path, "crm.csv", "會員,E-mail,手機\nM1,a@b.tw,0912345678\nM2,c@d.tw,0922333444\n")
    args = ("import", "customers", str(path), "--map", "member_id=會員", "--map", "email=E-mail")
    # when imported twice
    first = omni(*args, env=_env(committed), tmp=tmp_path)
    second = omni(*args, env=_env(committed), tmp=tmp_path)
    # then
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[:3] == [
        "crm.csv: 2 rows read in 1 batch",
        "imported 2 rows as 2 events (2 new, 0 already in the log)",
        "rejected 0 rows; skipped 0 batches (0 rows)",
    ]
    assert first.stdout.splitlines()[3].endswith(" s)")
    assert " rows/s (" in first.stdout.splitlines()[3]
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[1] == "imported 2 rows as 2 events (0 new, 2 already in the log)"
    assert _count(committed) == 2


def test_rejected_rows_exit_1_with_row_numbers_and_skipped_batches(
    committed: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path, "pos.csv", ORDERS)
    rejects = tmp_path / "rejects.csv"
    result = omni(
        "import", "orders", str(path), "--source", "pos:TPE-XINYI", "--batch-size", "2",
        "--rejects", str(rejects), env=_env(committed), tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        "pos.csv: 4 rows read in 2 batches",
        "imported 2 rows as 1 event (1 new, 0 already in the log)",
        "rejected 1 row; skipped 1 batch (2 rows)",
    ]
    assert result.stderr.splitlines() == [
        "row 4: 數量 (quantity): '-1' must be at least 1",
        "batch 2 (rows 4–5, 2 rows) was not imported: it has rejected rows",
        "fix the rejected rows and run the same command again: rows already imported are not added twice",
    ]
    with rejects.open(encoding="utf-8-sig", newline="") as file:
        assert list(csv.reader(file)) == [
            ["row", "reason"],
            ["4", "數量 (quantity): '-1' must be at least 1"],
        ]
    assert _count(committed) == 1


def test_dry_run_validates_without_touching_the_database(tmp_path: Path) -> None:
    # given a database that does not answer: a dry run must not need it
    path = _write(tmp_path, "pos.csv", ORDERS)
    result = omni(
        "import", "orders", str(path), "--dry-run",
        env={"OMNI_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/omni"}, tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        "pos.csv: 4 rows read in 1 batch",
        "dry run: 0 rows would be imported as 0 events; nothing was stored",
        "rejected 1 row; skipped 1 batch (4 rows)",
    ]
    assert result.stderr.splitlines()[0] == "row 4: 數量 (quantity): '-1' must be at least 1"


@pytest.mark.parametrize(
    ("args", "content", "expected"),
    [
        (("orders", "missing.csv"), None, "error: no such file: missing.csv"),
        (
            ("orders", "sheet.xlsx"),
            "PK",
            "error: unknown format of sheet.xlsx: import .csv, .tsv, .txt or .parquet files, "
            "or say which with --format csv|parquet (save Excel sheets as CSV UTF-8)",
        ),
        (
            ("customers", "crm.csv"),
            "姓名,電話\n林美玲,0912345678\n",
            "error: crm.csv has no column for customer_id or member_id (looked for customer_id, customer_no, "
            "customer_number, 客戶編號, 顧客編號, member_id, member_no, member_number, card_no, "
            "member_card, 會員編號, 會員卡號); its columns are 姓名, 電話; "
            "name one with --map customer_id=COLUMN",
        ),
        (
            ("customers", "crm.csv", "--map", "phone"),
            "會員編號\nM1\n",
            "error: --map phone: write it as FIELD=COLUMN, e.g. --map phone=手機",
        ),
        (
            ("customers", "crm.csv", "--encoding", "klingon"),
            "會員編號\nM1\n",
            "error: unknown encoding klingon; use utf-8, cp950 or big5",
        ),
        (
            ("customers", "crm.csv", "--source", "CRM export"),
            "會員編號\nM1\n",
            "error: source 'CRM export' must look like crm or pos:TPE-XINYI (kind:name)",
        ),
        (
            ("customers", "crm.csv", "--mapping", "map.yaml"),
            "會員編號\nM1\n",
            "error: no such mapping file: map.yaml",
        ),
    ],
    ids=[
        "missing-file",
        "unknown-format",
        "missing-column",
        "bad-map-flag",
        "unknown-encoding",
        "bad-source",
        "missing-mapping-file",
    ],  # fmt: skip
)
def test_unusable_input_stops_with_one_line(
    args: tuple[str, ...], content: str | None, expected: str, tmp_path: Path
) -> None:
    if content is not None:
        _write(tmp_path, args[1], content)
    result = omni("import", *args, tmp=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""


def test_yaml_mapping_file_with_a_flag_winning_and_cp950(committed: Database, tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_bytes("卡號,信箱,新信箱,縣市\nM1,old@b.tw,a@b.tw,台北市\n".encode("cp950"))
    _write(tmp_path, "map.yaml", "columns:\n  member_id: 卡號\n  email: 信箱\n")
    result = omni(
        "import", "customers", "crm.csv", "--mapping", "map.yaml", "--map", "email=新信箱",
        "--encoding", "cp950", env=_env(committed), tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with committed.unit_of_work() as session:
        (event,) = events_service.events_after(session, 0, limit=10)
        assert (event.user_id, event.traits) == (
            "M1",
            {"member_id": "M1", "email": "a@b.tw", "address": {"city": "台北市"}},
        )


def test_import_has_help_for_each_kind(tmp_path: Path) -> None:
    result = omni("import", "orders", "--help", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: omni import orders [OPTIONS] {FILE}")
    assert "--batch-size" in result.stdout
    assert "order_id: order_id, order_no, order_number" in " ".join(result.stdout.split())
