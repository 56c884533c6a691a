"""Stock-change events on the log, appended in the same transaction as the change they describe.

`Inventory Updated` follows every movement of on-hand stock; `Back In Stock` follows a change that takes a
SKU's available-to-promise on a channel from 0 to above 0, so journeys can tell those who were waiting.
Stock is not a person's doing: the events carry one system identity, the anonymousId below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.events import service as events_service
from omni.inventory import repository
from omni.inventory.availability import channel_atp, free_units
from omni.kit.time import utc_now

SOURCE = "omni:inventory"
CHANNEL = "inventory"
SYSTEM_ID = "omni:inventory"
INVENTORY_UPDATED = "Inventory Updated"
BACK_IN_STOCK = "Back In Stock"


def _append(session: Session, event: str, properties: dict[str, Any], at: datetime) -> None:
    payload = {
        "type": "track",
        "event": event,
        "anonymousId": SYSTEM_ID,
        "properties": properties,
        "timestamp": at.isoformat(),
    }
    records = events_service.build_records([payload], source=SOURCE, default_channel=CHANNEL)
    events_service.append_events(session, records)


def inventory_updated(
    session: Session,
    *,
    sku: str,
    location: str,
    on_hand: int,
    available: int,
    reason: str,
    quantity: int,
    reference: str,
    at: datetime,
) -> None:
    """Append `Inventory Updated` for one movement."""
    properties: dict[str, Any] = {
        "sku": sku,
        "location": location,
        "on_hand": on_hand,
        "available": available,
        "reason": reason,
        "quantity": quantity,
    }
    if reference:
        properties["reference"] = reference
    _append(session, INVENTORY_UPDATED, properties, at)


@dataclass(frozen=True)
class ChannelMap:
    """Each channel's buffer and fulfilling locations, and each location's safety stock."""

    channels: dict[str, tuple[int, tuple[str, ...]]]
    safety: dict[str, int]


def channel_map(session: Session) -> ChannelMap:
    """The channels with their buffers and locations, and every location's safety stock."""
    channels = {
        channel.code: (channel.stock_buffer, tuple(channel.locations))
        for channel in catalog_service.list_channels(session)
    }
    safety = {location.code: location.safety_stock for location in catalog_service.list_locations(session)}
    return ChannelMap(channels=channels, safety=safety)


def channel_atps(session: Session, sku: str) -> dict[str, int]:
    """Available-to-promise of sku on every channel, from one read of its levels."""
    mapped = channel_map(session)
    free: dict[str, int] = {}
    for level in repository.all_levels_of(session, sku):
        free[level.location_code] = free_units(
            on_hand=level.on_hand,
            reserved=level.reserved,
            allocated=level.allocated,
            safety_stock=level.safety_stock + mapped.safety.get(level.location_code, 0),
        )
    return {
        channel: channel_atp((free.get(code, 0) for code in codes), stock_buffer=buffer)
        for channel, (buffer, codes) in mapped.channels.items()
    }


@dataclass
class BackInStockWatch:
    """Channel ATP of a SKU before a change; `after` appends `Back In Stock` where it went from 0 to more."""

    sku: str
    before_atp: dict[str, int]

    @classmethod
    def before(cls, session: Session, sku: str) -> BackInStockWatch:
        return cls(sku=sku, before_atp=channel_atps(session, sku))

    def after(self, session: Session) -> list[str]:
        """Append the events; the channels where the SKU came back."""
        if not any(atp == 0 for atp in self.before_atp.values()):
            return []
        now = utc_now()
        back: list[str] = []
        for channel, atp in sorted(channel_atps(session, self.sku).items()):
            if atp > 0 and self.before_atp.get(channel, 0) == 0:
                back.append(channel)
                _append(session, BACK_IN_STOCK, {"sku": self.sku, "channel": channel, "available": atp}, now)
        return back
