from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from omni.events.import_values import CellError, parse_money, parse_timestamp, spec_value, to_minor

NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    ("written", "currency", "amount", "minor"),
    [
        ("NT$1,290", "TWD", Decimal(1290), 129000),
        ("1,290.50", "TWD", Decimal("1290.50"), 129050),
        ("TWD 1290元", "TWD", Decimal(1290), 129000),
        ("０.１", "TWD", Decimal("0.1"), 10),
        ("¥1,290", "JPY", Decimal(1290), 1290),
        ("1.005", "KWD", Decimal("1.005"), 1005),
    ],
    ids=["nt-dollar-thousands", "cents", "code-and-yuan", "full-width-digits", "yen-no-minor", "dinar-3"],
)
def test_money_is_parsed_exactly(written: str, currency: str, amount: Decimal, minor: int) -> None:
    parsed = parse_money("price", written)
    assert (parsed, to_minor("price", parsed, currency)) == (amount, minor)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("1,29", "'1,29' is not an amount of money (write it like 1290, 1,290.50 or NT$1,290)"),
        ("1e3", "'1e3' is not an amount of money (write it like 1290, 1,290.50 or NT$1,290)"),
        ("-5", "'-5' is negative; an amount must be 0 or more"),
        (float("nan"), "nan is not an amount of money"),
    ],
    ids=["comma-decimal", "exponent", "negative", "nan"],
)
def test_unparseable_money_is_refused(written: object, reason: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_money("price", written)
    assert caught.value.reason == reason


def test_fractions_of_the_minor_unit_are_refused() -> None:
    with pytest.raises(CellError) as caught:
        to_minor("price", Decimal("12.345"), "TWD")
    assert caught.value.reason == "12.345 has more decimals than TWD allows (2)"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-20 14:32:05", datetime(2026, 11, 20, 6, 32, 5, tzinfo=UTC)),
        ("2026-11-20T14:32:05Z", datetime(2026, 11, 20, 14, 32, 5, tzinfo=UTC)),
        ("2026/11/5 上午 12:05", datetime(2026, 11, 4, 16, 5, tzinfo=UTC)),
        ("2026/11/5 1:05:09 PM", datetime(2026, 11, 5, 5, 5, 9, tzinfo=UTC)),
        ("115/11/20 14:32", datetime(2026, 11, 20, 6, 32, tzinfo=UTC)),
        ("2026.11.20 14:32 +0900", datetime(2026, 11, 20, 5, 32, tzinfo=UTC)),
        (datetime(2026, 11, 20, 14, 32), datetime(2026, 11, 20, 6, 32, tzinfo=UTC)),  # noqa: DTZ001 (a till's naive time)
        (date(2026, 11, 20), datetime(2026, 11, 19, 16, 0, tzinfo=UTC)),
    ],
    ids=[
        "iso-local",
        "iso-z",
        "excel-zh-tw-midnight",
        "excel-en-pm",
        "roc-year",
        "offset",
        "naive-dt",
        "date",
    ],
)
def test_times_without_offset_are_store_local(written: object, expected: datetime) -> None:
    assert parse_timestamp("ordered_at", written, local=TAIPEI, now=NOW) == expected


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("590", 590),
        ("1.50", 1.5),
        ("00123", "00123"),
        ("0912345678", "0912345678"),
        ("4111111111111111", "4111111111111111"),
        ("true", True),
        ('{"a": [1]}', {"a": [1]}),
        ("雙11", "雙11"),
    ],
    ids=["integer", "decimal", "zip-code", "phone", "card-number", "boolean", "json", "text"],
)
def test_csv_text_becomes_what_an_sdk_would_send(written: str, value: object) -> None:
    assert spec_value("properties.x", written) == value
