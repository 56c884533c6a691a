"""Returns at any location: the units come back into the ledger, then are restocked, written off as
damaged, or transferred to a warehouse, each a movement with the return's reference."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationKind
from omni.inventory import ledger, repository
from omni.inventory.errors import InventoryError
from omni.inventory.models import StockMovement

RETURN_DISPOSITIONS = frozenset({"restock", "damaged", "to_warehouse"})


def _any_warehouse(session: Session) -> str:
    warehouses = catalog_service.list_locations(session, kind=LocationKind.WAREHOUSE)
    if not warehouses:
        raise InventoryError(
            "no warehouse to send the return to",
            details=[{"field": "disposition", "rule": "needs a warehouse"}],
        )
    return warehouses[0].code


def accept_return(
    session: Session, *, sku: str, location: str, quantity: int, disposition: str, reference: str
) -> None:
    """Take back returned units at location: restock them, write them off, or send them to the warehouse.

    The same reference twice changes nothing, so a retried return is harmless.
    """
    repository.take_write_turn(session)
    ledger.check_positive(quantity)
    ledger.check_reference(reference)
    if disposition not in RETURN_DISPOSITIONS:
        raise InventoryError(
            f"disposition must be one of {', '.join(sorted(RETURN_DISPOSITIONS))}",
            details=[{"field": "disposition", "rule": f"one of {', '.join(sorted(RETURN_DISPOSITIONS))}"}],
        )
    seen = select(StockMovement.id).where(
        StockMovement.reference == reference, StockMovement.reason == "return"
    )
    if session.scalar(seen.limit(1)) is not None:
        return
    level = ledger.level_for(session, sku, location, create=True)
    ledger.move(session, level, delta=quantity, reason="return", reference=reference, note=disposition)
    if disposition == "damaged":
        ledger.move(
            session, level, delta=-quantity, reason="write_off", reference=reference, note="returned damaged"
        )
    elif disposition == "to_warehouse":
        warehouse = _any_warehouse(session)
        if warehouse != location:
            ledger.move(
                session,
                level,
                delta=-quantity,
                reason="transfer_out",
                reference=reference,
                note=f"to {warehouse}",
            )
            target = ledger.level_for(session, sku, warehouse, create=True)
            ledger.move(
                session,
                target,
                delta=quantity,
                reason="transfer_in",
                reference=reference,
                note=f"from {location}",
            )
