from __future__ import annotations

from pathlib import Path

import pytest

from omni.events.import_mapping import ImportInvalid, load_mapping_file, resolve_columns

MEMBERS = ("會員", "E-mail", "行動", "VIP等級")


def test_mapped_columns_win_and_usual_names_fill_in() -> None:
    header = ("會員", "Email", "手機號碼", "VIP等級", "traits.tier")
    plan = resolve_columns(
        "customers",
        header,
        {"member_id": "會員", "traits.vip": "VIP等級"},
        file_name="m.csv",
        user_field=None,
    )
    assert dict(plan.fields) == {"member_id": 0, "traits.vip": 3, "email": 1, "phone": 2}
    assert plan.paths == ((("traits", "vip"), 3), (("traits", "tier"), 4))
    assert plan.describe("member_id") == "會員 (member_id)"


def test_unknown_field_or_column_in_mapping_is_refused() -> None:
    with pytest.raises(ImportInvalid) as unknown_column:
        resolve_columns(
            "customers", MEMBERS, {"member_id": "會員", "email": "Mail"}, file_name="m.csv", user_field=None
        )
    with pytest.raises(ImportInvalid) as unknown_field:
        resolve_columns(
            "customers", MEMBERS, {"member_id": "會員", "mail": "E-mail"}, file_name="m.csv", user_field=None
        )
    assert (
        unknown_column.value.message
        == "mapping email=Mail: m.csv has no column Mail; its columns are 會員, E-mail, 行動, VIP等級"
    )
    assert unknown_field.value.message.startswith("mapping mail=E-mail: customers have no field mail;")


def test_missing_required_column_names_it_and_lists_the_files_columns() -> None:
    with pytest.raises(ImportInvalid) as caught:
        resolve_columns("orders", ("單據", "日期", "金額"), {}, file_name="sales.csv", user_field=None)
    assert caught.value.message == (
        "sales.csv has no column for order_id (looked for order_id, order_no, order_number, receipt_no, "
        "transaction_id, 訂單編號, 單號); its columns are 單據, 日期, 金額; "
        "name one with --map order_id=COLUMN"
    )


def test_user_id_field_must_be_an_identifier() -> None:
    with pytest.raises(ImportInvalid) as caught:
        resolve_columns("customers", MEMBERS, {}, file_name="m.csv", user_field="name")
    assert caught.value.message == (
        "user id field name: customers take the userId from one of customer_id, member_id, email, phone"
    )


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_yaml_mapping_file_is_loaded(tmp_path: Path) -> None:
    content = "columns:\n  member_id: 卡號\n  email: 信箱\nuser_id: member_id\ncurrency: USD\n"
    loaded = load_mapping_file(_write(tmp_path, "map.yaml", content))
    assert (loaded.columns, loaded.user_id, loaded.currency, loaded.timezone) == (
        {"member_id": "卡號", "email": "信箱"},
        "member_id",
        "USD",
        None,
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("colums:\n  email: x\n", "colums: Extra inputs are not permitted"),
        ("columns: [a, b]\n", "columns: Input should be a valid dictionary"),
    ],
    ids=["misspelt-key", "list-of-columns"],
)
def test_broken_yaml_mapping_file_is_refused(content: str, reason: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "map.yaml", content)
    with pytest.raises(ImportInvalid) as caught:
        load_mapping_file(path)
    assert caught.value.message == f"{path}: {reason} (allowed keys: columns, user_id, currency, timezone)"
