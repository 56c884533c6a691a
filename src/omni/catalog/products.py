"""Saving products with their variants and prices, many at a time.

A save is an upsert keyed by product code and SKU: saving the same products again changes nothing, so an
import can be re-run after a fix and the demo can be loaded twice. Every reference (category, channel) and
every uniqueness rule (a SKU or barcode belongs to one variant) is checked for the whole batch before
anything is written, so a refused batch leaves nothing half-written. New rows go in as multi-row INSERTs:
the demo's 3,700 variants with a price on 9 channels each are a few statements, not 37,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, false, insert, select, text, update
from sqlalchemy.orm import Session

from omni.catalog.models import Category, Price, Product, SalesChannel, Variant
from omni.catalog.schemas import (
    ProductCreate,
    SaveSummary,
)
from omni.kit.errors import ConflictError, ValidationFailed
from omni.kit.time import utc_now

# Any constant works; it names the one lock that orders product saves on PostgreSQL.
SAVE_LOCK_KEY = 0x0CA7_A106
_IN_CHUNK = 5000
PRICE_TABLE = cast(Table, Price.__table__)
PRODUCT_FIELDS = ("name", "name_en", "brand", "description", "active")
VARIANT_FIELDS = ("barcode", "size", "colour", "colour_en", "active")
Row = TypeVar("Row")


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _all_in(session: Session, entity: type[Row], column: Any, values: Iterable[Any]) -> list[Row]:
    """The entity's rows whose column is one of values, in IN lists short enough for either database."""
    distinct = sorted(set(values))
    query = select(entity)
    return [row for chunk in _chunks(distinct) for row in session.scalars(query.where(column.in_(chunk)))]


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


@dataclass
class _Problems:
    """Everything wrong with a batch, each naming the product (its index) and the field."""

    invalid: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def raise_any(self) -> None:
        if self.invalid:
            first = self.invalid[0]
            raise ValidationFailed(f"{first['field']}: {first['rule']}", details=self.invalid)
        if self.conflicts:
            first = self.conflicts[0]
            raise ConflictError(f"{first['field']}: {first['rule']}", details=self.conflicts)


@dataclass
class _Known:
    """The rows a batch refers to, loaded once."""

    categories: dict[str, int]
    channels: dict[str, int]
    products: dict[str, Product]
    variants: dict[str, Variant]  # by SKU: the batch's own SKUs and every variant of its existing products
    barcode_owners: dict[str, Variant]
    product_codes: dict[int, str]
    new_variant_ids: dict[str, int] = field(default_factory=dict)

    def variant_id(self, sku: str) -> int:
        row = self.variants.get(sku)
        return row.id if row is not None else self.new_variant_ids[sku]


