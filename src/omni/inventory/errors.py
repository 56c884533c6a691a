"""Errors of inventory, each carrying its HTTP status."""

from __future__ import annotations

from typing import ClassVar

from omni.kit.errors import ConflictError, NotFoundError, ValidationFailed


class InventoryError(ValidationFailed):
    code: ClassVar[str] = "inventory_invalid"


class NotEnoughStock(ConflictError):
    """Fewer units are free than were asked for; `available` says how many are."""

    code = "not_enough_stock"

    def __init__(self, *, sku: str, location: str, requested: int, available: int) -> None:
        super().__init__(
            f"only {available} of {sku} free at {location}, {requested} asked for",
            details=[
                {
                    "field": "quantity",
                    "rule": f"at most {available} available",
                    "sku": sku,
                    "location": location,
                    "requested": requested,
                    "available": available,
                }
            ],
        )
        self.sku = sku
        self.location = location
        self.requested = requested
        self.available = available


class UnknownReservation(NotFoundError):
    code = "unknown_reservation"


class UnknownAllocation(NotFoundError):
    code = "unknown_allocation"


class AllocationClosed(ConflictError):
    """The allocation was released (cancelled) and can no longer be fulfilled."""

    code = "allocation_closed"
