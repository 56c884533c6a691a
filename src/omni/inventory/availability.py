"""Pure rules of availability: what may be promised per location and per channel; the nearest stores."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


def free_units(*, on_hand: int, reserved: int, allocated: int, safety_stock: int) -> int:
    """Units a location may still promise: on hand less holds, order lines and safety stock; >= 0."""
    return max(0, on_hand - reserved - allocated - safety_stock)


def channel_atp(free_per_location: Iterable[int], *, stock_buffer: int) -> int:
    """Available-to-promise of a channel: its locations' free units less its own buffer; >= 0."""
    return max(0, sum(free_per_location) - stock_buffer)


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class StoreStock:
    """A store's answer to "is it in stock there?"."""

    location: str
    name: str
    distance_km: float
    available: int
    click_and_collect: bool


def nearest_first(stores: Iterable[StoreStock], *, limit: int) -> list[StoreStock]:
    """Stores ordered by distance, ties by code, at most limit of them."""
    return sorted(stores, key=lambda store: (store.distance_km, store.location))[:limit]


def parse_point(text: str) -> tuple[float, float]:
    """A "lat,lng" pair as floats; ValueError says what is wrong."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError("must be two numbers, latitude,longitude")
    try:
        lat, lng = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError("must be two numbers, latitude,longitude") from None
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise ValueError("must be finite numbers")
    if not -90 <= lat <= 90:
        raise ValueError("latitude must be between -90 and 90")
    if not -180 <= lng <= 180:
        raise ValueError("longitude must be between -180 and 180")
    return lat, lng