def _take_save_lock(session: Session) -> None:
    """Wait until no other transaction is saving products, so that what _load reads stays true.

    Without it two saves of the same new product both find it missing and both insert it: PostgreSQL
    refuses the second at the unique index, SQLite the second writer at its stale snapshot. Saves are
    head-office edits and imports, rare enough that one at a time costs nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SAVE_LOCK_KEY})
    else:
        # A write statement takes SQLite's write lock before this transaction reads anything.
        session.execute(update(Product).where(false()).values(code=Product.code))


def _load(session: Session, products: Sequence[ProductCreate]) -> _Known:
    variants = [v for p in products for v in p.variants]
    categories = _all_in(session, Category, Category.slug, (p.category for p in products))
    channel_codes = (price.channel for v in variants for price in v.prices)
    channels = _all_in(session, SalesChannel, SalesChannel.code, channel_codes)
    existing = _all_in(session, Product, Product.code, (p.code for p in products))
    by_sku = {v.sku: v for v in _all_in(session, Variant, Variant.sku, (v.sku for v in variants))}
    by_sku |= {v.sku: v for v in _all_in(session, Variant, Variant.product_id, (p.id for p in existing))}
    barcodes = (v.barcode for v in variants if v.barcode)
    owners = {v.barcode: v for v in _all_in(session, Variant, Variant.barcode, barcodes) if v.barcode}
    owner_ids = {v.product_id for v in (*by_sku.values(), *owners.values())}
    codes = session.execute(select(Product.id, Product.code).where(Product.id.in_(owner_ids))).all()
    return _Known(
        categories={c.slug: c.id for c in categories},
        channels={c.code: c.id for c in channels},
        products={p.code: p for p in existing},
        variants=by_sku,
        barcode_owners=owners,
        product_codes={row.id: row.code for row in codes},
    )


def _check(products: Sequence[ProductCreate], known: _Known) -> None:
    problems = _Problems()
    first_of_code: dict[str, int] = {}
    product_of_sku: dict[str, str] = {}
    wanted = {v.sku: v.barcode for p in products for v in p.variants}
    for index, product in enumerate(products):
        if (earlier := first_of_code.setdefault(product.code, index)) != index:
            rule = f"product {product.code} is given twice (also as product {earlier})"
            problems.invalid.append({"index": index, "field": "code", "rule": rule})
        if product.category not in known.categories:
            rule = f"no category has slug {product.category!r}"
            problems.invalid.append({"index": index, "field": "category", "rule": rule})
        for v_index, variant in enumerate(product.variants):
            where = f"variants.{v_index}"
            other = product_of_sku.setdefault(variant.sku, product.code)
            if other != product.code:
                rule = f"SKU {variant.sku} is also given to product {other}"
                problems.invalid.append({"index": index, "field": f"{where}.sku", "rule": rule})
            for p_index, price in enumerate(variant.prices):
                if price.channel not in known.channels:
                    rule = f"no sales channel has code {price.channel!r}"
                    problems.invalid.append(
                        {"index": index, "field": f"{where}.prices.{p_index}.channel", "rule": rule}
                    )
            owner = known.variants.get(variant.sku)
            if owner is not None and known.product_codes[owner.product_id] != product.code:
                rule = f"SKU {variant.sku} belongs to product {known.product_codes[owner.product_id]}"
                problems.conflicts.append({"index": index, "field": f"{where}.sku", "rule": rule})
            holder = known.barcode_owners.get(variant.barcode) if variant.barcode else None
            # A barcode may move to this variant when the batch gives its holder another one.
            if (
                holder is not None
                and holder.sku != variant.sku
                and wanted.get(holder.sku, holder.barcode) == holder.barcode
            ):
                rule = f"barcode {variant.barcode} belongs to SKU {holder.sku}"
                problems.conflicts.append({"index": index, "field": f"{where}.barcode", "rule": rule})
    problems.raise_any()


def save_products(
    session: Session, products: Sequence[ProductCreate], *, complete: bool = True
) -> SaveSummary:
    """Create or update products with their variants and prices; all of them or, on a problem, none.

    complete=True (the API's PUT) makes each product exactly as given: variants left out are deactivated
    (order lines may still name them) and prices on channels left out are removed. complete=False (a CSV
    import, which may carry some variants or some channels only) adds and updates and removes nothing.
    Problems raise ValidationFailed (422) or ConflictError (409), each detail naming the product's index in
    products and the field.
    """
    _take_save_lock(session)
    known = _load(session, products)
    _check(products, known)
    summary = SaveSummary()
    now = utc_now()
    changed_codes: set[str] = set()
    new_products = [p for p in products if p.code not in known.products]
    if new_products:
        rows = [
            {
                **{name: getattr(p, name) for name in PRODUCT_FIELDS},
                "code": p.code,
                "category_id": known.categories[p.category],
                "created_at": now,
                "updated_at": now,
            }
            for p in new_products
        ]
        for product_id, code in session.execute(insert(Product).returning(Product.id, Product.code), rows):
            known.product_codes[product_id] = code
            changed_codes.add(code)
        summary.products_created = len(new_products)
    product_ids = {code: row.id for code, row in known.products.items()}
    product_ids |= {code: product_id for product_id, code in known.product_codes.items()}
    for product in products:
        existing = known.products.get(product.code)
        values = {name: getattr(product, name) for name in PRODUCT_FIELDS}
        if existing is not None and _assign(
            existing, {**values, "category_id": known.categories[product.category]}
        ):
            changed_codes.add(product.code)
    _release_moving_barcodes(session, products, known)
    new_variants: list[dict[str, Any]] = []
    variants_of: dict[int, list[Variant]] = {}
    for existing_variant in known.variants.values():
        variants_of.setdefault(existing_variant.product_id, []).append(existing_variant)
    for product in products:
        given = set()
        for variant in product.variants:
            given.add(variant.sku)
            values = {name: getattr(variant, name) for name in VARIANT_FIELDS}
            row = known.variants.get(variant.sku)
            if row is None:
                new_variants.append({**values, "sku": variant.sku, "product_id": product_ids[product.code]})
                changed_codes.add(product.code)
            elif _assign(row, values):
                summary.variants_updated += 1
                changed_codes.add(product.code)
        if complete and product.code in known.products:
            for row in variants_of.get(known.products[product.code].id, []):
                if row.sku not in given and _assign(row, {"active": False}):
                    summary.variants_updated += 1
                    changed_codes.add(product.code)
    if new_variants:
        for variant_id, sku in session.execute(
            insert(Variant).returning(Variant.id, Variant.sku), new_variants
        ):
            known.new_variant_ids[sku] = variant_id
        summary.variants_created = len(new_variants)
    _save_prices(session, products, known, summary, changed_codes, complete=complete)
    for code in changed_codes:
        if code in known.products:
            known.products[code].updated_at = now
    summary.products_updated = len(changed_codes & known.products.keys())
    summary.products_unchanged = len(products) - summary.products_created - summary.products_updated
    session.flush()
    return summary


def _release_moving_barcodes(session: Session, products: Sequence[ProductCreate], known: _Known) -> None:
    # Two variants swapping barcodes would break the unique index halfway through the updates.
    wanted = {v.sku: v.barcode for p in products for v in p.variants}
    moving = [
        row
        for row in known.variants.values()
        if row.sku in wanted and row.barcode and row.barcode != wanted[row.sku]
    ]
    for row in moving:
        row.barcode = None
    if moving:
        session.flush()


def _save_prices(
    session: Session,
    products: Sequence[ProductCreate],
    known: _Known,
    summary: SaveSummary,
    changed_codes: set[str],
    *,
    complete: bool,
) -> None:
    # Plain rows, not ORM objects: a re-run of the demo compares 34,000 prices and changes none.
    variant_ids = sorted({known.variant_id(v.sku) for p in products for v in p.variants})
    existing: dict[int, dict[int, tuple[int, int, str]]] = {}
    columns = select(Price.id, Price.variant_id, Price.channel_id, Price.amount_minor, Price.currency)
    for chunk in _chunks(variant_ids):
        for price_id, variant_id, channel_id, amount, currency in session.execute(
            columns.where(Price.variant_id.in_(chunk))
        ):
            existing.setdefault(variant_id, {})[channel_id] = (price_id, amount, currency)
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    removed: list[int] = []
    for product in products:
        for variant in product.variants:
            variant_id = known.variant_id(variant.sku)
            stored = existing.get(variant_id, {})
            given = set()
            for price in variant.prices:
                channel_id = known.channels[price.channel]
                given.add(channel_id)
                values = {"amount_minor": price.amount_minor, "currency": price.currency}
                row = stored.get(channel_id)
                if row is None:
                    new_rows.append({**values, "variant_id": variant_id, "channel_id": channel_id})
                elif row[1:] != (price.amount_minor, price.currency):
                    changed_rows.append({**values, "id": row[0]})
                else:
                    continue
                summary.prices_written += 1
                changed_codes.add(product.code)
            if complete:
                gone = [row[0] for channel_id, row in stored.items() if channel_id not in given]
                removed += gone
                summary.prices_removed += len(gone)
                if gone:
                    changed_codes.add(product.code)
    for chunk in _chunks(removed):
        session.execute(delete(Price).where(Price.id.in_(chunk)))
    if changed_rows:
        session.execute(update(Price), changed_rows)
    if new_rows:
        # The table, not the entity: the ORM's per-row bookkeeping would cost more than the INSERT.
        session.execute(insert(PRICE_TABLE), new_rows)
