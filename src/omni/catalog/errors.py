"""Errors of the catalog, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import NotFoundError


class UnknownSku(NotFoundError):
    code = "unknown_sku"


class UnknownLocation(NotFoundError):
    code = "unknown_location"


class UnknownChannel(NotFoundError):
    code = "unknown_channel"


class NoPrice(NotFoundError):
    code = "no_price"


class UnknownProduct(NotFoundError):
    code = "unknown_product"


class UnknownCategory(NotFoundError):
    code = "unknown_category"
