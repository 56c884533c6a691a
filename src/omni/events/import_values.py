"""Reading one cell of a POS or CRM export: money, quantities, dates and times, yes/no, free values.

Each parser takes what a CSV cell (a string) or a Parquet cell (a typed value) holds and either returns a
clean value or raises CellError with a reason a person can act on.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import orjson
from babel.numbers import get_currency_precision

# Taiwan writes years of the Republic of China calendar (民國 115 = 2026) on receipts and forms.
ROC_YEAR_OFFSET = 1911
EARLIEST_YEAR = 1900
# Clocks of tills drift and time zones confuse; anything later than this is a wrong date, not a sale.
FUTURE_TOLERANCE = timedelta(days=1)
# Longer digit strings are identifiers (card numbers, barcodes) that JavaScript cannot hold as numbers.
MAX_NUMBER_DIGITS = 15

_DATE_TIME = re.compile(
    r"(?P<year>\d{2,4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"
    r"(?:[ T]+(?P<half>上午|下午|AM|PM)?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6}))?)?\s*(?P<half_after>AM|PM)?"
    r"\s*(?P<offset>Z|[+-]\d{2}:?\d{2})?)?",
    re.IGNORECASE,
)
_DATE_TIME_FORMS = "YYYY-MM-DD HH:MM[:SS][+08:00], YYYY/M/D [上午|下午] H:MM or 民國 YYY/M/D"
_MONEY_MARKS = re.compile(
    r"^(?:[A-Z]{3}\s*)?(?:[A-Z]{1,3}\$|[$¥€£￥])?\s*|\s*(?:元|[A-Z]{3})$", re.IGNORECASE
)
_MONEY = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().\-#*/]+(?:(?:ext|x|分機)\.?\s*\d+)?", re.IGNORECASE)
_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "是", "同意", "訂閱"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", "否", "不同意", "不訂閱", "取消"})
_GENDERS = {"m": "male", "male": "male", "man": "male", "男": "male", "f": "female", "female": "female"}
_GENDERS |= {"woman": "female", "女": "female"}


class CellError(Exception):
    """A cell that cannot be used; field names the target field, reason says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def clean(value: Any) -> Any:
    """The cell's value with surrounding blanks removed; an empty cell is None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def text(value: Any) -> str:
    """The cell as text, as an identifier or a trait is kept."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """How many decimals the currency's minor unit has (TWD 2, JPY 0, KWD 3), as ISO 4217 says."""
    return int(get_currency_precision(currency))


def parse_money(field: str, value: Any) -> Decimal:
    """An amount written as 1290, 1,290.00, NT$1,290 or 1290元, exactly as a Decimal."""
    if isinstance(value, bool):
        raise CellError(field, f"{value!r} is not an amount of money")
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(field, f"{value!r} is not an amount of money")
        # repr is the shortest text that reads back as the same float: 12.9, not 12.9000000000000003.
        amount = Decimal(repr(value))
    else:
        written = _MONEY_MARKS.sub("", str(value).strip())
        if not _MONEY.fullmatch(written):
            raise CellError(
                field, f"{value!r} is not an amount of money (write it like 1290, 1,290.50 or NT$1,290)"
            )
        amount = Decimal(written.replace(",", ""))
    if not amount.is_finite():
        raise CellError(field, f"{value!r} is not an amount of money")
    if amount < 0:
        raise CellError(field, f"{value!r} is negative; an amount must be 0 or more")
    return amount


def to_minor(field: str, amount: Decimal, currency: str) -> int:
    """The amount in integer minor units of currency; refuses fractions of the minor unit."""
    scaled = amount.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise CellError(
            field, f"{amount} has more decimals than {currency} allows ({minor_digits(currency)})"
        )
    return int(scaled)


