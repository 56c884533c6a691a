"""Which column of an export feeds which field, and how a row (or an order's lines) becomes a Segment message.

Columns are found by their usual names (in English and Traditional Chinese) unless a mapping names them;
a column named like `properties.coupon` goes to that path of the message as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omni.events.import_values import CellError, clean
from omni.kit.errors import ValidationFailed

Kind = Literal["customers", "orders", "events"]
KINDS: tuple[Kind, ...] = ("customers", "orders", "events")
PATH_ROOTS = ("properties", "traits", "context")
ID_FIELDS = ("customer_id", "member_id", "email", "phone")
_CUSTOMER = ("customer_id", "customer_no", "customer_number", "客戶編號", "顧客編號")
_MEMBER = ("member_id", "member_no", "member_number", "card_no", "member_card", "會員編號", "會員卡號")
_EMAIL = ("email", "e-mail", "email_address", "mail", "電子郵件", "電子信箱", "信箱")
_PHONE = (
    "phone",
    "mobile",
    "phone_number",
    "mobile_phone",
    "cell",
    "tel",
    "手機",
    "手機號碼",
    "電話",
    "行動電話",
)
_STORE = ("store_code", "store", "store_id", "shop_code", "門市代號", "門市代碼", "門市")
ALIASES: dict[Kind, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": _CUSTOMER,
        "member_id": _MEMBER,
        "email": _EMAIL,
        "phone": _PHONE,
        "name": ("name", "full_name", "姓名"),
        "first_name": ("first_name", "given_name", "firstName", "名"),
        "last_name": ("last_name", "surname", "family_name", "lastName", "姓"),
        "birthday": ("birthday", "birth_date", "date_of_birth", "dob", "生日", "出生日期"),
        "gender": ("gender", "sex", "性別"),
        "city": ("city", "縣市", "城市"),
        "address": ("address", "street", "地址"),
        "postal_code": ("postal_code", "zip", "zip_code", "postcode", "郵遞區號"),
        "store_code": (*_STORE, "home_store"),
        "opted_in_email": ("opted_in_email", "email_opt_in", "accepts_email", "訂閱電子報"),
        "opted_in_sms": ("opted_in_sms", "sms_opt_in", "accepts_sms", "訂閱簡訊"),
        "created_at": ("created_at", "registered_at", "member_since", "joined_at", "註冊日期", "入會日期"),
        "updated_at": ("updated_at", "modified_at", "last_updated", "更新時間"),
    },
    "orders": {
        "order_id": (
            "order_id",
            "order_no",
            "order_number",
            "receipt_no",
            "transaction_id",
            "訂單編號",
            "單號",
        ),
        "customer_id": _CUSTOMER,
        "member_id": _MEMBER,
        "email": _EMAIL,
        "phone": _PHONE,
        "ordered_at": (
            "ordered_at",
            "order_date",
            "order_time",
            "timestamp",
            "created_at",
            "訂單時間",
            "交易時間",
        ),
        "store_code": _STORE,
        "channel": ("channel", "通路"),
        "sku": ("sku", "variant_sku", "貨號", "品號"),
        "product_id": ("product_id", "item_id", "商品編號"),
        "name": ("product_name", "item_name", "name", "商品名稱", "品名"),
        "category": ("category", "product_category", "商品類別", "類別", "分類"),
        "quantity": ("quantity", "qty", "數量"),
        "price": ("unit_price", "price", "單價", "售價"),
        "currency": ("currency", "幣別"),
        "total": ("total", "order_total", "訂單金額", "總金額"),
    },
    "events": {
        "type": ("type",),
        "event": ("event", "event_name"),
        "name": ("name",),
        "userId": ("userId", "user_id"),
        "anonymousId": ("anonymousId", "anonymous_id"),
        "messageId": ("messageId", "message_id"),
        "timestamp": ("timestamp", "originalTimestamp", "event_time"),
        "channel": ("channel",),
        "groupId": ("groupId", "group_id"),
        "previousId": ("previousId", "previous_id"),
        "properties": ("properties",),
        "traits": ("traits",),
        "context": ("context",),
    },
}
ORDER_LEVEL = (
    "customer_id",
    "member_id",
    "email",
    "phone",
    "ordered_at",
    "store_code",
    "channel",
    "currency",
    "total",
)
_SEPARATORS = re.compile(r"[\s_\-]+")


class ImportInvalid(ValidationFailed):
    """The file, its mapping or the import's options cannot be used; nothing was imported."""

    code = "import_invalid"


def normalise(column: str) -> str:
    """A column name compared loosely: Customer ID, customer_id and customerId all read customerid."""
    return _SEPARATORS.sub("", column.strip().casefold())


def _is_path(field: str) -> bool:
    root, _, rest = field.partition(".")
    return root in PATH_ROOTS and bool(rest) and "" not in rest.split(".")


