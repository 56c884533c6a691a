"""How the columns of a product export are found, and how one product's rows become a ProductCreate.

A product export has one row per variant (SKU); the product's own fields repeat on each of its rows and
must agree. Prices come in one column per sales channel, named `price:CHANNEL` (e.g. `price:web`,
`price:pos:TPE-XINYI`) or mapped to any column with `--map price:web=網路售價`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from omni.catalog.schemas import ProductCreate
from omni.events.import_mapping import ImportInvalid, normalise
from omni.events.import_messages import RowsRejected, parse_currency
from omni.events.import_values import CellError, clean, parse_bool, parse_money, text, to_minor

PRICE_PREFIX = "price:"
ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("product_code", "code", "product_id", "style_code", "style", "商品編號", "款號", "商品代號"),
    "name": ("name", "product_name", "品名", "商品名稱"),
    "name_en": ("name_en", "english_name", "product_name_en", "英文品名", "英文名稱"),
    "brand": ("brand", "品牌"),
    "category": ("category", "category_slug", "類別", "分類", "商品類別"),
    "description": ("description", "商品描述", "描述"),
    "active": ("active", "on_sale", "上架"),
    "sku": ("sku", "variant_sku", "貨號", "品號"),
    "barcode": ("barcode", "ean", "ean13", "gtin", "upc", "條碼", "國際條碼"),
    "size": ("size", "尺寸", "尺碼", "規格"),
    "colour": ("colour", "color", "顏色", "顏色名稱"),
    "colour_en": ("colour_en", "color_en", "英文顏色"),
    "currency": ("currency", "幣別"),
}
PRODUCT_LEVEL = ("name", "name_en", "brand", "category", "description", "active")
REQUIRED = ("code", "name", "category", "sku")


@dataclass(frozen=True)
class ProductColumns:
    """Where each field, and each channel's price, is found in the file's header."""

    header: tuple[str, ...]
    fields: Mapping[str, int]
    prices: Mapping[str, int]

    def describe(self, field: str) -> str:
        """The field as a person finds it in the file: its column, and the field when named differently."""
        index = self.prices.get(field.removeprefix(PRICE_PREFIX)) if field.startswith(PRICE_PREFIX) else None
        index = self.fields.get(field, index)
        column = self.header[index] if index is not None else field
        return column if column == field else f"{column} ({field})"

    def cells(self, row: Sequence[Any]) -> dict[str, Any]:
        """The mapped fields of row that hold a value, cleaned."""
        return {f: v for f, i in self.fields.items() if i < len(row) and (v := clean(row[i])) is not None}


def _channel_of(name: str, channels: Sequence[str]) -> str | None:
    """The channel a `price:CHANNEL` column names: exactly, or ignoring case."""
    wanted = name.strip()[len(PRICE_PREFIX) :].strip()
    return (
        wanted
        if wanted in channels
        else next((c for c in channels if c.casefold() == wanted.casefold()), None)
    )


def resolve_columns(
    header: Sequence[str], mapping: Mapping[str, str], *, file_name: str, channels: Sequence[str]
) -> ProductColumns:
    """Find each field's column (the mapping's choice first, then the usual names) and each price column."""
    exact = {name: i for i, name in reversed(list(enumerate(header)))}
    loose = {normalise(name): i for i, name in reversed(list(enumerate(header)))}
    columns = ", ".join(header) or "(none)"
    fields: dict[str, int] = {}
    prices: dict[str, int] = {}
    for field, column in mapping.items():
        index = exact.get(column, loose.get(normalise(column)))
        if index is None:
            raise ImportInvalid(
                f"mapping {field}={column}: {file_name} has no column {column}; its columns are {columns}"
            )
        if field.startswith(PRICE_PREFIX):
            channel = _channel_of(field, channels)
            if channel is None:
                raise ImportInvalid(f"mapping {field}={column}: {_no_channel(field, channels)}")
            prices[channel] = index
        elif field in ALIASES:
            fields[field] = index
        else:
            raise ImportInvalid(
                f"mapping {field}={column}: products have no field {field}; known fields: "
                f"{', '.join(ALIASES)}, or price:CHANNEL"
            )
    taken = {*fields.values(), *prices.values()}
    for field, aliases in ALIASES.items():
        if field not in fields:
            found = next(
                (loose[a] for a in map(normalise, aliases) if a in loose and loose[a] not in taken), None
            )
            if found is not None:
                fields[field] = found
                taken.add(found)
    for index, name in enumerate(header):
        if index in taken or not name.strip().casefold().startswith(PRICE_PREFIX):
            continue
        channel = _channel_of(name, channels)
        if channel is None:
            raise ImportInvalid(f"column {name}: {_no_channel(name, channels)}")
        prices.setdefault(channel, index)
    for field in REQUIRED:
        if field not in fields:
            raise ImportInvalid(
                f"{file_name} has no column for {field} (looked for {', '.join(ALIASES[field])}); "
                f"its columns are {columns}; name one with --map {field}=COLUMN"
            )
    return ProductColumns(header=tuple(header), fields=fields, prices=prices)


def _no_channel(name: str, channels: Sequence[str]) -> str:
    return (
        f"no sales channel is named {name.strip()[len(PRICE_PREFIX) :]!r}; channels are {', '.join(channels)}"
    )


def product_code(plan: ProductColumns, row: Sequence[Any]) -> str | None:
    """The product code of row, if it has one."""
    index = plan.fields["code"]
    value = clean(row[index]) if index < len(row) else None
    return None if value is None else text(value)


def _barcode(value: Any) -> str:
    written = text(value)
    if "e+" in written.casefold():
        raise CellError(
            "barcode",
            f"{written} is a barcode that a spreadsheet turned into a number; format the column as text",
        )
    return written


def _variant(
    plan: ProductColumns, cells: dict[str, Any], row: Sequence[Any], currency: str
) -> dict[str, Any]:
    currency = parse_currency("currency", cells["currency"]) if "currency" in cells else currency
    prices = []
    for channel, index in plan.prices.items():
        if index < len(row) and (value := clean(row[index])) is not None:
            field = f"{PRICE_PREFIX}{channel}"
            amount = to_minor(field, parse_money(field, value), currency)
            prices.append({"channel": channel, "amount_minor": amount, "currency": currency})
    variant: dict[str, Any] = {"sku": text(cells["sku"]), "prices": prices}
    if "barcode" in cells:
        variant["barcode"] = _barcode(cells["barcode"])
    for field in ("size", "colour", "colour_en"):
        if field in cells:
            variant[field] = text(cells[field])
    return variant


def _product_field(field: str, value: Any, categories: Mapping[str, str]) -> Any:
    if field == "active":
        return parse_bool(field, value)
    if field == "category":
        slug = categories.get(text(value).casefold())
        if slug is None:
            known = ", ".join(sorted(set(categories.values())))
            raise CellError(field, f"no category is called {text(value)!r}; categories are {known}")
        return slug
    return text(value)


@dataclass(frozen=True)
class ProductRows:
    """A product read from its rows, with where each of its variants came from."""

    product: ProductCreate
    first_row: int
    variant_rows: tuple[int, ...]

    def rejection(self, plan: ProductColumns, loc: Sequence[str], rule: str) -> tuple[int, str]:
        """The row and reason of a problem at loc of the product (e.g. variants.2.prices.0.amount_minor)."""
        return rejection_at(plan, loc, rule, self.first_row, self.variant_rows, self.product.model_dump())


def product_from_rows(
    plan: ProductColumns,
    lines: Sequence[tuple[int, Sequence[Any]]],
    *,
    currency: str,
    categories: Mapping[str, str],
) -> ProductRows:
    """One product from its rows (one per variant); RowsRejected names each bad row and why.

    categories maps each category's slug, name and English name (case-folded) to its slug.
    """
    rejected: list[tuple[int, str]] = []
    stated: dict[str, tuple[int, Any]] = {}
    variants: list[dict[str, Any]] = []
    variant_rows: list[int] = []
    sku_rows: dict[str, int] = {}
    for number, row in lines:
        cells = plan.cells(row)
        try:
            if "sku" not in cells:
                raise CellError("sku", "is empty; every row is one variant and needs its SKU")
            level = {f: _product_field(f, cells[f], categories) for f in PRODUCT_LEVEL if f in cells}
            variant = _variant(plan, cells, row, currency)
        except CellError as exc:
            rejected.append((number, f"{plan.describe(exc.field)}: {exc.reason}"))
            continue
        for field, value in level.items():
            first_row, first = stated.setdefault(field, (number, value))
            if first != value:
                reason = f"{value!r} differs from {first!r} on row {first_row} of the same product"
                rejected.append((number, f"{plan.describe(field)}: {reason}"))
        if (earlier := sku_rows.setdefault(variant["sku"], number)) != number:
            rejected.append((number, f"{plan.describe('sku')}: {variant['sku']} is on row {earlier} too"))
            continue
        variants.append(variant)
        variant_rows.append(number)
    if rejected:
        raise RowsRejected(rejected)
    values = {field: value for field, (_, value) in stated.items()}
    values.setdefault("name_en", values.get("name", ""))
    first_row = lines[0][0]
    try:
        product = ProductCreate(code=product_code(plan, lines[0][1]), variants=variants, **values)
    except ValidationError as exc:
        raw = {"variants": variants}
        raise RowsRejected(
            [
                rejection_at(plan, [str(p) for p in error["loc"]], error["msg"], first_row, variant_rows, raw)
                for error in exc.errors(include_url=False)
            ]
        ) from None
    return ProductRows(product, first_row, tuple(variant_rows))


def rejection_at(
    plan: ProductColumns,
    loc: Sequence[str],
    rule: str,
    first_row: int,
    variant_rows: Sequence[int],
    product: Mapping[str, Any],
) -> tuple[int, str]:
    """The row and reason for a problem at loc of a product, naming the column where the value was."""
    rule = rule.removeprefix("Value error, ")
    if len(loc) >= 3 and loc[0] == "variants" and loc[1].isdigit():
        index = int(loc[1])
        field = loc[2]
        if field == "prices" and len(loc) >= 4 and loc[3].isdigit():
            field = PRICE_PREFIX + product["variants"][index]["prices"][int(loc[3])]["channel"]
        return variant_rows[index], f"{plan.describe(field)}: {rule}"
    return first_row, f"{plan.describe(loc[0]) if loc else 'product'}: {rule}"