def as_number(amount: Decimal) -> int | float:
    """A Decimal as a JSON number: an integer when whole, else the float whose shortest text is the same."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def parse_quantity(field: str, value: Any) -> int:
    """A whole number of items, at least 1 (Excel may write 2 as 2.0)."""
    if isinstance(value, bool):
        raise CellError(field, f"{value!r} is not a quantity")
    try:
        number = Decimal(value) if isinstance(value, int | str | Decimal) else Decimal(repr(value))
    except (InvalidOperation, ValueError, TypeError):
        raise CellError(field, f"{value!r} is not a quantity (a whole number)") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(field, f"{value!r} is not a whole number")
    if number < 1:
        raise CellError(field, f"{value!r} must be at least 1")
    return int(number)


def _year(written: str) -> int:
    year = int(written)
    return year + ROC_YEAR_OFFSET if len(written) < 4 else year


def _hour(hour: int, half: str | None) -> int:
    if half is None:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError("hour must be 1 to 12 with AM/PM")
    afternoon = half.upper() in ("PM", "下午")
    return hour % 12 + (12 if afternoon else 0)


def _offset(written: str | None, local: tzinfo) -> tzinfo:
    if written is None:
        return local
    return datetime.strptime(written.upper().replace(":", "").replace("Z", "+0000"), "%z").tzinfo or local


def _parse_written_time(written: str, local: tzinfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(written)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=local)
    except ValueError:
        pass
    match = _DATE_TIME.fullmatch(written)
    if match is None:
        raise ValueError("unknown form")
    parts = match.groupdict()
    fraction = (parts["fraction"] or "").ljust(6, "0")
    return datetime(
        _year(parts["year"]),
        int(parts["month"]),
        int(parts["day"]),
        _hour(int(parts["hour"] or 0), parts["half"] or parts["half_after"]),
        int(parts["minute"] or 0),
        int(parts["second"] or 0),
        int(fraction),
        tzinfo=_offset(parts["offset"], local),
    )


def parse_timestamp(field: str, value: Any, *, local: tzinfo, now: datetime) -> datetime:
    """When something happened; a time without an offset is read in the store's time zone (local)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=local)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=local)
    else:
        try:
            moment = _parse_written_time(str(value).strip(), local)
        except (ValueError, OverflowError):
            raise CellError(field, f"{value!r} is not a date and time ({_DATE_TIME_FORMS})") from None
    if moment.year < EARLIEST_YEAR:
        raise CellError(field, f"{value!r} is before {EARLIEST_YEAR}")
    if moment > now + FUTURE_TOLERANCE:
        raise CellError(field, f"{value!r} is in the future")
    return moment


def parse_date(field: str, value: Any, *, today: date) -> date:
    """A calendar date such as a birthday: 1990-05-17, 1990/5/17 or 民國 79/5/17."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        written = str(value).strip()
        match = _DATE_TIME.fullmatch(written)
        try:
            if match is None or match["hour"] is not None:
                raise ValueError("not a date")
            day = date(_year(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            raise CellError(
                field, f"{value!r} is not a date (YYYY-MM-DD, YYYY/M/D or 民國 YYY/M/D)"
            ) from None
    if day.year < EARLIEST_YEAR or day > today:
        raise CellError(field, f"{value!r} is not a plausible date (from {EARLIEST_YEAR} to today)")
    return day


def parse_bool(field: str, value: Any) -> bool:
    """Yes or no, as true/false, yes/no, Y/N, 1/0 or 是/否."""
    if isinstance(value, bool):
        return value
    written = text(value).strip().lower()
    if written in _TRUE:
        return True
    if written in _FALSE:
        return False
    raise CellError(field, f"{value!r} is not yes or no (true/false, yes/no, Y/N, 1/0, 是/否)")


def parse_email(field: str, value: Any) -> str:
    """An email address as written; the identity domain normalises it."""
    written = text(value).strip()
    if not _EMAIL.fullmatch(written):
        raise CellError(field, f"{value!r} is not an email address")
    return written


def parse_phone(field: str, value: Any) -> str:
    """A phone number as written (0912-345-678, +886 912 345 678); the identity domain normalises it."""
    written = text(value).strip()
    if not _PHONE.fullmatch(written) or sum(c.isdigit() for c in written) < 6:
        raise CellError(field, f"{value!r} is not a phone number")
    return written


def parse_gender(value: Any) -> str:
    """male or female for the usual ways of writing them; anything else as written."""
    written = text(value).strip()
    return _GENDERS.get(written.lower(), written)


def spec_value(field: str, value: Any) -> Any:
    """A value for a message's properties, traits or context, typed as an SDK would have sent it.

    Parquet cells are typed already. CSV text becomes JSON when it is a JSON object or list, a boolean for
    true/false, a number when written as a plain number; identifiers with leading zeros or too many digits
    (phone numbers, barcodes) stay text.
    """
    if isinstance(value, Decimal):
        return as_number(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    if value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise CellError(field, f"is not valid JSON ({exc})") from None
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _NUMBER.fullmatch(value) and sum(c.isdigit() for c in value) <= MAX_NUMBER_DIGITS:
        return as_number(Decimal(value))
    return value