class MappingFile(BaseModel):
    """A mapping kept in a YAML file, to import the same export again without retyping flags."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    columns: dict[str, str] = Field(default_factory=dict, description="field: column of the file")
    user_id: str | None = None
    currency: str | None = None
    timezone: str | None = None


def load_mapping_file(path: Path) -> MappingFile:
    """Read a YAML mapping file, naming what is wrong with it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ImportInvalid(f"no such mapping file: {path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ImportInvalid(f"{path} is not a YAML mapping file: {str(exc).splitlines()[0]}") from None
    try:
        return MappingFile.model_validate(document or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ImportInvalid(
            f"{path}: {problems} (allowed keys: columns, user_id, currency, timezone)"
        ) from None


def parse_map_flags(flags: Sequence[str]) -> dict[str, str]:
    """FIELD=COLUMN flags as a dict; the column may hold any character, = included."""
    mapping: dict[str, str] = {}
    for flag in flags:
        field, sep, column = flag.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ImportInvalid(f"--map {flag}: write it as FIELD=COLUMN, e.g. --map phone=手機")
        mapping[field.strip()] = column.strip()
    return mapping


@dataclass(frozen=True)
class ColumnPlan:
    """Where each field of one kind of import is found in the file's header."""

    kind: Kind
    header: tuple[str, ...]
    fields: Mapping[str, int]
    paths: tuple[tuple[tuple[str, ...], int], ...]

    def cells(self, row: Sequence[Any]) -> dict[str, Any]:
        """The mapped fields of row that hold a value, cleaned; read once per row, as lookups are hot."""
        width = len(row)
        found: dict[str, Any] = {}
        for field, index in self.fields.items():
            if index < width and (value := clean(row[index])) is not None:
                found[field] = value
        return found

    def describe(self, field: str) -> str:
        """The field as a person finds it in the file: its column, and the field when named differently."""
        index = self.fields.get(field)
        column = self.header[index] if index is not None else field
        return column if column == field else f"{column} ({field})"

    def reason(self, error: CellError) -> str:
        """A rejected cell's reason, naming the column."""
        return f"{self.describe(error.field)}: {error.reason}"


def _columns_text(header: Sequence[str]) -> str:
    return ", ".join(header) if header else "(none)"


def default_user_field(kind: Kind, mapped: Mapping[str, int] | Sequence[str]) -> str | None:
    """The field that gives userId unless the mapping chooses: customer_id, else member_id."""
    if kind == "events":
        return None
    return next((field for field in ("customer_id", "member_id") if field in mapped), None)


def resolve_columns(
    kind: Kind, header: Sequence[str], mapping: Mapping[str, str], *, file_name: str, user_field: str | None
) -> ColumnPlan:
    """Find each field's column: the mapping's choice first, then the usual names; check what is required."""
    if user_field is not None and (kind == "events" or user_field not in ID_FIELDS):
        raise ImportInvalid(
            f"user id field {user_field}: {kind} take the userId from one of {', '.join(ID_FIELDS)}"
            if kind != "events"
            else "events carry their own userId column; --user-id is for customers and orders"
        )
    known = ALIASES[kind]
    exact = {name: i for i, name in reversed(list(enumerate(header)))}
    loose = {normalise(name): i for i, name in reversed(list(enumerate(header)))}
    fields: dict[str, int] = {}
    for field, column in mapping.items():
        if field not in known and not _is_path(field):
            raise ImportInvalid(
                f"mapping {field}={column}: {kind} have no field {field}; known fields: {', '.join(known)}, "
                f"or a path under {', '.join(r + '.' for r in PATH_ROOTS)}"
            )
        index = exact.get(column, loose.get(normalise(column)))
        if index is None:
            raise ImportInvalid(
                f"mapping {field}={column}: {file_name} has no column {column}; "
                f"its columns are {_columns_text(header)}"
            )
        fields[field] = index
    taken = set(fields.values())
    for field, aliases in known.items():
        if field in fields:
            continue
        index = next(
            (loose[a] for a in map(normalise, aliases) if a in loose and loose[a] not in taken), None
        )
        if index is not None:
            fields[field] = index
            taken.add(index)
    paths = [(tuple(f.split(".")), i) for f, i in fields.items() if _is_path(f)]
    paths += [
        (tuple(name.strip().split(".")), i)
        for i, name in enumerate(header)
        if i not in taken and _is_path(name.strip())
    ]
    _require(kind, fields, header, file_name=file_name, user_field=user_field)
    return ColumnPlan(kind=kind, header=tuple(header), fields=fields, paths=tuple(paths))


def _require(
    kind: Kind, fields: Mapping[str, int], header: Sequence[str], *, file_name: str, user_field: str | None
) -> None:
    needs: list[tuple[str, ...]]
    if kind == "customers":
        needs = [(user_field,) if user_field else ("customer_id", "member_id")]
    elif kind == "orders":
        needs = [("order_id",), ("ordered_at",), ("price",), ("sku", "product_id", "name")]
        needs += [(user_field,)] if user_field else []
    else:
        needs = [("type", "event"), ("userId", "anonymousId")]
    for choices in needs:
        if not any(field in fields for field in choices):
            names = [alias for field in choices for alias in ALIASES[kind][field]]
            raise ImportInvalid(
                f"{file_name} has no column for {' or '.join(choices)} (looked for {', '.join(names)}); "
                f"its columns are {_columns_text(header)}; name one with --map {choices[0]}=COLUMN"
            )
