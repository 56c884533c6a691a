"""Many cart holds in one transaction: the group commit behind the reservation desk.

The levels a batch touches are read under their row locks in one statement; in the order the holds came, each
takes its units while enough are free, and the rest are told how many are left. Then the winners are stored:
on PostgreSQL by one statement (a conditional UPDATE of every level from arrays, and the INSERT of every row,
in one WITH), on SQLite by one executemany of conditional UPDATEs and one multi-row INSERT. The UPDATEs cannot
miss under the locks, and would refuse rather than oversell if they did. A batch costs three statements on
PostgreSQL (four on SQLite) however many holds and SKUs it has, against four per hold one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from omni.inventory import holds_sql, ledger, repository, service
from omni.inventory.availability import free_units
from omni.inventory.errors import InventoryError, NotEnoughStock
from omni.kit.errors import OmniError
from omni.kit.time import utc_now


@dataclass(frozen=True)
class HoldRequest:
    sku: str
    location: str
    quantity: int
    expires_at: datetime
    reference: str


Outcome = int | OmniError


def _checked(hold: HoldRequest, now: datetime) -> None:
    ledger.check_positive(hold.quantity)
    ledger.check_reference(hold.reference)
    if hold.expires_at.tzinfo is None or hold.expires_at <= now:
        raise InventoryError(
            "expires_at must be an aware time in the future",
            details=[{"field": "expires_at", "rule": "must be in the future"}],
        )


def reserve_many(session: Session, holds: Sequence[HoldRequest]) -> list[Outcome]:
    """Decide every hold; per hold its reservation id, or the error it would have raised alone."""
    repository.take_write_turn(session)
    now = utc_now()
    outcomes, groups = _sorted(holds, now)
    if groups:
        _decide(session, holds, groups, outcomes, now)
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def _sorted(
    holds: Sequence[HoldRequest], now: datetime
) -> tuple[list[Outcome | None], dict[tuple[str, str], list[int]]]:
    """Outcomes so far (the invalid holds refused) and the indexes of the valid ones per (sku, location)."""
    outcomes: list[Outcome | None] = [None] * len(holds)
    taken: set[str] = set()
    groups: dict[tuple[str, str], list[int]] = {}
    for index, hold in enumerate(holds):
        try:
            _checked(hold, now)
            if hold.reference in taken:
                raise _duplicate(hold.reference)
        except OmniError as refused:
            outcomes[index] = refused
            continue
        taken.add(hold.reference)
        groups.setdefault((hold.sku, hold.location), []).append(index)
    return outcomes, groups


def _duplicate(reference: str) -> InventoryError:
    return InventoryError(
        f"reservation {reference!r} already exists",
        details=[{"field": "reference", "rule": "must be unique"}],
    )


def _free_units(session: Session, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(level id, free units) per (sku, location) that has a level, the levels locked until commit."""
    if not pairs:
        return {}
    locked = (
        holds_sql.lock_levels_by_arrays(session, pairs)
        if holds_sql.is_postgresql(session)
        else holds_sql.lock_levels(session, pairs)
    )
    return {
        pair: (
            level.id,
            free_units(
                on_hand=level.on_hand,
                reserved=level.reserved,
                allocated=level.allocated,
                safety_stock=level.safety_stock + ledger.location_of(session, pair[1])[1],
            ),
        )
        for pair, level in locked.items()
    }


def _decide(
    session: Session,
    holds: Sequence[HoldRequest],
    groups: dict[tuple[str, str], list[int]],
    outcomes: list[Outcome | None],
    now: datetime,
) -> None:
    for pair in list(groups):
        try:
            ledger.location_of(session, pair[1])
        except OmniError as refused:
            for index in groups.pop(pair):
                outcomes[index] = refused
    free = _free_units(session, list(groups))
    short = [
        level_id
        for pair, (level_id, units) in free.items()
        if sum(holds[i].quantity for i in groups[pair]) > units
    ]
    # One query asks which short levels have holds whose time is up; only those are expired, one by one.
    lapsed = holds_sql.levels_with_expired_holds(session, short, now=now)
    expired = sum(
        service.expire_reservations(session, now=now, level_id=level_id) for level_id in sorted(lapsed)
    )
    if expired:
        free = _free_units(session, list(groups))
    amounts, rows = _choose(session, holds, groups, free, outcomes, now)
    if not amounts:
        return
    winners = [row for _, row in rows]
    if holds_sql.is_postgresql(session):
        # One statement raises the levels and inserts the rows, however many SKUs the batch spans.
        changed, stored = holds_sql.store_holds(session, amounts, winners, now=now)
    else:
        changed = holds_sql.add_reserved(session, [(level, units) for level, units, _ in amounts], now=now)
        stored = holds_sql.insert_new_reservations(session, winners) if changed == len(amounts) else {}
    if changed != len(amounts):
        raise RuntimeError("stock levels changed under their row locks")
    for index, row in rows:
        reference = str(row["reference"])
        if reference in stored:
            outcomes[index] = stored[reference]
        else:
            outcomes[index] = _duplicate(reference)
            repository.give_back_units(
                session,
                column="reserved",
                level_id=int(str(row["stock_level_id"])),
                quantity=holds[index].quantity,
                now=now,
            )


def _choose(
    session: Session,
    holds: Sequence[HoldRequest],
    groups: dict[tuple[str, str], list[int]],
    free: dict[tuple[str, str], tuple[int, int]],
    outcomes: list[Outcome | None],
    now: datetime,
) -> tuple[list[tuple[int, int, int]], list[tuple[int, dict[str, object]]]]:
    """In the order the holds came, each takes its units while enough are free; the rest are told no.

    Answers (level id, units taken, the location's safety stock) per level and the rows of the winners.
    """
    amounts: list[tuple[int, int, int]] = []
    rows: list[tuple[int, dict[str, object]]] = []
    for (sku, location), indexes in groups.items():
        if (sku, location) not in free:
            answer = _never_stocked(session, sku, location, holds[indexes[0]].quantity)
            for index in indexes:
                outcomes[index] = answer
            continue
        level_id, units = free[(sku, location)]
        total = 0
        for index in indexes:
            hold = holds[index]
            if hold.quantity > units:
                outcomes[index] = NotEnoughStock(
                    sku=sku, location=location, requested=hold.quantity, available=units
                )
                continue
            units -= hold.quantity
            total += hold.quantity
            rows.append((index, _row(hold, level_id, now)))
        if total:
            amounts.append((level_id, total, ledger.location_of(session, location)[1]))
    return amounts, rows


def _never_stocked(session: Session, sku: str, location: str, quantity: int) -> OmniError:
    try:
        ledger.variant_id_of(session, sku)
    except OmniError as unknown:
        return unknown
    return NotEnoughStock(sku=sku, location=location, requested=quantity, available=0)


def _row(hold: HoldRequest, level_id: int, now: datetime) -> dict[str, object]:
    return {
        "reference": hold.reference,
        "stock_level_id": level_id,
        "sku": hold.sku,
        "location_code": hold.location,
        "quantity": hold.quantity,
        "status": "held",
        "expires_at": hold.expires_at,
        "created_at": now,
    }
