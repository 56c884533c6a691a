"""Shapes of locations, channels, categories and products as the API and importers take and give them."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import is_currency
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CODE_PATTERN = r"^[A-Za-z0-9_.:-]+$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# A tracking source name as the log carries it: crm, web, pos:TPE-XINYI, marketplace:shopee.
SOURCE_PATTERN = r"^[a-z][a-z0-9_-]*(?::[A-Za-z0-9][A-Za-z0-9._-]*)?$"


class LocationKind(StrEnum):
    STORE = "store"
    WAREHOUSE = "warehouse"
    ONLINE = "online"


class LocationFields(BaseModel):
    """A location as PUT /v1/locations/{code} takes it; the code comes from the path."""

    kind: LocationKind
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    city: str = Field("", max_length=100)
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    timezone: str = "Asia/Taipei"
    opening_hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    click_and_collect: bool = False
    daily_pickup_capacity: int = Field(0, ge=0)
    # Units of every SKU kept back here and never promised (display pieces, damage allowance).
    safety_stock: int = Field(0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
            for opens, closes in spans:
                if not (_HHMM.match(opens) and _HHMM.match(closes)):
                    raise ValueError(f"{day}: times are HH:MM, got {opens}-{closes}")
                if opens >= closes:
                    raise ValueError(f"{day}: opens at {opens} but closes at {closes}")
        return value


class LocationCreate(LocationFields):
    code: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)


class LocationRead(LocationCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int


@lru_cache(maxsize=64)
def _currency(value: str) -> str:
    if not (len(value) == 3 and value.isupper() and is_currency(value)):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code such as TWD")
    return value


class ChannelKind(StrEnum):
    WEB = "web"
    APP = "app"
    POS = "pos"
    MARKETPLACE = "marketplace"


class SalesChannelFields(BaseModel):
    """A sales channel as PUT /v1/channels/{code} takes it; the code comes from the path."""

    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=100, pattern=SOURCE_PATTERN)
    store: str | None = Field(None, max_length=64, description="The till's own store, for a POS channel.")
    stock_buffer: int = Field(0, ge=0, description="Units per SKU held back from this channel.")
    locations: list[str] = Field(
        default_factory=list, description="Codes of the locations that may fulfil this channel's orders."
    )

    @model_validator(mode="after")
    def _store_for_tills_only(self) -> SalesChannelFields:
        if self.kind is ChannelKind.POS and not self.store:
            raise ValueError("a pos channel needs the code of its store")
        if self.kind is not ChannelKind.POS and self.store:
            raise ValueError(f"only a pos channel has a store, not a {self.kind.value} channel")
        if len(set(self.locations)) != len(self.locations):
            raise ValueError("locations lists a location twice")
        return self


class SalesChannelCreate(SalesChannelFields):
    code: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)


class SalesChannelRead(SalesChannelCreate):
    id: int


class CategoryFields(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    parent: str | None = Field(None, max_length=64, description="The parent category's slug.")


class CategoryCreate(CategoryFields):
    slug: str = Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)


class CategoryRead(CategoryCreate):
    id: int


class ChannelPrice(BaseModel):
    """A variant's price on one channel, in integer minor units (NT$1,290 is 129000)."""

    channel: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(ge=0, le=2_000_000_000, strict=True)
    currency: str = "TWD"

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return _currency(value)


class VariantIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)
    barcode: str | None = Field(None, max_length=14, pattern=r"^\d+$")
    size: str = Field("", max_length=32)
    colour: str = Field("", max_length=64)
    colour_en: str = Field("", max_length=64)
    active: bool = True
    prices: list[ChannelPrice] = Field(default_factory=list)

    @field_validator("barcode")
    @classmethod
    def _valid_gtin(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value) not in (8, 12, 13, 14):
            raise ValueError(
                f"{value} is not a GTIN: EAN-8, UPC-A, EAN-13 or GTIN-14 have 8, 12, 13 or 14 digits"
            )
        if (check := gtin_check_digit(value[:-1])) != int(value[-1]):
            raise ValueError(f"{value} has a wrong check digit: it should end in {check}")
        return value

    @field_validator("prices")
    @classmethod
    def _one_price_per_channel(cls, value: list[ChannelPrice]) -> list[ChannelPrice]:
        channels = [price.channel for price in value]
        if doubled := sorted({c for c in channels if channels.count(c) > 1}):
            raise ValueError(f"more than one price on channel {', '.join(doubled)}")
        return value


class VariantRead(VariantIn):
    pass


class ProductFields(BaseModel):
    """A product with all its variants, as PUT /v1/products/{code} takes it; the code comes from the path."""

    name: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)
    brand: str = Field("", max_length=100)
    category: str = Field(min_length=1, max_length=64, description="The category's slug.")
    description: str = Field("", max_length=4000)
    active: bool = True
    variants: list[VariantIn] = Field(min_length=1)

    @field_validator("variants")
    @classmethod
    def _distinct_variants(cls, value: list[VariantIn]) -> list[VariantIn]:
        for name in ("sku", "barcode"):
            seen = [getattr(variant, name) for variant in value if getattr(variant, name) is not None]
            if doubled := sorted({s for s in seen if seen.count(s) > 1}):
                raise ValueError(f"{name} {', '.join(doubled)} is given to more than one variant")
        return value


class ProductCreate(ProductFields):
    code: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)


class ProductRead(ProductCreate):
    id: int
    variants: list[VariantRead]  # type: ignore[assignment]
    created_at: datetime
    updated_at: datetime


class ProductSummary(BaseModel):
    """A product in a list: what a search result shows."""

    code: str
    name: str
    name_en: str
    brand: str
    category: str
    active: bool
    variant_count: int
    lowest_price_minor: int | None
    highest_price_minor: int | None
    currency: str | None


class ProductPage(BaseModel):
    items: list[ProductSummary]
    total: int
    limit: int
    offset: int


class VariantProduct(BaseModel):
    code: str
    name: str
    name_en: str
    brand: str
    category: str
    active: bool


class VariantDetail(BaseModel):
    """One SKU as a till or a product page needs it: its product, itself, and its price on each channel."""

    product: VariantProduct
    variant: VariantRead
    prices_by_channel: dict[str, ChannelPrice]


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit of a GTIN's other digits (EAN-8, UPC-A, EAN-13, GTIN-14)."""
    total = sum(int(d) * (3 if position % 2 == 0 else 1) for position, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


class SaveSummary(BaseModel):
    """What saving products changed: rows created and updated, and products left exactly as they were."""

    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    prices_written: int = 0
    prices_removed: int = 0
